"""``kzmig compare`` and ``rules.compare``: which verdicts an amendment changes, and why.

Every programme is compared (the stay figures, the sanction and the entry check reported in
the stay section, registration, residence, the social contract); a record may carry what only
one version knows; the why names the rules that decided differently and the law that differs.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_residence import application
from typer.testing import CliRunner

import rules
from models.person import Person
from rules.analysis.impact import Comparison, Difference
from rules.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
AMENDMENTS = ROOT / "examples" / "amendments"
POPULATION = str(ROOT / "examples" / "persons" / "population-2026.jsonl")
SIXTY_DAYS = str(AMENDMENTS / "limit-60-days.yaml")
ON = dt.date(2026, 3, 20)
runner = CliRunner()

SOURCE = """\
x-sources:
  what_if: &what_if
    title: "A hypothetical amendment written by the tests; not law"
    href: https://adilet.zan.kz/rus/docs/K1400000235
"""


def amendment(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(f'schema: kzmig/policy/2\ntitle: "{name}"\n{SOURCE}{body}', encoding="utf-8")
    return str(path)


def dated(name: str, unit: str, *values: tuple[str, int], source: str = "what_if") -> str:
    """One parameter with dated values, as an amendment written by a test gives it (its
    description says it is a test's)."""
    rows = "".join(
        f"      - {{from: {start}, value: {value}, source: *{source}}}\n" for start, value in values
    )
    return f"  {name}:\n    description: {name}, as a test amends it.\n    unit: {unit}\n    values:\n{rows}"


@pytest.fixture(scope="module")
def baseline() -> rules.Evaluator:
    return rules.Evaluator(rules.load_policy())


def person(person_id: str, *trips: tuple[str, str | None], **more: Any) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "citizenship": more.pop("citizenship", "RU"),
        "trips": [{"entry": entry, **({"exit": exit} if exit else {})} for entry, exit in trips],
        **more,
    }


# The library --------------------------------------------------------------------------------


def test_2026_03_20_russian_with_70_days_is_compliant_at_90_and_overstays_at_60(baseline) -> None:
    amended = rules.Evaluator(rules.load_policy(amendments=[SIXTY_DAYS]))
    difference = rules.compare(baseline, amended, person("RU-70", ("2026-01-05", "2026-03-15")), ON)
    assert difference.changed[:2] == ("stay.status", "stay.overstay_days")
    assert "stay.sanction.status" in difference.changed
    assert difference.statuses["stay"] == ("compliant", "overstay")
    assert difference.statuses["sanction"] == (None, "fine")
    assert difference.before.policy.version != difference.after.policy.version
    document = difference.to_json()
    assert document["before"]["stay.status"] == "compliant"
    assert document["after"]["stay.overstay_days"] == 10
    law = document["why"]["law"]
    assert law == [{"kind": "parameter", "name": "stay.limit_days", "before": 90, "after": 60}]
    rules_changed = {change["rule"]: change for change in document["why"]["rules"]}
    assert rules_changed["stay.overstay"] == {
        "rule": "stay.overstay",
        "before": None,
        "after": "overstay, decisive",
        "effect": "newly decides",
    }
    assert rules_changed["stay.compliant"]["before"] == "compliant, decisive"


def test_same_policy_on_both_sides_changes_nothing(baseline) -> None:
    difference = rules.compare(baseline, baseline, person("RU-50", ("2026-02-01", None)), ON)
    assert difference.changed == ()
    assert difference.why.rules == () and difference.why.law == ()


def test_2026_04_10_a_doubled_art_517_fine_changes_the_fine_of_a_4_day_overstay(tmp_path, baseline) -> None:
    doubled = amendment(
        tmp_path,
        "fine-20-mci.yaml",
        """parameters:
  sanction.fine_mci:
    description: The fine for an overstay of more than 3 and up to 5 days.
    unit: MCI
    values:
      - {from: 2023-01-27, value: 20, source: *what_if}
""",
    )
    amended = rules.Evaluator(rules.load_policy(amendments=[doubled]))
    fined = person("F-4", ("2026-01-01", "2026-04-04"))
    difference = rules.compare(baseline, amended, fined, dt.date(2026, 4, 10))
    # Before this version, compare saw only the stay figures and reported no change here.
    assert difference.changed == ("stay.sanction.values.fine_mci", "stay.sanction.values.fine_kzt")
    assert (
        difference.figures_before["stay.sanction.values.fine_kzt"] * 2
        == (difference.figures_after["stay.sanction.values.fine_kzt"])
    )
    assert [d.name for d in difference.why.law] == ["sanction.fine_mci"]
    assert difference.why.rules == ()  # the same rule decided: only its value moved


def test_2026_04_10_a_later_host_notification_deadline_changes_the_registration_due_day(
    tmp_path, baseline
) -> None:
    later = amendment(
        tmp_path,
        "notify-in-5-working-days.yaml",
        """parameters:
  registration.host_notification_working_days:
    description: Working days the host has to notify.
    unit: working days
    values:
      - {from: 2023-01-27, value: 5, source: *what_if}
""",
    )
    policy = rules.load_policy()
    assert "registration.host_notification_working_days" in policy.parameters
    amended = rules.Evaluator(rules.load_policy(amendments=[later]))
    arriving = person("R-1", ("2026-04-06", None))
    difference = rules.compare(baseline, amended, arriving, dt.date(2026, 4, 7))
    assert "stay.registration.due" in difference.changed
    assert (
        difference.figures_before["stay.registration.due"] < difference.figures_after["stay.registration.due"]
    )
    assert [d.name for d in difference.why.law] == ["registration.host_notification_working_days"]


def test_2026_04_10_a_status_kind_only_the_amendment_knows_is_absent_under_the_baseline(
    tmp_path, baseline
) -> None:
    exempting = amendment(
        tmp_path,
        "seasonal-workers.yaml",
        """status_kinds:
  seasonal_farm_worker:
    description: A seasonal farm worker on a registered contract.
    source: *what_if
rules:
  - id: stay.exemption.seasonal_farm_worker
    title: Seasonal farm workers are outside the limit
    source: *what_if
    from: 2026-01-01
    exempts: seasonal_farm_worker
    overrides: [stay.limit]
    then: {status: exempt}
""",
    )
    amended = rules.Evaluator(rules.load_policy(amendments=[exempting]))
    worker = person(
        "SF-1",
        ("2026-01-01", "2026-04-20"),
        statuses=[{"kind": "seasonal_farm_worker", "valid_from": "2026-01-01", "valid_to": "2026-12-31"}],
    )
    difference = rules.compare(baseline, amended, worker, dt.date(2026, 4, 10))
    assert difference.statuses["stay"] == ("overstay", "exempt")
    assert difference.notes == (
        "statuses[0].kind: unknown status kind 'seasonal_farm_worker': "
        "treated as absent under the baseline policy",
    )
    law = {d.name for d in difference.why.law}
    assert law == {"rule stay.exemption.seasonal_farm_worker"}
    # the kind is a difference in the law on every date, whether or not a record uses it
    all_law = Comparison(baseline, amended).law(dt.date(2026, 4, 10))
    assert "status kind seasonal_farm_worker" in {d.name for d in all_law}
    # the same record with a kind neither version knows is an input error, not a comparison
    worker["statuses"][0]["kind"] = "seasonal_farm_wroker"
    with pytest.raises(rules.InputError):
        rules.compare(baseline, amended, worker, dt.date(2026, 4, 10))


#: The applicant of the residence tests with 29 % of the listening block: refused by
#: residence.language.listening, the only gate she fails.
LISTENING_29 = {"person_id": "RA-29", "residence_application": application(language_test__listening_pct=29)}


def test_2026_06_01_an_amendment_leaving_an_applicant_without_a_decision_changes_the_verdict(
    tmp_path, baseline
) -> None:
    """Repealing the listening gate leaves no rule to decide an applicant who failed only it: the
    amendment's impact is that the residence programme decides nothing for her. It is a changed
    record (refused -> no decision), with a note and the repeal in its why, not an error record
    of a case the law does not decide (the baseline decides it)."""
    repealing = rules.Evaluator(
        rules.load_policy(
            amendments=[amendment(tmp_path, "no-listening.yaml", "repeals: [residence.language.listening]\n")]
        )
    )
    on = dt.date(2026, 6, 1)
    for comparison in (
        Comparison(baseline, repealing),
        Comparison(baseline, repealing, skip_unaffected=True),
    ):
        difference = comparison.compare(LISTENING_29, on)
        assert difference.statuses["residence"] == ("refused", None)
        assert "residence.status" in difference.changed
        assert "residence" not in difference.after.sections
        assert difference.notes == (
            "under the amended policy no rule in force decides the residence status on 2026-06-01: "
            "the programme is left out of its verdict",
        )
        assert any("decides no residence status" in warning for warning in difference.after.warnings)
        assert "rule residence.language.listening" in {law.name for law in difference.why.law}
    # the other way round, the baseline leaves her undecided and the amendment decides
    back = Comparison(repealing, baseline).compare(LISTENING_29, on)
    assert back.statuses["residence"] == (None, "refused")
    assert back.notes[0].startswith("under the baseline policy no rule in force decides the residence status")
    # a record neither version decides is what it was: a case the law does not decide
    with pytest.raises(
        rules.EvaluationError, match="^under both policies: policy kz .* decides no residence"
    ):
        Comparison(repealing, repealing).compare(LISTENING_29, on)
    with pytest.raises(rules.EvaluationError, match="decides no residence status"):
        repealing.evaluate(LISTENING_29, on)


