"""Fuzz tests at a small size: whatever the record, the batch line or the policy file, kzmig
answers or refuses with a clear, bounded error -- never a crash, never a lost record.

The strategies and checks are in ``tests/fuzzing.py``; ``scripts/fuzz.py`` runs them at a large
size with timings and memory.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from budget import examples
from fuzzing import (
    batch_lines,
    check_batch,
    check_policy_text,
    check_record,
    dates,
    hostile_records,
    policy_texts,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(record=hostile_records(), on=dates)
def test_any_record_gets_a_valid_verdict_or_a_bounded_kzmig_error(record: Any, on: dt.date) -> None:
    check_record(record, on)


@settings(FUZZ, max_examples=examples(40))
@given(lines=batch_lines)
def test_any_batch_gives_one_result_or_one_error_record_per_line_in_order(lines: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        check_batch(Path(folder) / "batch.jsonl", lines)


@settings(FUZZ, max_examples=examples(40))
@given(text=policy_texts())
def test_any_damaged_policy_file_loads_or_names_its_problems_and_places(text: str) -> None:
    check_policy_text(text)


@settings(FUZZ, max_examples=examples(40))
@given(text=st.text(max_size=300))
def test_any_text_as_an_amendment_loads_or_names_its_problems(text: str) -> None:
    check_policy_text(text)
