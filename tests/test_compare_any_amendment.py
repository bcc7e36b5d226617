"""Any amendment of a few items of the law, over any record: what a comparison leaves out is
what cannot change, and every change is explained by an item amended.

``kzmig compare`` evaluates a record once when no difference in the law can reach it
(``Comparison(skip_unaffected=True)``: what each programme reads, guards, table rows looked up
by keys the record does not hold). A record left out wrongly would be reported unchanged when
it changed: the worst failure an impact analysis can have. The other tests check the shipped
example amendments and a few written for them; these draw the amendment as well
(``tests/amending.py``: one to three parameters, table rows, new rows, rules, formulas of
computed facts or repealed rules of the shipped policy, each changed from any day), and the
record from every example population, example case and generated traveller, judged on any day
near the amendment's first.

Checked against the brute-force comparison, which evaluates every record under both versions:
the same changed figures, statuses and amended figures, or the same error. And a record that
changed names, in its why, an item of the law the amendment changed.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from typing import Any

from amending import Amended, amendments
from hypothesis import HealthCheck, event, given, reject, settings
from hypothesis import strategies as st
from test_compare import _every_example_record, same_when_skipping
from test_fast_paths_guards import _kept
from test_fast_paths_verdict import POLICY
from test_residence import persons as applicants
from test_social_contract import contracts
from test_stay_properties import any_persons, cases

import rules
from rules.analysis.impact import Comparison
from rules.policy.loader import AmendmentText

#: The programme an item of the law belongs to, by the start of its name, and the top-level
#: key of the records that programme judges (the others are travellers).
_RECORD_OF = {
    "residence": "residence_application",
    "social_contract": "social_contract",
    "country": "social_contract",
}
#: Examples drawn per run; ``KZMIG_AMENDMENT_EXAMPLES`` raises it for a longer search.
EXAMPLES = int(os.environ.get("KZMIG_AMENDMENT_EXAMPLES", "150"))


@functools.cache
def _records(key: str | None) -> list[tuple[dict[str, Any], dt.date]]:
    """The example records (of those holding ``key``; ``None``: travellers, the others)."""
    every = _every_example_record()
    if key is None:
        return [(record, on) for record, on in every if not set(_RECORD_OF.values()) & set(record)]
    return [(record, on) for record, on in every if key in record]


@functools.lru_cache(maxsize=64)
def _comparisons(text: str) -> tuple[Comparison, Comparison] | None:
    try:
        policy = rules.load_policy(POLICY, amendments=[AmendmentText(text, "random-amendment.yaml")])
    except rules.PolicyError:
        return None  # refused by the policy's checks: a valid refusal, not a case to compare
    baseline, amended = _kept()[0], rules.Evaluator(policy)
    return Comparison(baseline, amended), Comparison(baseline, amended, skip_unaffected=True)


def _texts(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return set().union(*(_texts(item) for item in items))


#: Every text the example records hold: the row keys an amendment draws more often.
HELD = frozenset(_texts([record for record, _ in _every_example_record()]))


@st.composite
def records(draw: st.DrawFn, amended: Amended) -> tuple[dict[str, Any], dt.date]:
    """A record of the examples, judged on its own day or on a day near the amendment's first,
    or a generated traveller, applicant or family on the day of its case. Most are of the
    programme an amended item belongs to (an applicant for the residence programme's items)."""
    item = draw(st.sampled_from(amended.items))
    head = item.removeprefix("rule ").partition(".")[0]
    key = (
        _RECORD_OF.get(head)
        if draw(st.integers(0, 3))
        else draw(st.sampled_from([None, *_RECORD_OF.values()]))
    )
    if draw(st.integers(0, 3)) == 0:  # generated: a traveller, an applicant or a family
        if key == "residence_application":
            return draw(applicants())
        if key == "social_contract":
            contract, on = draw(contracts())
            return {"person_id": "KD-1", "citizenship": "CN", "social_contract": contract}, on
        return draw(cases(any_persons()))
    pool = _records(key)
    row_key = item.partition("[")[2][:-1]
    holding = [(record, on) for record, on in pool if row_key and row_key in _texts(record)]
    record, on = draw(st.sampled_from(holding if holding and draw(st.booleans()) else pool))
    shift = draw(st.sampled_from([None, -1, 0, 1, 45, 200]))
    if shift is not None:
        on = amended.start + dt.timedelta(days=shift)
    return record, on


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data(), amended=amendments(HELD))
def test_any_amendment_of_up_to_three_items_leaves_out_only_records_it_cannot_change_and_explains_each_change(
    data: st.DataObject, amended: Amended
) -> None:
    found = _comparisons(amended.text)
    for kind in amended.kinds:
        event(f"{kind}: {'refused by the policy checks' if found is None else 'loaded'}")
    if found is None:
        reject()
    full, skipping = found
    changed = 0
    for _ in range(12):
        record, on = data.draw(records(amended))
        same_when_skipping(full, skipping, record, on)
        try:
            difference = full.compare(record, on)
        except rules.KzmigError:
            continue
        if difference.changed:
            changed += 1
            named = {law.name for law in difference.why.law}
            assert named & set(amended.items), (amended.items, named, difference.changed)
    event(f"records changed of 12: {'none' if not changed else 'some' if changed < 12 else 'all'}")