def test_2026_09_01_a_stay_the_amended_policy_cannot_judge_is_an_error_naming_that_policy(
    tmp_path, baseline
) -> None:
    """The window of the stay limit ended from 3 June 2026: the amended policy cannot judge a
    stay on 1 September (every verdict has a stay section, so it cannot be left out). The
    record is an error, and the error says which version could not judge it."""
    ended = rules.Evaluator(
        rules.load_policy(
            amendments=[
                amendment(
                    tmp_path,
                    "no-window.yaml",
                    "parameters:\n"
                    + dated("stay.window_days", "days", ("2023-01-27", 180))
                    + "      - {from: 2026-06-03, value: null, source: *what_if}\n",
                )
            ]
        )
    )
    traveller = person("W-1", ("2026-08-01", "2026-08-20"))
    expected = (
        "^under the amended policy: parameter 'stay.window_days' of policy kz has no value on "
        "2026-09-01, a day the stay limit must judge$"
    )
    for comparison in (Comparison(baseline, ended), Comparison(baseline, ended, skip_unaffected=True)):
        with pytest.raises(rules.EvaluationError, match=expected):
            comparison.compare(traveller, dt.date(2026, 9, 1))
    with pytest.raises(
        rules.EvaluationError, match="^under the baseline policy: parameter 'stay.window_days'"
    ):
        Comparison(ended, baseline).compare(traveller, dt.date(2026, 9, 1))


# The law of the past: a verdict given today judges past days by the law of their day -------------

LIMIT_IN_2024_ONLY = "parameters:\n" + dated(
    "stay.limit_days", "days", ("2023-01-27", 90), ("2024-01-01", 60), ("2025-01-01", 90)
)
MCI_OF_2024_RAISED = "parameters:\n" + dated(
    "money.mci_kzt",
    "KZT",
    ("2023-01-01", 3450),
    ("2024-01-01", 5000),
    ("2025-01-01", 3932),
    ("2026-01-01", 4325),
)
#: 96 days in Kazakhstan early in 2024: 6 days over a 90-day limit, 36 over a 60-day one.
LEFT_IN_APRIL_2024 = {
    "person_id": "T-1",
    "citizenship": "RU",
    "trips": [{"entry": "2024-01-01", "exit": "2024-04-05"}],
}


def test_2026_03_01_a_limit_amended_for_2024_only_changes_an_overstay_of_2024_and_says_when(
    tmp_path: Path,
) -> None:
    people = tmp_path / "people.jsonl"
    people.write_text(json.dumps(LEFT_IN_APRIL_2024) + "\n", encoding="utf-8")
    amended = amendment(tmp_path, "limit-60-in-2024.yaml", LIMIT_IN_2024_ONLY)
    result = runner.invoke(
        app, ["compare", str(people), "--on", "2026-03-01", "--amend", amended, "--show", "1"]
    )
    assert result.exit_code == 0, result.stderr
    assert "records: 1; changed: 1; unchanged: 0; errors: 0" in result.stdout
    assert "stay.overstay_days 6 -> 36" in result.stdout
    assert "sanction: fine -> fine_or_expulsion: 1" in result.stdout
    assert "parameter stay.limit_days: 90 -> 60 from 2024-01-01 to 2024-12-31: 1" in result.stdout
    report = tmp_path / "report.html"
    result = runner.invoke(
        app, ["compare", str(people), "--on", "2026-03-01", "--amend", amended, "--report", str(report)]
    )
    assert result.exit_code == 0, result.stderr
    text = re.sub(r"<[^>]+>", "", report.read_text(encoding="utf-8"))
    assert "2024-01-01 to 2024-12-31" in text


def test_2026_03_01_an_mci_amended_for_2024_only_changes_the_tenge_of_a_fine_of_2024(tmp_path: Path) -> None:
    amended = rules.Evaluator(
        rules.load_policy(amendments=[amendment(tmp_path, "mci.yaml", MCI_OF_2024_RAISED)])
    )
    skipping = Comparison(rules.Evaluator(rules.load_policy()), amended, skip_unaffected=True)
    difference = skipping.compare(LEFT_IN_APRIL_2024, dt.date(2026, 3, 1))
    assert difference.changed == ("stay.sanction.values.fine_kzt",)
    assert (
        difference.figures_before["stay.sanction.values.fine_kzt"],
        difference.figures_after["stay.sanction.values.fine_kzt"],
    ) == (15 * 3692, 15 * 5000)
    [law] = difference.why.law
    assert (law.name, law.before, law.after, law.start, law.end) == (
        "money.mci_kzt",
        3692,
        5000,
        dt.date(2024, 1, 1),
        dt.date(2024, 12, 31),
    )
    assert law.to_json() == {
        "kind": "parameter",
        "name": "money.mci_kzt",
        "before": 3692,
        "after": 5000,
        "from": "2024-01-01",
        "to": "2024-12-31",
    }


def test_2027_07_01_a_certificate_cap_amended_for_2025_only_reaches_a_certificate_paid_in_2025(
    tmp_path: Path,
) -> None:
    """The cap is read on the day a certificate was paid: KD-1's certificate of 1 Sep 2025 is at
    the cap of 1,160 MCI, and above one of 1,000 MCI in force in 2025 alone."""
    amended = amendment(
        tmp_path,
        "cap-of-2025.yaml",
        "parameters:\n"
        + dated(
            "social_contract.housing_certificate_cap_mci",
            "MCI",
            ("2023-06-22", 1160),
            ("2025-01-01", 1000),
            ("2026-01-01", 1625),
        ),
    )
    family = str(ROOT / "examples" / "persons" / "kandas-KD-1.yaml")
    result = runner.invoke(app, ["compare", family, "--on", "2027-07-01", "--amend", amended, "--show", "1"])
    assert result.exit_code == 0, result.stderr
    assert "records: 1; changed: 1; unchanged: 0; errors: 0" in result.stdout
    assert (
        "KD-1: social_contract.certificates_over_cap - -> [{kind housing_certificate, paid_on 2025-09-01"
        in (result.stdout)
    )
    assert "social_contract.housing_certificate_cap_mci: 1160 -> 1000 from 2025-01-01 to 2025-12-31: 1" in (
        result.stdout
    )


def test_2027_07_01_an_amendment_that_reaches_no_record_still_says_what_differs(tmp_path: Path) -> None:
    """'no changes' alone would read as 'the same law': the differences are listed."""
    amended = amendment(
        tmp_path,
        "relocation-of-2025.yaml",
        "parameters:\n"
        + dated(
            "social_contract.relocation_subsidy_mci_per_member",
            "MCI",
            ("2023-06-22", 70),
            ("2025-01-01", 50),
            ("2026-01-01", 70),
        ),
    )
    family = str(ROOT / "examples" / "persons" / "kandas-KD-1.yaml")
    result = runner.invoke(
        app, ["compare", family, "--on", "2027-07-01", "--on", "2027-08-01", "--amend", amended]
    )
    assert result.exit_code == 0, result.stderr
    # KD-1's subsidy of 2025 is above both limits: the warning and its list are the same
    assert result.stdout.endswith(
        "no changes.\n"
        "the law that differs changes none of these verdicts:\n"
        "  parameter social_contract.relocation_subsidy_mci_per_member: 70 -> 50"
        " from 2025-01-01 to 2025-12-31\n"
    )


def test_law_differences_lists_the_law_of_the_day_then_of_earlier_days_then_of_later_days(
    tmp_path: Path,
) -> None:
    from rules.analysis.law import law_differences

    body = "parameters:\n" + "".join(
        (
            dated(
                "stay.limit_days",
                "days",
                ("2023-01-27", 90),
                ("2024-01-01", 60),
                ("2024-07-01", 70),
                ("2025-01-01", 90),
                ("2026-01-01", 80),
            ),
            dated(
                "money.mci_kzt",
                "KZT",
                ("2023-01-01", 3450),
                ("2024-01-01", 3692),
                ("2025-01-01", 4000),
                ("2026-01-01", 4325),
            ),
            dated("sanction.fine_mci", "MCI", ("2023-01-27", 10), ("2027-01-01", 20)),
        )
    )
    baseline, amended = (
        rules.load_policy(),
        rules.load_policy(amendments=[amendment(tmp_path, "a.yaml", body)]),
    )
    found = {d.name: d for d in law_differences(baseline, amended, dt.date(2026, 3, 1))}
    assert list(found) == ["stay.limit_days", "money.mci_kzt", "sanction.fine_mci"]
    # in force on the day: no days given
    assert (found["stay.limit_days"].after, found["stay.limit_days"].start, found["stay.limit_days"].end) == (
        80,
        None,
        None,
    )
    # only before the day: its first run of days (2025 only), with the values of its first day
    assert (found["money.mci_kzt"].before, found["money.mci_kzt"].after) == (3932, 4000)
    assert (found["money.mci_kzt"].start, found["money.mci_kzt"].end) == (
        dt.date(2025, 1, 1),
        dt.date(2025, 12, 31),
    )
    # only after the day: its first day
    assert (found["sanction.fine_mci"].start, found["sanction.fine_mci"].end) == (dt.date(2027, 1, 1), None)
    # on a day of 2025: the limit of 2024 differs in a run of two values, 2024-01-01 to 2024-12-31
    earlier = {d.name: d for d in law_differences(baseline, amended, dt.date(2025, 6, 1))}
    assert (earlier["stay.limit_days"].before, earlier["stay.limit_days"].after) == (90, 60)
    assert (earlier["stay.limit_days"].start, earlier["stay.limit_days"].end) == (
        dt.date(2024, 1, 1),
        dt.date(2024, 12, 31),
    )
    assert (earlier["money.mci_kzt"].start, earlier["money.mci_kzt"].end) == (None, None)  # in force then


