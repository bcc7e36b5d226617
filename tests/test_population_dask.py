"""An amendment compared on a Dask cluster gives exactly what one process gives.

A local cluster of two worker processes stands in for a real one: each worker builds the two
policy versions from their spec once, checks it built the same versions, and compares its
chunks; the results come back in input order.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rules.analysis.aggregate import Impact
from rules.analysis.outcome import Outcome
from rules.analysis.population import PolicySpec, Population
from rules.cli.app import app

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]
PEOPLE = ROOT / "examples" / "persons"
SIXTY_DAYS = ROOT / "examples" / "amendments" / "limit-60-days.yaml"
DATES = (dt.date(2026, 1, 1), dt.date(2026, 3, 20))


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as found:
        yield found


def records() -> list[tuple[int, dict[str, Any] | None]]:
    lines = (PEOPLE / "population-2026.jsonl").read_text().splitlines() * 25
    found: list[tuple[int, dict[str, Any] | None]] = [(i, json.loads(line)) for i, line in enumerate(lines)]
    found.insert(11, (len(found), None))  # a record that could not be read keeps its place
    found.insert(
        30, (len(found), {"person_id": "bad", "citizenship": "RU", "trips": [{"entry": "2026-02-30"}]})
    )
    return found


def run(population: Population) -> tuple[list[tuple[int, list[Outcome]]], Impact]:
    impact = Impact("baseline", "amended", population.dates)
    results = []
    for (index, data), outcomes in population.outcomes(records(), lambda item: item):
        impact.add(outcomes, unreadable=data is None)
        results.append((index, outcomes))
    return results, impact


def test_a_local_cluster_of_two_worker_processes_gives_the_single_process_result(cluster: Any) -> None:
    baseline = PolicySpec.of_files(None)
    amended = PolicySpec.of_files(None, [SIXTY_DAYS])
    alone, alone_impact = run(Population(baseline, amended, DATES))
    with distributed.Client(cluster) as client:
        spread, spread_impact = run(Population(baseline, amended, DATES, executor=client, chunk=9))
        workers = client.run(lambda: __import__("os").getpid())
    assert len(workers) == 2
    assert spread == alone
    assert spread_impact == alone_impact
    assert alone_impact.records == len(records())
    assert alone_impact.errors["input"] == 2
    assert alone_impact.changed[dt.date(2026, 3, 20)] == 4 * 25  # RU-70, RU-50, BY-65, KG-DRV


def test_kzmig_compare_on_a_dask_cluster_prints_what_it_prints_alone(cluster: Any, tmp_path: Path) -> None:
    people = tmp_path / "people.jsonl"
    people.write_text("\n".join((PEOPLE / "population-2026.jsonl").read_text().splitlines() * 10) + "\n")
    arguments = ["compare", str(people), "--on", "2026-03-20", "--amend", str(SIXTY_DAYS)]
    runner = CliRunner()
    alone = runner.invoke(app, arguments)
    spread = runner.invoke(app, [*arguments, "--dask", cluster.scheduler_address, "--chunk", "7"])
    assert alone.exit_code == spread.exit_code == 0, spread.stderr
    assert spread.stdout == alone.stdout
    assert "records: 80; changed: 40" in spread.stdout


def test_kzmig_compare_with_dask_workers_reading_the_file_prints_what_it_prints_alone(
    cluster: Any, tmp_path: Path
) -> None:
    """The workers read the blocks of the file themselves (a local cluster shares this file
    system): the bad lines are error records at their lines, the rest compared, as alone."""
    lines = (PEOPLE / "population-2026.jsonl").read_bytes().splitlines() * 30
    lines[7:7] = [b"{not json", b"", b"[1]"]
    people = tmp_path / "people.jsonl"
    people.write_bytes(b"\n".join(lines) + b"\n")
    arguments = ["compare", str(people), "--months", "2026-02..2026-03", "--amend", str(SIXTY_DAYS)]
    runner = CliRunner()
    arguments += ["-f", "json"]
    alone = runner.invoke(app, arguments)
    spread = runner.invoke(app, [*arguments, "--dask", cluster.scheduler_address, "--workers-read"])
    assert alone.exit_code == spread.exit_code == 1, spread.stderr
    assert spread.stdout == alone.stdout
    assert f'"where": "{people}:8"' in spread.stdout
    # Many small blocks, spread over both workers: the same answers, in the same order.
    from rules.analysis.partitions import answers_of_files

    dates = (dt.date(2026, 2, 1), dt.date(2026, 3, 1))
    baseline, amended = PolicySpec.of_files(None), PolicySpec.of_files(None, [SIXTY_DAYS])
    here = list(answers_of_files(Population(baseline, amended, dates), [str(people)], block_bytes=10**9))
    with distributed.Client(cluster) as client:
        population = Population(baseline, amended, dates, executor=client)
        blocks = list(answers_of_files(population, [str(people)], block_bytes=300))
    assert blocks == here
    assert len(here) == 30 * 8 + 2


def test_a_worker_that_builds_another_policy_version_refuses_to_go_on(cluster: Any, tmp_path: Path) -> None:
    spec = PolicySpec.of_files(None, [SIXTY_DAYS])
    pinned = PolicySpec(spec.directory, spec.amendments, "000000000000")
    with distributed.Client(cluster) as client:
        future = client.submit(pinned.load, pure=False)
        with pytest.raises(Exception, match="not 000000000000"):
            future.result()


def test_an_unreachable_scheduler_is_a_clear_usage_error() -> None:
    result = CliRunner().invoke(
        app,
        ["compare", str(PEOPLE / "population-2026.jsonl"), "--on", "2026-03-20",
         "--amend", str(SIXTY_DAYS), "--dask", "tcp://127.0.0.1:1", "--dask-timeout", "1"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in result.stderr


def test_a_bag_of_json_lines_partitions_read_on_the_workers_gives_what_kzmig_compare_gives(
    cluster: Any, tmp_path: Path
) -> None:
    """Records read where they lie (a Dask bag of several partitions, read by the workers),
    bad lines included, give the summary and the changed records of one process on the file."""
    import dask.bag

    from rules.analysis.partitions import impact_of_bag

    lines = (PEOPLE / "population-2026.jsonl").read_bytes().splitlines() * 12
    lines[5:5] = [b"", b"{not json", b'{"person_id": "\xff\xfe", "citizenship": "RU"}', b"[1, 2]"]
    lines.insert(40, b'{"person_id": "bad", "citizenship": "RU", "trips": [{"entry": "2026-02-30"}]}')
    people = tmp_path / "people.jsonl"
    people.write_bytes(b"\n".join(lines) + b"\n")
    summary, changes = tmp_path / "summary.json", tmp_path / "changes.jsonl"
    alone = CliRunner().invoke(
        app,
        ["compare", str(people), "--months", "2026-01..2026-03", "--amend", str(SIXTY_DAYS),
         "--summary", str(summary), "--changes", str(changes)],
    )  # fmt: skip
    assert alone.exit_code == 1, alone.stderr  # the bad lines: error records, the others compared
    dates = (dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1))
    baseline = PolicySpec.of_files(None)
    amended = PolicySpec.of_files(None, [SIXTY_DAYS])
    population = Population(baseline, amended, dates)  # pins the versions the workers must build
    with distributed.Client(cluster):
        bag = dask.bag.read_text(str(people), blocksize=1500, errors="surrogateescape")
        assert bag.npartitions > 3
        impact, changed = impact_of_bag(bag, population.baseline, population.amended, dates, name=str(people))
    expected = json.loads(summary.read_text(encoding="utf-8"))
    assert impact.to_json() == expected
    assert impact.errors["input"] == 4  # not JSON, not UTF-8, not a mapping, no such day
    written = [json.loads(line) for line in changes.read_text(encoding="utf-8").splitlines()]
    assert [json.loads(json.dumps(record)) for record in changed] == written
