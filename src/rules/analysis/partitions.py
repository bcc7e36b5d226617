"""An amendment across a population read where it lies: a Dask bag of JSON Lines partitions.

:class:`rules.analysis.population.Population` streams the records through the caller, which
hands chunks to workers. At the scale of a border-service extract the records had better stay
where they are: :func:`impact_of_bag` takes a ``dask.bag`` of JSON Lines text (e.g.
``dask.bag.read_text("extract/*.jsonl", errors="surrogateescape")``, read by the workers from
storage they share) and returns the :class:`~rules.analysis.aggregate.Impact` of the whole and
the changed records, in input order. Only the counters and the changed records travel back.

Each partition is compared by a worker that builds the two policy versions once (from their
:class:`~rules.analysis.population.PolicySpec`) and keeps them, as for ``Population``. Records
are numbered as ``kzmig compare`` numbers the lines of one file (blank lines skipped), so the
result equals that of one process on the concatenated partitions: a first, cheap pass counts
each partition's records. A line that cannot be read (too long, not UTF-8, not JSON, not a
mapping) counts as one input error, as in every batch: nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

from rules.analysis.aggregate import Impact
from rules.analysis.population import PolicySpec, built_comparison, compare_record
from rules.policy.documents import DocumentError, decode, parse_json

__all__ = ["MAX_LINE_BYTES", "impact_of_bag"]

#: The longest line of a partition: one person's record (as for a JSON Lines file).
MAX_LINE_BYTES = 1024 * 1024


def impact_of_bag(
    lines: Any,
    baseline: PolicySpec,
    amended: PolicySpec,
    dates: Sequence[dt.date],
    *,
    group_by: Sequence[str] = (),
    name: str = "records",
) -> tuple[Impact, list[dict[str, Any]]]:
    """The impact of ``amended`` against ``baseline`` on ``dates`` over the JSON Lines text of
    the bag ``lines`` (one record a line), and the changed records (``{"record", "as_of",
    "person_id", "changed", "before", "after", "why", ...}``, in input order).

    ``baseline`` and ``amended`` must be pinned to the versions the caller expects (see
    :meth:`PolicySpec.pinned`): a worker that builds another version refuses to go on. ``name``
    names the input in the changed records' ``where``."""
    # Only for this path: the rest of kzmig runs without Dask.
    from dask.base import compute
    from dask.delayed import delayed

    comparison = built_comparison(baseline, amended)
    impact = Impact.of(comparison, dates)
    counts = lines.map_partitions(_count_records).compute()
    offsets = [0, *itertools.accumulate(counts)][:-1]
    tasks = [
        delayed(_partition_impact)(part, offset, baseline, amended, tuple(dates), tuple(group_by), name)
        for part, offset in zip(lines.to_delayed(), offsets, strict=True)
    ]
    changed: list[dict[str, Any]] = []
    results: tuple[tuple[Impact, list[dict[str, Any]]], ...] = compute(*tasks)  # type: ignore[no-untyped-call]
    for part_impact, part_changed in results:
        impact.merge(part_impact)
        changed.extend(part_changed)
    return impact, changed


def _count_records(lines: Iterable[str]) -> list[int]:
    """The number of records of one partition (its lines that are not blank)."""
    return [sum(1 for line in lines if line.strip())]


def _partition_impact(
    lines: Iterable[str],
    offset: int,
    baseline: PolicySpec,
    amended: PolicySpec,
    dates: tuple[dt.date, ...],
    group_by: tuple[str, ...],
    name: str,
) -> tuple[Impact, list[dict[str, Any]]]:
    """Compare the records of one partition (numbered from ``offset``): its impact and its
    changed records. The unit of work of a Dask task."""
    comparison = built_comparison(baseline, amended)
    impact = Impact.of(comparison, dates, law=False)
    changed: list[dict[str, Any]] = []
    index = offset
    for line in lines:
        if not line.strip():
            continue
        where = f"{name} record {index}"
        data = _record(line, where)
        if data is None:
            impact.add((), unreadable=True)
        else:
            outcomes = compare_record(comparison, index, data, dates, group_by)
            impact.add(outcomes)
            changed.extend(
                {"record": index, **outcome.detail} for outcome in outcomes if outcome.detail is not None
            )
        index += 1
    return impact, changed


def _record(line: str, where: str) -> dict[str, Any] | None:
    """The record of one line, or ``None`` when it cannot be read: longer than
    :data:`MAX_LINE_BYTES`, not UTF-8 (read with ``errors="surrogateescape"``, a byte that is
    not UTF-8 comes back here as it was), not strict JSON, or not a mapping."""
    data = line.encode("utf-8", "surrogateescape")
    if len(data) > MAX_LINE_BYTES:
        return None
    try:
        item = parse_json(decode(data, where), where)
    except DocumentError:
        return None
    return item if isinstance(item, dict) else None