# A brute-force reference: the changed figures are the leaves of the two JSON verdicts that differ.


def leaves(value: Any, prefix: str, found: dict[str, Any]) -> dict[str, Any]:
    if isinstance(value, dict):
        for key, item in value.items():
            leaves(item, f"{prefix}.{key}" if prefix else key, found)
    elif value not in (None, [], ()):
        found[prefix] = value
    return found


IGNORED = ("title", "note", "source", "rule", "decided_by", "provisional")


def reference_changed(
    before: rules.Evaluator, after: rules.Evaluator, record: dict[str, Any], on: dt.date
) -> set[str]:
    old, new = (
        {
            name: value
            for name, value in leaves(
                {
                    key: value
                    for key, value in evaluator.evaluate(record, on).to_json().items()
                    if key
                    not in ("format", "engine_version", "person_id", "as_of", "policy", "trace", "warnings")
                },
                "",
                {},
            ).items()
            if name.rsplit(".", 1)[-1] not in IGNORED and name not in ("stay.limit", "stay.window")
        }
        for evaluator in (before, after)
    )
    return {name for name in {*old, *new} if old.get(name) != new.get(name)}


days = st.dates(dt.date(2025, 9, 1), dt.date(2026, 6, 1))


@st.composite
def travellers(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 4))
    starts = sorted(draw(st.lists(days, min_size=count, max_size=count, unique=True)))
    trips = []
    for index, entry in enumerate(starts):
        room = (starts[index + 1] - entry).days - 1 if index + 1 < len(starts) else 120
        if room < 0:
            continue
        length = draw(st.integers(0, max(room, 0)))
        open_trip = index + 1 == len(starts) and draw(st.booleans())
        trips.append(
            {
                "entry": entry.isoformat(),
                **({} if open_trip else {"exit": (entry + dt.timedelta(days=length)).isoformat()}),
            }
        )
    return {
        "person_id": "P",
        "citizenship": draw(st.sampled_from(["RU", "BY", "KG", "US", "DE"])),
        "trips": trips,
    }


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=travellers(), on=st.dates(dt.date(2026, 1, 1), dt.date(2026, 6, 30)))
def test_changed_figures_are_exactly_the_leaves_of_the_two_verdicts_that_differ(baseline, record, on) -> None:
    amended = _sixty()
    difference = rules.compare(baseline, amended, record, on)
    assert set(difference.changed) == reference_changed(baseline, amended, record, on)
    # every change is explained: some rule decided differently or some law it reads differs
    if difference.changed:
        assert difference.why.law, difference.to_json()


_AMENDED: list[rules.Evaluator] = []


def _sixty() -> rules.Evaluator:
    if not _AMENDED:
        _AMENDED.append(rules.Evaluator(rules.load_policy(amendments=[SIXTY_DAYS])))
    return _AMENDED[0]


# Every example amendment, compared over every example case: each change explained -----------


def _cases() -> list[tuple[dict[str, Any], dt.date]]:
    from rules.policy.documents import parse_document

    found = []
    for path in sorted((ROOT / "examples" / "cases").glob("*/*.yaml")):
        case = parse_document(path.read_text(encoding="utf-8"), str(path)).data
        on = case["on"] if isinstance(case["on"], dt.date) else dt.date.fromisoformat(case["on"])
        found.append((case["person"], on))
    return found


def test_every_example_amendment_is_compared_here() -> None:
    assert {path.name for path in AMENDMENTS.glob("*.yaml")} == set(EXAMPLE_AMENDMENTS)


EXAMPLE_AMENDMENTS = sorted(path.name for path in AMENDMENTS.glob("*.yaml"))


@pytest.mark.parametrize("name", EXAMPLE_AMENDMENTS)
def test_each_example_amendment_changes_some_case_and_explains_every_change(name: str, baseline) -> None:
    comparison = Comparison(baseline, rules.Evaluator(rules.load_policy(amendments=[AMENDMENTS / name])))
    changed = 0
    for record, on in _cases():
        try:
            difference = comparison.compare(record, on)
        except rules.KzmigError:
            continue  # a case about bad input, or a date no programme decides
        if difference.changed:
            changed += 1
            assert difference.why.law, (name, difference.to_json())
            read = {d.name for d in difference.why.law}
            assert read <= {d.name for d in comparison.law(on)}
    assert changed, f"{name} changes no example case"


# The command line ---------------------------------------------------------------------------


def test_compare_text_lists_changed_people_status_changes_rules_and_law() -> None:
    result = runner.invoke(app, ["compare", POPULATION, "--on", "2026-03-20", "--amend", SIXTY_DAYS])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "records: 8; changed: 4; unchanged: 4; errors: 0" in out
    assert "  RU-70: stay.status compliant -> overstay; stay.overstay_days 0 -> 10;" in out
    assert "  RU-50: stay.latest_exit 2026-05-01 -> 2026-04-01" in out
    assert "    stay: compliant -> overstay: 2" in out
    assert "    sanction: - -> fine: 2" in out
    assert "    stay.overstay: newly decides: 2" in out
    assert "    parameter stay.limit_days: 90 -> 60: 4" in out
    assert "    stay.overstay_days: 0 -> 15 (+15)" in out


def test_compare_json_gives_one_line_per_record_errors_included(tmp_path: Path) -> None:
    people = tmp_path / "people.jsonl"
    lines = Path(POPULATION).read_text().splitlines()
    lines.insert(2, '{"person_id": "bad", "citizenship": "RU", "trips": [{"entry": "2026-02-30"}]}')
    people.write_text("\n".join(lines) + "\n")
    result = runner.invoke(
        app, ["compare", str(people), "--on", "2026-03-20", "--amend", SIXTY_DAYS, "-f", "json"]
    )
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["record"] for r in records] == list(range(9))
    assert records[2]["error"]["kind"] == "input" and records[2]["person_id"] == "bad"
    # RU-70, RU-50, BY-65 and KG-DRV (whose latest exit after the exemption moves)
    assert sum(bool(r.get("changed")) for r in records) == 4


def test_compare_on_several_dates_shows_when_the_amendment_bites() -> None:
    result = runner.invoke(
        app, ["compare", POPULATION, "--months", "2025-12..2026-04", "--amend", SIXTY_DAYS, "-f", "json"]
    )
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 8 * 5
    assert {r["as_of"] for r in records} == {
        f"{month}-01" for month in ("2025-12", "2026-01", "2026-02", "2026-03", "2026-04")
    }
    # the limit falls on 2026-01-01: no status changes before; the latest exit of a stay that
    # runs into January already moves in December, and so does the latest exit of KG-DRV after
    # the exemption that covers it to the end of 2027
    december = [r for r in records if r["as_of"] == "2025-12-01" and r["changed"]]
    assert [r["changed"] for r in december] == [["stay.latest_exit"], ["stay.latest_exit"]]
    text = runner.invoke(app, ["compare", POPULATION, "--months", "2025-12..2026-04", "--amend", SIXTY_DAYS])
    assert "on 5 dates, 2025-12-01 to 2026-04-01" in text.stdout
    assert "  2025-12-01         8         2" in text.stdout


@pytest.mark.parametrize("months", ["2026-13..2026-14", "2026-05..2026-01", "May"])
def test_compare_months_that_are_not_a_range_are_a_usage_error(months: str) -> None:
    result = runner.invoke(app, ["compare", POPULATION, "--months", months, "--amend", SIXTY_DAYS])
    assert result.exit_code == 2
    assert "--months" in result.stderr


@pytest.mark.parametrize("option", ["--summary", "--report", "--changes"])
def test_compare_output_that_cannot_be_written_is_refused_before_any_record_is_compared(
    tmp_path: Path, option: str
) -> None:
    """A long run is not lost at its end to a path that cannot be written: the error comes first."""
    people = tmp_path / "people.jsonl"
    people.write_text('{"person_id": "X-1", "citizenship": "XX"}\n', encoding="utf-8")
    missing = tmp_path / "no-such-directory" / "out"
    result = runner.invoke(
        app, ["compare", str(people), "--on", "2026-03-20", "--amend", SIXTY_DAYS, option, str(missing)]
    )
    assert result.exit_code == 2
    assert result.stderr == f"kzmig: {missing}: cannot be written (No such file or directory)\n"
    assert result.stdout == ""  # X-1's error record (an unknown citizenship) was never reached


