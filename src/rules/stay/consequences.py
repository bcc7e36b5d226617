"""The consequences of an overstay: the facts the ``sanction`` and ``entry`` rules read, and the
values their decisions report.

What the law says -- the tiers of art. 517, the fine in MCI, the entry ban, refusal of entry
under art. 48 and its suspensions -- lives in the policy's rules and parameters. This module
only derives facts from the stay figures:

* both: ``stay_status``, the status the stay limit decided (the first phase of evaluation);
* ``sanction``: ``overstay_days`` (all overstay days in the record), ``period_days`` and
  ``period_end`` (the latest run of consecutive overstay days: the offence the sanction is
  for; earlier runs are reported in the stay figures, not assessed again);
* ``entry``: ``entry_day`` (a trip enters on the evaluation date) and ``over_limit`` (the
  window ending on that day holds more counted days than the limit: entering makes the day an
  overstay day).

Values a decision reports are literals or parameters in force on the evaluation date; a value
named ``<x>_mci`` is also given in tenge as ``<x>_kzt`` with parameter ``money.mci_kzt``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from models.person import Person
from models.policy import ParamRef, Rule
from rules.errors import EvaluationError
from rules.policy.loader import Policy
from rules.stay.limit import Derived

__all__ = ["MCI_PARAMETER", "consequence_facts", "decision_values"]

MCI_PARAMETER = "money.mci_kzt"


def consequence_facts(
    person: Person, as_of: dt.date, derived: Derived, stay_status: str
) -> list[dict[str, Any]]:
    """The ``sanction`` and ``entry`` facts for a case the stay limit counted (else none),
    with the stay status the policy decided for it."""
    figures = derived.figures
    if figures is None or derived.limit is None:
        return []
    day = as_of.toordinal()
    common: dict[str, Any] = {"as_of": day, "stay_status": stay_status}
    if person.citizenship is not None:
        common["citizenship"] = person.citizenship
    sanction: dict[str, Any] = {"id": "sanction", "t": "sanction", **common}
    sanction["overstay_days"] = len(figures.overstay_days)
    if figures.periods:
        first, last = figures.periods[-1]
        sanction["period_days"] = last - first + 1
        sanction["period_end"] = last
    entry: dict[str, Any] = {
        "id": "entry",
        "t": "entry",
        **common,
        "entry_day": any(trip.entry == as_of for trip in person.trips or ()),
        "over_limit": figures.days_used > derived.limit,
    }
    return [sanction, entry]


def decision_values(policy: Policy, rule: Rule, as_of: dt.date) -> tuple[dict[str, Any], list[str]]:
    """The values ``rule`` reports on ``as_of`` (parameters resolved), and warnings for any
    value the policy does not give on that date."""
    values: dict[str, Any] = {}
    warnings: list[str] = []
    for name, spec in rule.then.values.items():
        value = _resolve(policy, spec, as_of, warnings)
        values[name] = value
        if name.endswith("_mci"):
            kzt = name[: -len("_mci")] + "_kzt"
            mci = _resolve(policy, ParamRef(param=MCI_PARAMETER), as_of, warnings)
            values[kzt] = (
                value * mci if isinstance(value, int | float) and isinstance(mci, int | float) else None
            )
    return values, warnings


def _resolve(policy: Policy, spec: Any, as_of: dt.date, warnings: list[str]) -> Any:
    if not isinstance(spec, ParamRef):
        return spec.isoformat() if isinstance(spec, dt.date) else spec
    try:
        return policy.parameter(spec.param, as_of).value
    except EvaluationError:
        warnings.append(f"parameter {spec.param} has no value on {as_of}: the figure is left out")
        return None
