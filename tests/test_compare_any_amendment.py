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
import os
from typing import Any

from amending import Amended, amended_records, check_amendment
from budget import examples
from hypothesis import HealthCheck, event, given, reject, settings

from rules.stay.limit import StayLimit

#: Examples drawn per run; ``KZMIG_AMENDMENT_EXAMPLES`` raises it for a longer search
#: (``scripts/fuzz.py --amendments N`` runs the same check at a large size, with timings).
EXAMPLES = int(os.environ.get("KZMIG_AMENDMENT_EXAMPLES", "150"))


@settings(
    max_examples=examples(EXAMPLES),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
@given(case=amended_records())
def test_any_amendment_of_up_to_three_items_leaves_out_only_records_it_cannot_change_and_explains_each_change(
    case: tuple[Amended, list[tuple[dict[str, Any], dt.date]]],
) -> None:
    amended, tried = case
    outcome = check_amendment(amended, tried)
    for kind in amended.kinds:
        event(f"{kind}: {'refused by the policy checks' if outcome == 'refused' else 'loaded'}")
    if outcome == "refused":
        reject()
    event(f"records: {outcome}")


#: What only the stay limit's count and registration read: a record they alone reach is counted
#: again under the amendment rather than evaluated again (``StayLimit.counting_reads``).
COUNTED = StayLimit.counting_reads


@settings(
    max_examples=examples(max(EXAMPLES // 3, 10)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
@given(case=amended_records(only=COUNTED))
def test_any_amendment_of_what_only_the_count_reads_compares_a_record_counted_again_as_one_evaluated_again(
    case: tuple[Amended, list[tuple[dict[str, Any], dt.date]]],
) -> None:
    """A limit, window or convention of counting, a regime's terms or a citizenship's regime
    changed from any day: a record counted again rather than evaluated again under the
    amendment gives the same figures, statuses and law in force as the brute force, and a
    changed record names an amended item."""
    amended, tried = case
    outcome = check_amendment(amended, tried)
    if outcome == "refused":
        reject()
    event(f"records: {outcome}")