def test_compare_of_an_amended_day_of_the_law_writes_it_as_iso_text_in_every_json_output(
    tmp_path: Path,
) -> None:
    """A parameter whose value is a day (the pilot's first day) amended: the summary and the
    changed records carry the day as ISO text, as the policy files write it (the summary was an
    internal error: a date is not JSON)."""
    later = amendment(
        tmp_path,
        "pilot-starts-later.yaml",
        "parameters:\n  residence.pilot_starts:\n    description: The pilot starts later (a test).\n"
        "    values: [{from: 2026-02-13, value: 2026-03-15, source: *what_if}]\n",
    )
    applicants = str(ROOT / "examples" / "persons" / "applicants-2026.jsonl")
    summary, changes = tmp_path / "summary.json", tmp_path / "changes.jsonl"
    result = runner.invoke(
        app,
        ["compare", applicants, "--on", "2026-06-01", "--amend", later, "--summary", str(summary)]
        + ["--changes", str(changes), "-f", "json"],
    )
    assert result.exit_code == 0, result.stderr
    law = json.loads(summary.read_text(encoding="utf-8"))["dates"][0]["law"]
    assert {"kind": "parameter", "name": "residence.pilot_starts"}.items() <= law[0].items()
    assert (law[0]["before"], law[0]["after"]) == ("2026-02-13", "2026-03-15")
    lines = [json.loads(line) for line in changes.read_text(encoding="utf-8").splitlines()]
    assert lines
    assert all(line["why"]["law"][0]["after"] == "2026-03-15" for line in lines)


def test_compare_writes_summary_changes_and_csv_tables(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "compare", POPULATION, "--on", "2026-03-20", "--amend", SIXTY_DAYS,
            "--summary", str(tmp_path / "summary.json"),
            "--changes", str(tmp_path / "changes.jsonl"),
            "--tables", str(tmp_path / "tables"),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["format"] == "kzmig/impact/1" and summary["records"] == 8
    [day] = summary["dates"]
    assert day["changed"] == 4 and day["compared"] == 8
    assert day["totals"]["stay.overstay_days"]["after"] - day["totals"]["stay.overstay_days"]["before"] == 15
    assert day["explained_by"] == {"stay.limit_days": 4}
    assert day["by_citizenship"]["RU"]["changed"] >= 1
    changes = [json.loads(line) for line in (tmp_path / "changes.jsonl").read_text().splitlines()]
    assert [c["person_id"] for c in changes] == ["RU-70", "RU-50", "BY-65", "KG-DRV"]
    import csv

    with (tmp_path / "tables" / "records.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8
    assert {row["person_id"]: row["stay_after"] for row in rows}["RU-70"] == "overstay"
    with (tmp_path / "tables" / "changes.csv").open() as handle:
        changed = list(csv.DictReader(handle))
    overstay = [
        row for row in changed if row["person_id"] == "RU-70" and row["figure"] == "stay.overstay_days"
    ]
    assert overstay == [
        {"record": "0", "person_id": "RU-70", "as_of": "2026-03-20", "figure": "stay.overstay_days",
         "before": "0", "after": "10", "before_number": "0.0", "after_number": "10.0"}
    ]  # fmt: skip


def test_compare_writes_parquet_tables_that_read_back(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    result = runner.invoke(
        app,
        ["compare", POPULATION, "--on", "2026-03-20", "--amend", SIXTY_DAYS,
         "--tables", str(tmp_path), "--table-format", "parquet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    records = pq.read_table(tmp_path / "records.parquet").to_pylist()
    assert len(records) == 8 and sum(row["changed"] for row in records) == 4
    assert records[0]["as_of"] == dt.date(2026, 3, 20)
    changes = pq.read_table(tmp_path / "changes.parquet").to_pylist()
    assert {row["person_id"] for row in changes} == {"RU-70", "RU-50", "BY-65", "KG-DRV"}


def test_compare_with_two_worker_processes_gives_the_same_output_as_one(tmp_path: Path) -> None:
    people = tmp_path / "people.jsonl"
    lines = Path(POPULATION).read_text().splitlines() * 40
    lines.insert(17, "{not json")
    people.write_text("\n".join(lines) + "\n")
    arguments = ["compare", str(people), "--months", "2026-01..2026-04", "--amend", SIXTY_DAYS, "-f", "json"]
    one = runner.invoke(app, arguments)
    two = runner.invoke(app, [*arguments, "--jobs", "2", "--chunk", "7"])
    assert one.exit_code == two.exit_code == 1
    assert one.stdout == two.stdout
    assert len(one.stdout.splitlines()) == (len(lines) - 1) * 4 + 1


def test_compare_against_another_policy_directory(tmp_path: Path) -> None:
    other = tmp_path / "kz-amended"
    shutil.copytree(ROOT / "policies" / "kz", other)
    shutil.copy(SIXTY_DAYS, other / "zz-limit-60-days.yaml")
    # a file in the directory that redefines a parameter is a conflict, not an amendment
    result = runner.invoke(app, ["compare", POPULATION, "--on", "2026-03-20", "--against", str(other)])
    assert result.exit_code == 3
    assert "'stay.limit_days' is defined twice" in result.stderr
    (other / "zz-limit-60-days.yaml").unlink()
    result = runner.invoke(app, ["compare", POPULATION, "--on", "2026-03-20", "--against", str(other)])
    assert result.exit_code == 0
    assert "records: 8; changed: 0; unchanged: 8; errors: 0" in result.stdout
    assert "the two versions state the same law on these dates." in result.stdout


def test_compare_without_anything_to_compare_with_is_a_usage_error() -> None:
    result = runner.invoke(app, ["compare", POPULATION, "--on", "2026-03-20"])
    assert result.exit_code == 2
    assert "--amend FILE and/or --against DIR" in result.stderr


@pytest.mark.parametrize("show", ["0", "1"])
def test_compare_show_limits_the_listed_records(show: str) -> None:
    result = runner.invoke(
        app, ["compare", POPULATION, "--on", "2026-03-20", "--amend", SIXTY_DAYS, "--show", show]
    )
    assert result.exit_code == 0
    listed = [line for line in result.stdout.splitlines() if line.startswith(("  RU-", "  BY-", "  KG-"))]
    assert len(listed) == int(show)
    assert f"and {4 - int(show)} more" in result.stdout


def parquet_population(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The example population as a border-service extract: persons, trips and statuses tables,
    the trips shuffled (an extract is not sorted by person)."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    persons, trips, statuses = [], [], []
    for line in Path(POPULATION).read_text().splitlines():
        record = json.loads(line)
        persons.append({"person_id": record["person_id"], "citizenship": record.get("citizenship")})
        for trip in record.get("trips", []):
            trips.append(
                {
                    "person_id": record["person_id"],
                    "entry": dt.date.fromisoformat(trip["entry"]),
                    "exit": dt.date.fromisoformat(trip["exit"]) if "exit" in trip else None,
                }
            )
        for status in record.get("statuses", []):
            statuses.append({"person_id": record["person_id"], **status})
    trips.reverse()
    paths = tmp_path / "persons.parquet", tmp_path / "trips.parquet", tmp_path / "statuses.parquet"
    for path, rows in zip(paths, (persons, trips, statuses), strict=True):
        pq.write_table(pa.Table.from_pylist(rows), path)
    return paths


def test_compare_reads_a_parquet_extract_of_persons_trips_and_statuses_as_the_json_lines(
    tmp_path: Path,
) -> None:
    persons, trips, statuses = parquet_population(tmp_path)
    arguments = ["--on", "2026-03-20", "--amend", SIXTY_DAYS]
    from_json = runner.invoke(app, ["compare", POPULATION, *arguments, "-f", "json"])
    from_parquet = runner.invoke(
        app,
        [
            "compare",
            str(persons),
            "--trips",
            str(trips),
            "--statuses",
            str(statuses),
            *arguments,
            "-f",
            "json",
        ],
    )
    assert from_parquet.exit_code == 0, from_parquet.stderr
    assert from_parquet.stdout == from_json.stdout


def test_2026_03_20_sixty_days_a_parquet_persons_table_of_another_name_told_so_compares_as_by_its_name(
    tmp_path: Path,
) -> None:
    persons, trips, statuses = parquet_population(tmp_path)
    arguments = ["--trips", str(trips), "--statuses", str(statuses), "--on", "2026-03-20"]
    arguments += ["--amend", SIXTY_DAYS, "-f", "json"]
    by_name = runner.invoke(app, ["compare", str(persons), *arguments])
    extract = persons.rename(tmp_path / "persons.extract")
    told = runner.invoke(app, ["compare", str(extract), "--input-format", "parquet", *arguments])
    assert by_name.exit_code == told.exit_code == 0, told.stderr
    assert told.stdout == by_name.stdout and '"changed"' in told.stdout
    refused = runner.invoke(app, ["compare", str(extract), *arguments])  # by its name: YAML
    assert refused.exit_code == 2 and "--input-format parquet" in refused.stderr
    piped = runner.invoke(app, ["compare", "-", "--input-format", "parquet", "--amend", SIXTY_DAYS])
    assert piped.exit_code == 2 and "not standard input" in piped.stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_2026_03_20_sixty_days_a_parquet_extract_compared_in_chunks_sums_up_as_its_json_lines(
    tmp_path: Path, jobs: str
) -> None:
    """The text summary, the changed records and the summary file of a Parquet extract (its
    unchanged records counted by the workers) are those of the same persons as JSON Lines."""
    persons, trips, statuses = parquet_population(tmp_path)
    outputs = []
    for name, source in (
        ("json", [POPULATION]),
        ("parquet", [str(persons), "--trips", str(trips), "--statuses", str(statuses)]),
    ):
        summary, changes = tmp_path / f"{name}.json", tmp_path / f"{name}.jsonl"
        result = runner.invoke(
            app,
            ["compare", *source, "--on", "2026-03-20", "--amend", SIXTY_DAYS, "--jobs", jobs, "--chunk", "3",
             "--summary", str(summary), "--changes", str(changes)],
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        outputs.append((result.stdout, summary.read_text(), changes.read_text()))
    assert outputs[0] == outputs[1]
    assert '"changed"' in outputs[0][2]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_2026_03_20_sixty_days_json_lines_of_another_name_told_so_compare_as_the_file_does(
    tmp_path: Path, jobs: str
) -> None:
    ndjson = tmp_path / "people.ndjson"
    ndjson.write_bytes(Path(POPULATION).read_bytes())
    arguments = ["--on", "2026-03-20", "--amend", SIXTY_DAYS, "--jobs", jobs, "-f", "json"]
    from_file = runner.invoke(app, ["compare", POPULATION, *arguments])
    told = runner.invoke(app, ["compare", str(ndjson), "--input-format", "jsonl", *arguments])
    assert from_file.exit_code == told.exit_code == 0, told.stderr
    assert told.stdout == from_file.stdout and '"changed"' in told.stdout
    workers = runner.invoke(
        app, ["compare", str(ndjson), "--input-format", "jsonl", "--workers-read", *arguments]
    )
    assert workers.exit_code == 0 and workers.stdout == from_file.stdout
    refused = runner.invoke(app, ["compare", str(ndjson), "--workers-read", *arguments])
    assert refused.exit_code == 2 and "--input-format jsonl" in refused.stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_2026_03_20_sixty_days_json_lines_piped_in_compare_as_the_file_does(jobs: str) -> None:
    arguments = ["--on", "2026-03-20", "--amend", SIXTY_DAYS, "--jobs", jobs]
    from_file = runner.invoke(app, ["compare", POPULATION, *arguments])
    text = Path(POPULATION).read_text(encoding="utf-8")
    piped = runner.invoke(app, ["compare", "-", *arguments], input=text)
    assert from_file.exit_code == piped.exit_code == 0, piped.stderr
    assert piped.stdout == from_file.stdout
    assert "changed: " in piped.stdout


def test_compare_of_a_parquet_extract_says_what_it_does_not_read(tmp_path: Path) -> None:
    """Nothing is dropped without a word: a person_id on two rows of the persons table makes
    both error records (whose trips are whose cannot be told); trips of no listed person, or of
    no person at all, are named before the first record."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    persons, trips = tmp_path / "persons.parquet", tmp_path / "trips.parquet"
    ids = pa.array(["RU-1", "RU-2", "RU-1", "RU-3"], pa.large_string())  # as pandas may write them
    pq.write_table(pa.table({"person_id": ids, "citizenship": ["RU"] * 4}), persons)
    day = dt.date(2026, 1, 2)
    pq.write_table(
        pa.Table.from_pylist(
            [{"person_id": person_id, "entry": day, "exit": None}
             for person_id in (None, "RU-1", "RU-2", "XX-9", "RU-3", "XX-9", "XX-8")]
        ),
        trips,
    )  # fmt: skip
    result = runner.invoke(
        app, ["compare", str(persons), "--trips", str(trips), "--on", "2026-03-20", "--amend", SIXTY_DAYS]
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:2] == [
        f"kzmig: {trips}: 1 trip row(s) have no person_id: not read",
        f"kzmig: {trips}: 3 trip row(s) of 2 person_id(s) on no row of {persons} ('XX-8', 'XX-9'): not read",
    ]
    repeated = (
        "person_id 'RU-1' is on 2 rows of the persons table: whose trips and statuses are whose "
        "cannot be told (a person is one row)"
    )
    for row in (1, 3):
        assert f"  {persons}: row {row}: {repeated}\n" in result.stderr
    # RU-2 and RU-3 are read with their trips (78 days on 2026-03-20: over 60, not over 90)
    assert "records: 4; changed: 2; unchanged: 0; errors: 2" in result.stdout


def test_compare_refuses_a_parquet_trips_table_whose_person_id_is_of_another_type(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    persons, trips = tmp_path / "persons.parquet", tmp_path / "trips.parquet"
    pq.write_table(pa.table({"person_id": ["1"], "citizenship": ["RU"]}), persons)
    pq.write_table(pa.table({"person_id": [1], "entry": [dt.date(2026, 1, 2)]}), trips)
    result = runner.invoke(
        app, ["compare", str(persons), "--trips", str(trips), "--on", "2026-03-20", "--amend", SIXTY_DAYS]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "kzmig: the person file cannot be read\n"
        f"  {trips}: person_id is of type int64 here and string in {persons}: "
        "no row can be matched to a person\n"
    )


def test_compare_refuses_a_parquet_persons_table_without_person_id(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "persons.parquet"
    pq.write_table(pa.Table.from_pylist([{"id": "X"}]), path)
    result = runner.invoke(app, ["compare", str(path), "--on", "2026-03-20", "--amend", SIXTY_DAYS])
    assert result.exit_code == 1
    assert "no column person_id" in result.stderr
    (tmp_path / "not.parquet").write_text("{}")
    result = runner.invoke(app, ["compare", str(tmp_path / "not.parquet"), "--amend", SIXTY_DAYS])
    assert result.exit_code == 1
    assert "not a Parquet file" in result.stderr


def test_compare_refuses_parquet_tables_that_are_not_regular_files(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow.parquet")
    persons, trips, _ = parquet_population(tmp_path)
    folder = tmp_path / "folder.parquet"
    folder.mkdir()
    arguments = ["--on", "2026-03-20", "--amend", SIXTY_DAYS]
    result = runner.invoke(app, ["compare", str(folder), *arguments])
    assert result.exit_code == 1
    assert f"{folder}: is a directory, not a file" in result.stderr
    missing = tmp_path / "none.parquet"
    result = runner.invoke(app, ["compare", str(persons), "--trips", str(missing), *arguments])
    assert result.exit_code == 1
    assert "none.parquet: no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_trips_given_with_a_json_lines_population_are_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["compare", POPULATION, "--trips", SIXTY_DAYS, "--amend", SIXTY_DAYS])
    assert result.exit_code == 2
    assert "--trips and --statuses go with a Parquet persons table" in result.stderr


def test_compare_shows_progress_on_standard_error_when_asked() -> None:
    result = runner.invoke(
        app, ["compare", POPULATION, "--on", "2026-03-20", "--amend", SIXTY_DAYS, "--progress", "on"]
    )
    assert result.exit_code == 0
    assert "records: 8 of 8 (100%)" in result.stderr
    quiet = runner.invoke(app, ["compare", POPULATION, "--on", "2026-03-20", "--amend", SIXTY_DAYS])
    assert quiet.stderr == ""


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(0, 8), max_size=4))
def test_the_impact_of_a_population_is_the_merged_impact_of_any_split_of_it(cuts: list[int]) -> None:
    from rules.analysis.aggregate import Impact

    population = _population()
    items = [
        (index, json.loads(line)) for index, line in enumerate(Path(POPULATION).read_text().splitlines())
    ]
    whole = Impact("b", "a", population.dates, law=population.law)
    for _, outcomes in population.outcomes(items, lambda item: item):
        whole.add(outcomes)
    bounds = [0, *sorted(cuts), len(items)]
    merged = Impact("b", "a", population.dates, law=population.law)
    for start, end in zip(bounds, bounds[1:], strict=False):
        part = Impact("b", "a", population.dates, law=population.law)
        for _, outcomes in population.outcomes(items[start:end], lambda item: item):
            part.add(outcomes)
        merged.merge(part)
    assert merged == whole


_POPULATIONS: list[Any] = []


def _population() -> Any:
    from rules.analysis.population import PolicySpec, Population

    if not _POPULATIONS:
        _POPULATIONS.append(
            Population(
                PolicySpec.of_files(None),
                PolicySpec.of_files(None, [SIXTY_DAYS]),
                (dt.date(2026, 1, 1), dt.date(2026, 3, 20)),
            )
        )
    return _POPULATIONS[0]


def test_compare_writes_an_html_report_headed_by_the_amendment_title(tmp_path: Path) -> None:
    report = tmp_path / "impact.html"
    result = runner.invoke(
        app,
        [
            "compare",
            POPULATION,
            "--months",
            "2026-01..2026-03",
            "--amend",
            SIXTY_DAYS,
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.stderr
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") or page.lower().startswith("<!doctype html>")
    assert "What-if: a 60-day limit in any 180 days from 1 January 2026" in page
    text = re.sub(r"<[^>]+>", "", page)  # long names may carry a line-break hint
    assert "stay.limit_days" in text and "RU-70" in text
    assert "<script" not in page.lower()


# Skipping records no difference can reach -------------------------------------------------


def same_when_skipping(
    full: Comparison, skipping: Comparison, record: dict[str, Any], on: dt.date
) -> Difference | None:
    """The record compared with ``skip_unaffected`` gives what the full comparison gives: the
    same changed figures, statuses and amended figures, and the same law in force in the
    amended verdict's stay section (its limit and window), or the same kind of error. Returns
    the full comparison's difference (``None``: both raised)."""
    try:
        expected = full.compare(record, on)
    except rules.KzmigError as error:
        with pytest.raises(type(error)):
            skipping.compare(record, on)
        return None
    found = skipping.compare(record, on)
    assert (found.changed, found.statuses, found.figures_after) == (
        expected.changed,
        expected.statuses,
        expected.figures_after,
    )
    assert (found.after.stay.limit, found.after.stay.window) == (
        expected.after.stay.limit,
        expected.after.stay.window,
    )
    return expected


def _every_example_record() -> list[tuple[dict[str, Any], dt.date]]:
    found = list(_cases())
    for name, on in (
        ("population-2026.jsonl", dt.date(2026, 3, 20)),
        ("applicants-2026.jsonl", dt.date(2026, 6, 1)),
        ("families-2027.jsonl", dt.date(2027, 7, 1)),
        ("generated-2026.jsonl", dt.date(2026, 3, 1)),
    ):
        lines = (ROOT / "examples" / "persons" / name).read_text().splitlines()[:300]
        found += [(json.loads(line), on) for line in lines]
    return found


def _policy_reads(monkeypatch: pytest.MonkeyPatch, recording: Any) -> set[str]:
    """The names of the parameters and tables the policy is asked for while ``recording()``."""
    from rules.policy.loader import Policy

    read: set[str] = set()

    def recorded(method: Any, name_of: Any) -> Any:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if recording():
                read.add(name_of(*args))
            return method(self, *args, **kwargs)

        return wrapper

    for method in ("parameter", "dated_parameter", "parameter_timeline"):
        monkeypatch.setattr(Policy, method, recorded(getattr(Policy, method), lambda name, *rest: name))
    monkeypatch.setattr(Policy, "row", recorded(Policy.row, lambda table, *rest: table))
    return read


def _entered(method: Any, depth: dict[str, int], kind: str) -> Any:
    """``method``, counting in ``depth[kind]`` the calls under way."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        depth[kind] += 1
        try:
            return method(*args, **kwargs)
        finally:
            depth[kind] -= 1

    return wrapper


def test_the_stay_mechanism_declares_every_parameter_and_table_it_reads(monkeypatch) -> None:
    """What the mechanism reads while it derives, reports and traces, on every example record,
    is among the names it declares: an impact analysis trusts them to skip records."""
    from rules.stay.limit import StayLimit

    depth = {"inside": 0}
    read = _policy_reads(monkeypatch, lambda: depth["inside"] > 0)
    for method in ("__init__", "derive", "section", "trace", "rule_facts"):
        monkeypatch.setattr(StayLimit, method, _entered(getattr(StayLimit, method), depth, "inside"))
    evaluator = rules.Evaluator(rules.load_policy())
    for record, on in _every_example_record():
        try:
            evaluator.evaluate(record, on)
        except rules.KzmigError:
            pass
    assert read, "the recording saw nothing: the test is not wired"
    assert read <= set(StayLimit.reads), read - set(StayLimit.reads)


def test_the_stay_mechanism_looks_its_keyed_tables_up_by_the_key_it_declares_only(monkeypatch) -> None:
    """On every example record, each look-up of a table of ``StayLimit.keyed_reads`` is by the
    value of the fact it names (the person's citizenship): an impact analysis names a row of
    such a table only for the records that hold its key."""
    from rules.policy.loader import Policy
    from rules.stay.limit import StayLimit

    looked_up: list[tuple[str, Any]] = []
    original = Policy.row

    def row(self: Any, table: str, key: Any, on: Any) -> Any:
        if table in StayLimit.keyed_reads:
            looked_up.append((table, key))
        return original(self, table, key, on)

    monkeypatch.setattr(Policy, "row", row)
    evaluator = rules.Evaluator(rules.load_policy())
    seen = 0
    for record, on in _every_example_record():
        looked_up.clear()
        try:
            found = evaluator.evaluate_case(record, on)
        except rules.KzmigError:
            continue
        for table, key in looked_up:
            seen += 1
            assert key == found.fact(f"stay.{StayLimit.keyed_reads[table]}"), (
                record.get("person_id"),
                table,
                key,
            )
    assert seen, "the recording saw nothing: the test is not wired"


def uzbekistan_and_tajikistan_moved(tmp_path: Path) -> str:
    """An amendment moving the rows of UZ and TJ in stay.regime_of_citizenship to the visa-free
    regime of 14 days per entry and 42 in 180 from 2026-01-01."""
    return amendment(
        tmp_path,
        "uz-tj.yaml",
        "tables:\n  stay.regime_of_citizenship:\n    description: UZ and TJ moved\n    key: citizenship\n"
        "    rows:\n"
        + "".join(
            f"      {code}: [{{from: 2023-01-27, value: visa_free, source: *what_if}},"
            f" {{from: 2026-01-01, value: visa_free_14_42, source: *what_if}}]\n"
            for code in ("UZ", "TJ")
        ),
    )


def test_2026_03_20_uzbek_and_tajik_regimes_amended_each_stay_is_explained_by_the_row_of_its_citizenship(
    tmp_path: Path, baseline: rules.Evaluator
) -> None:
    """Two rows of stay.regime_of_citizenship move to the visa-free regime of 14 days per entry
    and 42 in 180 from 2026-01-01; an Uzbek's changed stay is explained by the row of UZ
    alone, a Russian is not reached."""
    path = uzbekistan_and_tajikistan_moved(tmp_path)
    comparison = Comparison(baseline, rules.Evaluator(rules.load_policy(amendments=[path])))
    trips = [{"entry": "2026-02-01", "exit": "2026-02-25"}, {"entry": "2026-03-10"}]  # 25 days, then 11
    for code in ("UZ", "TJ"):
        difference = comparison.compare({"person_id": code, "citizenship": code, "trips": trips}, ON)
        assert "stay.status" in difference.changed
        assert [d.name for d in difference.why.law if d.kind == "table row"] == [
            f"stay.regime_of_citizenship[{code}]"
        ]
    assert comparison.compare({"person_id": "RU", "citizenship": "RU", "trips": trips}, ON).changed == ()


@pytest.mark.parametrize("name", EXAMPLE_AMENDMENTS)
def test_skipping_records_no_difference_reaches_changes_no_outcome(name: str, baseline) -> None:
    amended = rules.Evaluator(rules.load_policy(amendments=[AMENDMENTS / name]))
    full, skipping = Comparison(baseline, amended), Comparison(baseline, amended, skip_unaffected=True)
    skipped = 0
    for record, on in _every_example_record():
        same_when_skipping(full, skipping, record, on)
        skipped += not skipping.affected(record.keys(), on)
    if name.startswith(("residence", "social-contract")):
        assert skipped, f"{name} reaches every record: the travellers should be skipped"


def test_compare_counts_records_by_the_regime_of_their_citizenship(tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    result = runner.invoke(
        app,
        ["compare", POPULATION, "--on", "2026-03-20", "--amend", SIXTY_DAYS,
         "--by", "stay.regime", "--summary", str(summary)],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    [day] = json.loads(summary.read_text())["dates"]
    by_regime = day["by"]["stay.regime"]
    assert sum(row["compared"] for row in by_regime.values()) == 8
    assert by_regime["eaeu"]["changed"] >= 2  # RU-70 and BY-65 are EAEU citizens
    assert "  by stay.regime (changed of compared): eaeu " in result.stdout


def test_2026_03_25_grouped_by_the_days_used_the_summary_lists_twenty_values_and_counts_the_rest(
    tmp_path: Path,
) -> None:
    """A fact of many values (115 different day counts among 2,000 persons): the line lists
    the 20 values with the most changes and sums the others, which --summary keeps whole."""
    summary = tmp_path / "summary.json"
    people = str(ROOT / "examples" / "persons" / "generated-2026.jsonl")
    result = runner.invoke(
        app,
        ["compare", people, "--on", "2026-03-25", "--amend", SIXTY_DAYS, "--by", "stay.days_used",
         "--show", "0", "--summary", str(summary)],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    by_days = json.loads(summary.read_text())["dates"][0]["by"]["stay.days_used"]
    [line] = [line for line in result.stdout.splitlines() if line.startswith("  by stay.days_used")]
    listed = re.findall(r"(?:: |; )(\S+) (\d+) of (\d+)", line)
    assert len(listed) == 20 < len(by_days)
    rest = [row for value, row in by_days.items() if value not in {value for value, _, _ in listed}]
    more = re.search(r"\.\.\. and (\d+) more values \((\d+) changed of (\d+);", line)
    assert more is not None
    assert [int(more.group(i)) for i in (1, 2, 3)] == [
        len(rest),
        sum(row["changed"] for row in rest),
        sum(row["compared"] for row in rest),
    ]


def test_compare_by_a_fact_the_policy_does_not_have_is_a_usage_error() -> None:
    result = runner.invoke(
        app, ["compare", POPULATION, "--on", "2026-03-20", "--amend", SIXTY_DAYS, "--by", "stay.regme"]
    )
    assert result.exit_code == 2
    assert "stay.regme: no such fact in policy kz (did you mean 'stay.regime'?)" in result.stderr


def test_a_verdict_built_without_its_trace_differs_from_the_full_one_only_by_the_trace(baseline) -> None:
    for record, on in _every_example_record():
        try:
            full = baseline.evaluate(record, on)
        except rules.KzmigError:
            continue
        bare, _ = baseline.evaluate_with_facts(record, on, (), trace=False)
        assert bare.trace == ()
        assert bare.model_dump(exclude={"trace"}) == full.model_dump(exclude={"trace"})


def test_compare_without_a_date_judges_today_in_kazakhstan_loading_each_version_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rules.analysis.population import PolicySpec
    from rules.engine.evaluator import today

    loads: list[PolicySpec] = []
    load = PolicySpec.load

    def counted(spec: PolicySpec) -> Any:
        loads.append(spec)
        return load(spec)

    monkeypatch.setattr(PolicySpec, "load", counted)
    before = today(rules.load_policy()).isoformat()
    result = runner.invoke(app, ["compare", POPULATION, "--amend", SIXTY_DAYS, "--format", "json"])
    after = today(rules.load_policy()).isoformat()
    assert result.exit_code == 0, result.output
    days = {json.loads(line)["as_of"] for line in result.stdout.splitlines() if '"as_of"' in line}
    assert days in ({before}, {after})  # (the run may cross midnight in Astana)
    assert len(loads) == 2  # the baseline and the amended version, each once


def test_a_population_with_no_date_list_judges_today_and_an_empty_list_is_refused() -> None:
    from rules.analysis.population import PolicySpec, Population
    from rules.engine.evaluator import today

    specs = (PolicySpec.of_files(None), PolicySpec.of_files(None, [SIXTY_DAYS]))
    assert Population(*specs, None).dates == (today(rules.load_policy()),)
    with pytest.raises(ValueError, match="at least one evaluation date"):
        Population(*specs, ())


# --- the why names the table rows a record may have read, not every row that differs ---------

HOST_KINDS = ("individual", "official", "small_business", "non_profit", "medium_business", "large_business")
HOST_FINES = {
    "individual": "{housing: 25, repeat: 30}",
    "official": "{late_notification: 10, housing: 40, repeat: 40}",
    "small_business": "{late_notification: 10, housing: 40, repeat: 40}",
    "non_profit": "{late_notification: 10, housing: 40, repeat: 40}",
    "medium_business": "{late_notification: 15, housing: 55, repeat: 70}",
    "large_business": "{late_notification: 20, housing: 75, repeat: 100}",
}
DOUBLED = {
    "individual": "{housing: 50, repeat: 60}",
    "official": "{late_notification: 20, housing: 80, repeat: 80}",
    "small_business": "{late_notification: 20, housing: 80, repeat: 80}",
    "non_profit": "{late_notification: 20, housing: 80, repeat: 80}",
    "medium_business": "{late_notification: 30, housing: 110, repeat: 140}",
    "large_business": "{late_notification: 40, housing: 150, repeat: 200}",
}


def host_fines(tmp_path: Path, doubled: tuple[str, ...]) -> rules.Evaluator:
    """The art. 518 fines of the kinds of host ``doubled`` doubled from 1 Jan 2025."""
    rows = "".join(
        f"      {kind}: [{{from: 2023-01-27, value: {HOST_FINES[kind]}, source: *what_if}}"
        + (f", {{from: 2025-01-01, value: {DOUBLED[kind]}, source: *what_if}}" if kind in doubled else "")
        + "]\n"
        for kind in HOST_KINDS
    )
    body = f"tables:\n  host.fines_mci:\n    description: doubled\n    key: kind of host\n    rows:\n{rows}"
    path = amendment(tmp_path, f"host-fines-{'-'.join(doubled)}.yaml", body)
    return rules.Evaluator(rules.load_policy(amendments=[path]))


def late_host(kind: str) -> dict[str, Any]:
    """A foreigner whose host notified four days late in March 2025 (due 6 March, notified 10)."""
    return {
        "person_id": f"H-{kind}",
        "citizenship": "RU",
        "trips": [{"entry": "2025-03-03", "registered_on": "2025-03-10"}],
        "host": {"kind": kind},
    }


def test_2025_04_05_fines_doubled_for_medium_and_large_businesses_each_fine_is_explained_by_its_own_row(
    tmp_path: Path, baseline: rules.Evaluator
) -> None:
    comparison = Comparison(baseline, host_fines(tmp_path, ("medium_business", "large_business")))
    for kind in ("medium_business", "large_business"):
        difference = comparison.compare(late_host(kind), dt.date(2025, 4, 5))
        assert "host.fine_mci" in difference.changed
        assert [d.name for d in difference.why.law] == [f"host.fines_mci[{kind}]"]
    assert comparison.compare(late_host("small_business"), dt.date(2025, 4, 5)).changed == ()


@settings(
    max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(doubled=st.sets(st.sampled_from(HOST_KINDS), min_size=1), kind=st.sampled_from(HOST_KINDS))
def test_a_changed_host_fine_is_explained_by_the_row_of_the_hosts_kind_and_no_other(
    tmp_path: Path, baseline: rules.Evaluator, doubled: set[str], kind: str
) -> None:
    """Brute force: the host's fine reads the row of its own kind only, so a record changes
    exactly when that row was doubled, and the why names that row alone."""
    comparison = Comparison(baseline, host_fines(tmp_path, tuple(sorted(doubled))))
    difference = comparison.compare(late_host(kind), dt.date(2025, 4, 5))
    rows = [d.name for d in difference.why.law if d.kind == "table row"]
    fined = kind != "individual"  # an individual who notifies late gets a warning, not a fine
    if kind in doubled and fined:
        assert "host.fine_mci" in difference.changed and rows == [f"host.fines_mci[{kind}]"]
    else:
        assert difference.changed == () and rows == []


def test_2027_07_01_a_new_region_explains_a_family_resettled_there_by_both_its_rows(
    tmp_path: Path, baseline: rules.Evaluator
) -> None:
    """The region's row of country.regions makes the record readable (the baseline leaves its
    host region out, and says so); its row of the labour-deficient regions puts it under the
    quota. A family resettled elsewhere is not reached."""
    path = amendment(
        tmp_path,
        "alatau.yaml",
        "tables:\n"
        "  country.regions:\n    description: with Alatau\n    key: region\n    rows:\n"
        "      alatau: [{from: 2025-01-01, value: {name: Alatau Region, kind: region}, source: *what_if}]\n"
        "  social_contract.labour_deficient_regions:\n    description: with Alatau\n    key: region\n"
        "    rows:\n      alatau: [{from: 2025-01-01, value: true, source: *what_if}]\n",
    )
    comparison = Comparison(baseline, rules.Evaluator(rules.load_policy(amendments=[path])))
    family = json.loads(
        (ROOT / "examples" / "persons" / "families-2027.jsonl").read_text("utf-8").splitlines()[0]
    )
    moved = json.loads(json.dumps(family))
    moved["social_contract"]["host_region"] = "alatau"
    difference = comparison.compare(moved, dt.date(2027, 7, 1))
    assert "social_contract.status" in difference.changed
    assert [d.name for d in difference.why.law] == [
        "country.regions[alatau]",
        "social_contract.labour_deficient_regions[alatau]",
    ]
    assert any("'alatau' is not one of" in note for note in difference.notes)
    assert comparison.compare(family, dt.date(2027, 7, 1)).changed == ()


def test_amended_rows_of_keyed_tables_skip_the_records_that_hold_none_of_their_keys(
    tmp_path: Path, baseline: rules.Evaluator
) -> None:
    """Fines doubled for medium businesses, or Uzbekistan and Tajikistan moved to another
    regime: a record that looks up no row that differs is evaluated once, and every record,
    skipped or not, is judged as the full comparison judges it."""
    regimes = uzbekistan_and_tajikistan_moved(tmp_path)
    records = _every_example_record() + [(late_host(kind), dt.date(2025, 4, 5)) for kind in HOST_KINDS]
    records += [
        (
            {
                "person_id": code,
                "citizenship": code,
                "trips": [{"entry": "2026-02-01", "exit": "2026-02-25"}],
            },
            ON,
        )
        for code in ("UZ", "TJ", "RU")
    ]
    for amended in (
        host_fines(tmp_path, ("medium_business",)),
        rules.Evaluator(rules.load_policy(amendments=[regimes])),
    ):
        full, skipping = Comparison(baseline, amended), Comparison(baseline, amended, skip_unaffected=True)
        skipped = reached = 0
        for record, on in records:
            same_when_skipping(full, skipping, record, on)
            try:
                case = baseline.evaluate_case(record, on)
            except rules.KzmigError:
                continue
            if skipping.affected(record.keys(), on, case.guarded, case):
                reached += 1
            else:
                skipped += 1
        assert skipped and reached, (skipped, reached)


def test_2027_07_01_a_non_refundable_housing_certificate_reaches_only_the_families_that_received_one(
    baseline: rules.Evaluator,
) -> None:
    """The certificate's row of social_contract.support_kinds is looked up by the kind of each
    support item: a family that left early without a certificate is evaluated once and judged
    as the full comparison judges it; one with a certificate returns less, and its why names
    that row."""
    amended = rules.Evaluator(
        rules.load_policy(amendments=[AMENDMENTS / "social-contract-housing-certificate-non-refundable.yaml"])
    )
    full, skipping = Comparison(baseline, amended), Comparison(baseline, amended, skip_unaffected=True)
    family = json.loads(
        (ROOT / "examples" / "persons" / "families-2027.jsonl").read_text("utf-8").splitlines()[0]
    )
    support = family["social_contract"]["support"]
    assert any(item["kind"] == "housing_certificate" for item in support)
    without = json.loads(json.dumps(family))
    without["social_contract"]["support"] = [
        item for item in support if item["kind"] != "housing_certificate"
    ]
    on = dt.date(2027, 7, 1)
    for record, reached in ((family, True), (without, False)):
        case = baseline.evaluate_case(record, on)
        assert skipping.affected(record.keys(), on, case.guarded, case) is reached
        same_when_skipping(full, skipping, record, on)
    difference = full.compare(family, on)
    assert "social_contract.refund_kzt" in difference.changed
    assert [d.name for d in difference.why.law] == ["social_contract.support_kinds[housing_certificate]"]


def test_2027_07_01_the_summary_writes_a_boolean_of_the_law_as_the_policy_files_do() -> None:
    """true and false, as in JSON and YAML, not Python's True and False."""
    result = runner.invoke(
        app,
        [
            "compare",
            str(ROOT / "examples" / "persons" / "families-2027.jsonl"),
            "--on",
            "2027-07-01",
            "--amend",
            str(AMENDMENTS / "social-contract-housing-certificate-non-refundable.yaml"),
            "--show",
            "0",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "support_kinds[housing_certificate]: {refundable true} -> {refundable false}: 2" in result.stdout
    assert "True" not in result.stdout and "False" not in result.stdout


def _evaluations(monkeypatch: pytest.MonkeyPatch, evaluator: rules.Evaluator) -> list[str]:
    """The person ids ``evaluator`` evaluates from now on, in order."""
    evaluated: list[str] = []
    original = evaluator.evaluate_case

    def counting(person: Any, *args: Any, **kwargs: Any) -> Any:
        evaluated.append(person.person_id if isinstance(person, Person) else person["person_id"])
        return original(person, *args, **kwargs)

    monkeypatch.setattr(evaluator, "evaluate_case", counting)
    return evaluated


def test_2026_03_20_at_a_60_day_limit_a_traveller_whose_windows_held_60_days_at_most_is_counted_again(
    baseline: rules.Evaluator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 60-day limit reaches every traveller, but moves only those whose windows held more
    than 60 days (or who are in the country: their latest exit moves). A traveller who left
    after 40 days is counted again under the amendment and not evaluated again; their amended
    verdict shows the amended limit. One who stayed 70 days is evaluated again and overstays."""
    amended = _sixty()
    skipping = Comparison(baseline, amended, skip_unaffected=True)
    full = Comparison(baseline, amended)
    evaluated = _evaluations(monkeypatch, amended)
    left = person("RU-40", ("2026-01-05", "2026-02-13"))
    stayed = person("RU-70", ("2026-01-05", "2026-03-15"))
    here = person("RU-20", ("2026-03-01", None))
    for record in (left, stayed, here):
        same_when_skipping(full, skipping, record, ON)
    evaluated.clear()
    unchanged = skipping.compare(left, ON)
    assert evaluated == [] and unchanged.changed == ()
    assert (unchanged.before.stay.limit, unchanged.after.stay.limit) == (90, 60)
    assert unchanged.after.policy.version == amended.policy.version
    assert skipping.compare(stayed, ON).statuses["stay"] == ("compliant", "overstay")
    moved = skipping.compare(here, ON)
    assert evaluated == ["RU-70", "RU-20"]
    assert moved.changed == ("stay.latest_exit",)


def test_only_the_stay_count_and_the_registration_read_what_the_mechanism_declares_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On every example record, what the stay mechanism reads outside its count and the
    registration (reading crossings, the rest of the section, the facts beside an exemption)
    is none of ``StayLimit.counting_reads``: an impact analysis counts a record again, and
    finds its registration again, rather than evaluating it again, when only those differ."""
    from rules.stay import registration
    from rules.stay.limit import StayLimit

    depth = {"outside": 0, "count": 0, "registration": 0}
    read = _policy_reads(monkeypatch, lambda: depth["outside"] > 0 and not depth["count"])
    registered = _policy_reads(monkeypatch, lambda: depth["registration"] > 0)
    for method in ("derive", "section", "rule_facts"):
        monkeypatch.setattr(StayLimit, method, _entered(getattr(StayLimit, method), depth, "outside"))
    monkeypatch.setattr(StayLimit, "derive_stay", _entered(StayLimit.derive_stay, depth, "count"))
    for kind in ("count", "registration"):  # counted again only for registration_reads
        monkeypatch.setattr(StayLimit, "_registration", _entered(StayLimit._registration, depth, kind))
        found = _entered(registration.latest_registration, depth, kind)
        monkeypatch.setattr(registration, "latest_registration", found)
    evaluator = rules.Evaluator(rules.load_policy())
    for record, on in _every_example_record():
        try:
            case = evaluator.evaluate_case(record, on)
        except rules.KzmigError:
            continue
        for name in StayLimit.facts:
            case.fact(f"stay.{name}")  # the registration facts are computed when a rule reads them
    assert read and registered, "the recording saw nothing: the test is not wired"
    assert not read & set(StayLimit.counting_reads), read & set(StayLimit.counting_reads)
    assert registered & set(StayLimit.counting_reads) <= set(StayLimit.registration_reads)


def test_2026_03_20_at_60_visa_free_days_in_180_only_a_traveller_beyond_60_days_is_evaluated_again(
    tmp_path: Path, baseline: rules.Evaluator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The visa-free regime's own window total set to 60 days from 2026-01-01 (null before: the
    general 90): a row of stay.regimes every visa-free traveller reads, through the count and
    the registration only. An American who stayed 20 days is counted again, registration
    included, and not evaluated again; one who stayed 62 days in three entries of at most 30 is
    evaluated again and overstays."""
    terms = "{subject: true, per_entry_days: 30, window_total_days: %s}"
    amended = rules.Evaluator(
        rules.load_policy(
            amendments=[
                amendment(
                    tmp_path,
                    "visa-free-60.yaml",
                    "tables:\n  stay.regimes:\n    description: visa-free 60 in 180\n    key: regime\n"
                    "    rows:\n      visa_free:\n"
                    f"        - {{from: 2023-01-27, value: {terms % 'null'}, source: *what_if}}\n"
                    f"        - {{from: 2026-01-01, value: {terms % 60}, source: *what_if}}\n",
                )
            ]
        )
    )
    skipping = Comparison(baseline, amended, skip_unaffected=True)
    short = person("US-20", ("2026-02-01", "2026-02-20"), citizenship="US")
    long = person(
        "US-62",
        ("2026-01-05", "2026-01-29"),
        ("2026-02-10", "2026-03-06"),
        ("2026-03-08", "2026-03-19"),
        citizenship="US",
    )
    for record in (short, long):
        same_when_skipping(Comparison(baseline, amended), skipping, record, ON)
    evaluated = _evaluations(monkeypatch, amended)
    unchanged = skipping.compare(short, ON)
    assert unchanged.changed == () and unchanged.after.stay.limit == 60
    moved = skipping.compare(long, ON)
    assert evaluated == ["US-62"]
    assert moved.statuses["stay"] == ("compliant", "overstay")
    assert [law.name for law in moved.why.law] == ["stay.regimes[visa_free]"]


@pytest.mark.parametrize(
    "name", ["limit-60-days.yaml", "sanction-fines-doubled.yaml", "residence-language-b1.yaml"]
)
def test_a_population_runs_outcome_made_without_the_amended_verdict_is_the_one_made_with_it(
    name: str, baseline
) -> None:
    """A population run keeps of each record what :meth:`Comparison.compared` finds, whose
    amended verdict of a record not evaluated again is made only when asked: its outcome is the
    one made from the full :class:`Difference`, and the difference it makes is that one."""
    from rules.analysis.outcome import Outcome

    amended = rules.Evaluator(rules.load_policy(amendments=[AMENDMENTS / name]))
    skipping = Comparison(baseline, amended, skip_unaffected=True)
    unmade = 0
    for index, (record, on) in enumerate(_every_example_record()):
        try:
            expected = skipping.compare(record, on)
        except rules.KzmigError as error:
            with pytest.raises(type(error)):
                skipping.compared(record, on)
            continue
        found = skipping.compared(record, on)
        unmade += found.after is None
        assert Outcome.of(index, "XX", found) == Outcome.of(index, "XX", expected)
        assert found.difference() == expected
        assert found.difference().after.policy.version == amended.policy.version
    assert unmade, "every record was evaluated again: the lazy amended verdict is never tested"
