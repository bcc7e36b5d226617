"""The permanent-residence pre-selection of 2026 (``policies/kz/residence-pre-selection.yaml``),
through ``rules.evaluate`` with the shipped policy.

The points are checked against an independent computation written here: the tables and scales
are read from the loaded policy (``policy.tables`` / ``policy.parameters``), but the age in whole
years, the bracket of a scale and the sum are this file's own arithmetic. The gates are checked
on both sides of each threshold, hand-computed; the B1 what-if amendment
(``examples/amendments/residence-language-b1.yaml``) on both sides of its date and level.
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from budget import examples
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import rules
from models.verdict import Verdict
from rules import InputError, Policy

ROOT = Path(__file__).resolve().parents[1]
B1_AMENDMENT = ROOT / "examples" / "amendments" / "residence-language-b1.yaml"
ON = dt.date(2026, 6, 1)
PILOT = dt.date(2026, 2, 13)
PROPERTY_SETTINGS = settings(
    max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

POLICY: Policy = rules.load_policy()
CRITERIA = ("age", "education", "languages", "experience", "competence", "health", "adaptability")

#: The applicant of the issue: 540 points, every gate passed (hand-computed below).
APPLICANT: dict[str, Any] = {
    "submitted": "2026-03-10",
    "birth_date": "1991-05-02",
    "language_test": {"taken": "2026-02-20", "level": "A1", "listening_pct": 45, "reading_pct": 31},
    "questionnaire": {
        "education": "higher",
        "experience_years": 6,
        "languages": [{"language": "kk", "level": "A1"}, {"language": "ru", "level": "C1"}],
        "competence": "in_demand",
        "health": "fit",
        "adaptability": "high",
    },
    "background_check": "cleared",
    "interview": "passed",
    "state_consent": True,
}
# age 34 on 2026-03-10 -> 100; higher 100; kk A1 20 + ru C1 40 = 60; 6 years -> 80; in demand 100;
# fit 50; high 50.
APPLICANT_POINTS = {
    "age": 100,
    "education": 100,
    "languages": 60,
    "experience": 80,
    "competence": 100,
    "health": 50,
    "adaptability": 50,
}

DROP = object()


def application(**changes: Any) -> dict[str, Any]:
    """The applicant with ``changes``: ``language_test__reading_pct=29`` sets a nested field,
    ``DROP`` leaves a field out."""
    found = copy.deepcopy(APPLICANT)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = found
        for part in parents:
            target = target[part]
        if value is DROP:
            del target[last]
        else:
            target[last] = value
    return found


def verdict_of(app: dict[str, Any], on: dt.date = ON, policy: Policy | None = None) -> Verdict:
    return rules.evaluate({"person_id": "RA", "residence_application": app}, on=on, policy=policy)


def residence(app: dict[str, Any], on: dt.date = ON, policy: Policy | None = None) -> dict[str, Any]:
    """The residence section, as JSON."""
    section = verdict_of(app, on, policy).section("residence")
    assert section is not None
    return section.model_dump(mode="json")


def failed(section: dict[str, Any]) -> list[str]:
    return [item["rule"] for item in section["failed"]]


@pytest.fixture(scope="module")
def b1_policy() -> Policy:
    return rules.load_policy(amendments=[B1_AMENDMENT])


# --- an independent computation of the points -----------------------------------------------------


def in_force(values: list[Any], day: dt.date) -> Any:
    """The value of a list of dated values in force on ``day``."""
    found = [dated.value for dated in values if dated.start <= day]
    assert found, f"nothing in force on {day}"
    return found[-1]


def row(table: str, key: str, day: dt.date) -> Any:
    return in_force(POLICY.tables[table].rows[key], day)


def scale(name: str, day: dt.date) -> list[dict[str, Any]]:
    value: list[dict[str, Any]] = in_force(POLICY.parameters[name].values, day)
    return value


def bracket_value(brackets: list[dict[str, Any]], amount: int) -> Any:
    """The value of the last bracket whose threshold the amount reaches; a first bracket without
    a threshold takes every lower amount."""
    reached = [b["value"] for b in brackets if b.get("at_least", float("-inf")) <= amount]
    assert reached, f"{amount} is below every bracket"
    return reached[-1]


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years from ``birth`` to ``day``; a 29 February birthday falls on 28 February in a
    common year."""
    birthday = (birth.month, birth.day)
    if birthday == (2, 29) and not calendar.isleap(day.year):
        birthday = (2, 28)
    return day.year - birth.year - (1 if (day.month, day.day) < birthday else 0)


def expected_points(app: dict[str, Any]) -> dict[str, int]:
    submitted = dt.date.fromisoformat(app["submitted"])
    answers = app["questionnaire"]
    age = age_on(dt.date.fromisoformat(app["birth_date"]), submitted)
    return {
        "age": bracket_value(scale("residence.points_for_age", submitted), age),
        "education": row("residence.points_for_education", answers["education"], submitted),
        "languages": sum(
            row("residence.points_for_language", item["language"], submitted)[item["level"]]
            for item in answers["languages"]
        ),
        "experience": bracket_value(
            scale("residence.points_for_experience", submitted), answers["experience_years"]
        ),
        "competence": row("residence.points_for_competence", answers["competence"], submitted),
        "health": row("residence.points_for_health", answers["health"], submitted),
        "adaptability": row("residence.points_for_adaptability", answers["adaptability"], submitted),
    }


def test_the_independent_computation_agrees_with_the_hand_computed_applicant():
    assert expected_points(APPLICANT) == APPLICANT_POINTS


# --- random applications --------------------------------------------------------------------------

LEVELS = sorted(POLICY.tables["residence.language_levels"].rows)
LANGUAGES = sorted(POLICY.tables["residence.points_for_language"].rows)


def _keys(table: str) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(POLICY.tables[table].rows))


@st.composite
def applications(
    draw: st.DrawFn, first: dt.date = PILOT, last: dt.date = dt.date(2026, 12, 31)
) -> dict[str, Any]:
    submitted = draw(st.dates(first, last))
    leap_years = [year for year in range(1930, submitted.year) if calendar.isleap(year)]
    birth = draw(
        st.one_of(
            st.dates(dt.date(1930, 1, 1), submitted),
            st.sampled_from(leap_years).map(lambda year: dt.date(year, 2, 29)),
        )
    )
    languages = draw(st.lists(st.sampled_from(LANGUAGES), max_size=3, unique=True))
    return {
        "submitted": submitted.isoformat(),
        "birth_date": birth.isoformat(),
        "language_test": {
            "taken": draw(st.dates(submitted - dt.timedelta(days=200), submitted)).isoformat(),
            "level": draw(st.sampled_from(LEVELS)),
            "listening_pct": draw(st.integers(0, 100)),
            "reading_pct": draw(st.integers(0, 100)),
        },
        "questionnaire": {
            "education": draw(_keys("residence.points_for_education")),
            "experience_years": draw(st.integers(0, 70)),
            "languages": [{"language": code, "level": draw(st.sampled_from(LEVELS))} for code in languages],
            "competence": draw(_keys("residence.points_for_competence")),
            "health": draw(_keys("residence.points_for_health")),
            "adaptability": draw(_keys("residence.points_for_adaptability")),
        },
        "background_check": draw(st.sampled_from(["cleared", "adverse", "pending"])),
        "interview": draw(st.sampled_from(["passed", "failed", "pending"])),
        "state_consent": draw(st.booleans()),
    }


@PROPERTY_SETTINGS
@given(app=applications(), wait=st.integers(0, 400))
@example(app=APPLICANT, wait=83)
@example(app=application(birth_date="2008-02-29", submitted="2026-02-28"), wait=0)
@example(app=application(questionnaire__languages=[]), wait=0)
def test_points_are_the_sum_of_the_criteria_each_as_the_policy_tables_give_it(app, wait):
    on = dt.date.fromisoformat(app["submitted"]) + dt.timedelta(days=wait)
    section = residence(app, on)
    assert section["points_by_criterion"] == expected_points(app)
    assert section["points"] == sum(section["points_by_criterion"].values())
    submitted = dt.date.fromisoformat(app["submitted"])
    assert section["pass_mark"] == in_force(POLICY.parameters["residence.pass_mark"].values, submitted)


# --- the applicant of the issue -------------------------------------------------------------------


def test_applicant_with_540_points_and_every_gate_passed_is_passed_with_a_certificate_for_a_year():
    section = residence(APPLICANT)
    assert section["status"] == "passed"
    assert section["points"] == 540
    assert section["points_by_criterion"] == APPLICANT_POINTS
    assert (section["failed"], section["missing"]) == ([], [])
    assert {item["result"] for item in section["gates"]} == {"met"}
    assert section["certificate_expires"] == "2027-06-01"
    assert section["provisional"] is True


def test_the_certificate_of_a_pre_selection_passed_on_29_february_runs_to_28_february():
    assert residence(APPLICANT, on=dt.date(2028, 2, 29))["certificate_expires"] == "2029-02-28"


# --- both sides of each threshold -----------------------------------------------------------------


@pytest.mark.parametrize("block", ["listening", "reading"])
def test_a_language_block_of_29_percent_is_refused(block):
    section = residence(application(**{f"language_test__{block}_pct": 29}))
    assert section["status"] == "refused"
    assert failed(section) == [f"residence.language.{block}"]
    gates = {item["rule"]: item["result"] for item in section["gates"]}
    assert gates[f"residence.language.{block}"] == "failed"


@pytest.mark.parametrize("block", ["listening", "reading"])
def test_a_language_block_of_30_percent_is_passed(block):
    section = residence(application(**{f"language_test__{block}_pct": 30}))
    assert section["status"] == "passed"
    assert failed(section) == []


def test_both_blocks_below_30_percent_are_both_refusals():
    section = residence(application(language_test__listening_pct=0, language_test__reading_pct=29))
    assert section["status"] == "refused"
    assert failed(section) == ["residence.language.listening", "residence.language.reading"]


# age 45 on 2026-03-10 -> 40; secondary 44; kk B2 60 + ru A1 5 = 65; 10 years -> 100; general 50;
# fit 50; high 50: 399.
SCORED_399 = application(
    birth_date="1980-06-01",
    questionnaire__education="secondary",
    questionnaire__experience_years=10,
    questionnaire__languages=[{"language": "kk", "level": "B2"}, {"language": "ru", "level": "A1"}],
    questionnaire__competence="general",
)
# age 38 on 2026-03-10 -> 80; vocational 63; kk B1 50 + en A2 10 = 60; 3 years -> 47; general 50;
# fit 50; high 50: 400.
SCORED_400 = application(
    birth_date="1988-01-15",
    questionnaire__education="vocational",
    questionnaire__experience_years=3,
    questionnaire__languages=[{"language": "kk", "level": "B1"}, {"language": "en", "level": "A2"}],
    questionnaire__competence="general",
)


def test_a_questionnaire_of_399_points_is_refused_by_the_score_gate():
    section = residence(SCORED_399)
    assert section["points_by_criterion"] == {
        "age": 40,
        "education": 44,
        "languages": 65,
        "experience": 100,
        "competence": 50,
        "health": 50,
        "adaptability": 50,
    }
    assert (section["points"], section["pass_mark"]) == (399, 400)
    assert section["status"] == "refused"
    assert failed(section) == ["residence.score"]
    assert "certificate_expires" not in section


def test_a_questionnaire_of_exactly_400_points_is_passed():
    section = residence(SCORED_400)
    assert section["points_by_criterion"] == {
        "age": 80,
        "education": 63,
        "languages": 60,
        "experience": 47,
        "competence": 50,
        "health": 50,
        "adaptability": 50,
    }
    assert (section["points"], section["status"]) == (400, "passed")


@pytest.mark.parametrize(
    ("birth", "submitted", "age_points", "points"),
    [
        pytest.param("2008-05-10", "2026-05-09", 0, 440, id="17 on the day before the 18th birthday"),
        pytest.param("2008-05-10", "2026-05-10", 60, 500, id="18 on the 18th birthday"),
        pytest.param("2008-02-29", "2026-02-27", 0, 440, id="born 29 February, 17 on 27 February"),
        pytest.param("2008-02-29", "2026-02-28", 60, 500, id="born 29 February, 18 on 28 February"),
    ],
)
def test_an_applicant_of_17_has_no_points_for_age_and_one_of_18_the_first_bracket(
    birth, submitted, age_points, points
):
    section = residence(application(birth_date=birth, submitted=submitted))
    assert section["points_by_criterion"]["age"] == age_points
    assert section["points"] == points  # 540 - 100 + the points for age
    assert section["status"] == "passed"


@pytest.mark.parametrize(
    ("birth", "points"),
    [
        pytest.param("2001-03-11", 60, id="24"),
        pytest.param("2001-03-10", 100, id="25"),
        pytest.param("1991-03-11", 100, id="34"),
        pytest.param("1991-03-10", 80, id="35"),
        pytest.param("1981-03-11", 80, id="44"),
        pytest.param("1981-03-10", 40, id="45"),
        pytest.param("1971-03-11", 40, id="54"),
        pytest.param("1971-03-10", 10, id="55"),
        pytest.param("1936-03-10", 10, id="90"),
    ],
)
def test_points_for_age_on_both_sides_of_each_bracket(birth, points):
    assert residence(application(birth_date=birth))["points_by_criterion"]["age"] == points


@pytest.mark.parametrize(
    ("years", "points"),
    [(0, 0), (1, 20), (2, 20), (3, 47), (4, 47), (5, 80), (9, 80), (10, 100), (70, 100)],
)
def test_points_for_experience_on_both_sides_of_each_bracket(years, points):
    section = residence(application(questionnaire__experience_years=years))
    assert section["points_by_criterion"]["experience"] == points


@pytest.mark.parametrize(
    ("level", "submitted", "status"),
    [
        pytest.param("A2", "2026-04-13", "refused", id="A2 submitted on 13 April"),
        pytest.param("B1", "2026-04-13", "passed", id="B1 submitted on 13 April"),
        pytest.param("C2", "2026-04-13", "passed", id="C2 submitted on 13 April"),
        pytest.param("A2", "2026-04-12", "passed", id="A2 submitted on 12 April"),
        pytest.param("A1", "2026-04-12", "passed", id="A1 submitted on 12 April"),
    ],
)
def test_under_the_b1_amendment_the_level_in_force_on_the_day_submitted_decides(
    b1_policy, level, submitted, status
):
    section = residence(application(language_test__level=level, submitted=submitted), policy=b1_policy)
    assert section["status"] == status
    assert failed(section) == ([] if status == "passed" else ["residence.language.level"])


def test_without_the_b1_amendment_an_a2_test_of_13_april_is_passed():
    assert residence(application(language_test__level="A2", submitted="2026-04-13"))["status"] == "passed"


# --- precedence -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        pytest.param(
            {"language_test__reading_pct": 20, "language_test__listening_pct": DROP},
            "residence.language.reading",
            id="reading 20 %, listening missing",
        ),
        pytest.param(
            {"interview": "failed", "background_check": DROP},
            "residence.interview",
            id="interview failed, background check missing",
        ),
        pytest.param(
            {"state_consent": False, "questionnaire": DROP},
            "residence.state_consent",
            id="consent refused, questionnaire missing",
        ),
        pytest.param(
            {"background_check": "adverse", "interview": "pending"},
            "residence.background_check",
            id="check adverse, interview pending",
        ),
    ],
)
def test_a_failed_gate_refuses_even_when_another_input_is_missing(changes, refusal):
    section = residence(application(**changes))
    assert section["status"] == "refused"
    assert failed(section) == [refusal]
    assert section["missing"] == []


def test_a_pending_background_check_is_undetermined_naming_the_check():
    section = residence(application(background_check="pending"))
    assert section["status"] == "undetermined"
    assert section["decided_by"] == ["residence.undetermined.background_check"]
    assert section["missing"] == ["residence_application.background_check"]
    assert "certificate_expires" not in section


def test_a_background_check_not_recorded_is_undetermined_naming_the_check():
    section = residence(application(background_check=DROP))
    assert section["status"] == "undetermined"
    assert section["missing"] == ["residence_application.background_check"]


def test_every_unknown_gate_is_named_in_one_undetermined_verdict():
    section = residence(application(interview="pending", state_consent=DROP, language_test__reading_pct=DROP))
    assert section["status"] == "undetermined"
    assert sorted(section["missing"]) == [
        "residence_application.interview",
        "residence_application.language_test.reading_pct",
        "residence_application.state_consent",
    ]


def test_a_missing_answer_leaves_the_score_undetermined_naming_the_answer():
    section = residence(application(questionnaire__health=DROP))
    assert section["status"] == "undetermined"
    assert section["missing"] == ["residence_application.questionnaire.health"]
    assert section["points"] is None
    assert section["points_by_criterion"]["health"] is None
    assert section["points_by_criterion"]["age"] == 100


def test_a_language_declared_without_its_level_leaves_the_score_undetermined_naming_the_item():
    languages = [{"language": "kk", "level": "A1"}, {"language": "ru"}]
    section = residence(application(questionnaire__languages=languages))
    assert section["status"] == "undetermined"
    assert section["missing"] == ["residence_application.questionnaire.languages[1].level"]
    assert (section["points"], section["points_by_criterion"]["languages"]) == (None, None)


def test_a_language_test_given_as_null_is_undetermined_naming_each_of_its_fields():
    section = residence(application(language_test=None))
    assert section["status"] == "undetermined"
    assert section["missing"] == [
        "residence_application.language_test.level",
        "residence_application.language_test.listening_pct",
        "residence_application.language_test.reading_pct",
    ]


def test_an_application_submitted_before_the_pilot_is_not_applicable_whatever_its_gates():
    section = residence(application(submitted="2026-02-12", interview="failed"))
    assert section["status"] == "not_applicable"
    assert section["decided_by"] == ["residence.submitted_before_pilot"]


# --- input validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("app", "where", "message"),
    [
        pytest.param(
            {**{k: v for k, v in APPLICANT.items() if k != "language_test"}, "langauge_test": {}},
            "residence_application.langauge_test",
            "unknown field (did you mean 'language_test'?)",
            id="unknown field",
        ),
        pytest.param(
            application(language_test__reading_pct=101),
            "residence_application.language_test.reading_pct",
            "101 is above the maximum 100",
            id="101 percent",
        ),
        pytest.param(
            application(language_test__listening_pct=-1),
            "residence_application.language_test.listening_pct",
            "-1 is below the minimum 0",
            id="-1 percent",
        ),
        pytest.param(
            application(language_test__level="D1"),
            "residence_application.language_test.level",
            "'D1' is not one of A1, A2, B1, B2, C1, C2",
            id="a level not in the table",
        ),
        pytest.param(
            application(
                questionnaire__languages=[
                    {"language": "kk", "level": "A1"},
                    {"language": "kk", "level": "B1"},
                ]
            ),
            "residence_application.questionnaire.languages[1].language",
            "'kk' is given twice (also in item 0)",
            id="a language given twice",
        ),
        pytest.param(
            application(submitted="2026-02-30"),
            "residence_application.submitted",
            "'2026-02-30' is not a day that exists",
            id="30 February",
        ),
        pytest.param(
            application(birth_date="2023-02-29"),
            "residence_application.birth_date",
            "'2023-02-29' is not a day that exists",
            id="29 February of a common year",
        ),
        pytest.param(
            application(questionnaire__experience_years=71),
            "residence_application.questionnaire.experience_years",
            "71 is above the maximum 70",
            id="71 years of experience",
        ),
        pytest.param(
            application(state_consent="yes"),
            "residence_application.state_consent",
            "expected true or false",
            id="consent as text",
        ),
    ],
)
def test_an_invalid_application_is_refused_naming_the_path(app, where, message):
    with pytest.raises(InputError) as caught:
        verdict_of(app)
    problems = [(problem.where, problem.message) for problem in caught.value.problems]
    assert problems == [(where, message)]


def test_every_problem_of_an_application_is_reported_at_once_with_its_path():
    app = application(language_test__reading_pct=101, submitted="2026-02-30", background_check="unknown")
    with pytest.raises(InputError) as caught:
        verdict_of(app)
    paths = {problem.path for problem in caught.value.problems}
    assert paths == {
        ("residence_application", "language_test", "reading_pct"),
        ("residence_application", "submitted"),
        ("residence_application", "background_check"),
    }


# --- the trace ------------------------------------------------------------------------------------


def test_the_trace_of_a_pass_shows_the_points_computed_from_every_criterion():
    verdict = verdict_of(APPLICANT)
    (entry,) = [entry for entry in verdict.trace if entry.rule == "residence.passed"]
    assert entry.decisive
    derivations = {item.fact: item for item in entry.derivations}
    points = derivations["residence.points"]
    assert (points.formula, points.value) == ("add", 540)
    assert points.operands == {f"residence.points.{name}": value for name, value in APPLICANT_POINTS.items()}
    order = [item.fact for item in entry.derivations]
    assert all(order.index(f"residence.points.{name}") < order.index("residence.points") for name in CRITERIA)
    age = derivations["residence.points.age"]
    assert (age.formula, age.value, age.operands["residence.age"]) == ("band", 100, 34)
    assert age.reads == ("parameter residence.points_for_age",)
    assert age.provisional == ("parameter residence.points_for_age",)
    assert derivations["residence.age"].operands == {
        "residence.birth_date": "1991-05-02",
        "residence.submitted": "2026-03-10",
    }
    score = derivations["residence.score_passed"]
    # read on the day submitted, and named with that day
    assert (score.value, score.operands["parameter residence.pass_mark on 2026-03-10"]) == (True, 400)


@st.composite
def persons(draw: st.DrawFn) -> tuple[dict[str, Any], dt.date]:
    """A person with a random stay record, and perhaps an application (some answers left out)."""
    person: dict[str, Any] = {"person_id": "P-1"}
    citizenship = draw(st.sampled_from(["RU", "US", "KZ", None]))
    if citizenship is not None:
        person["citizenship"] = citizenship
    if draw(st.booleans()):
        trips = []
        day = draw(st.dates(dt.date(2025, 1, 1), dt.date(2026, 6, 30)))
        for _ in range(draw(st.integers(0, 3))):
            leave = day + dt.timedelta(days=draw(st.integers(0, 120)))
            trips.append({"entry": day.isoformat(), "exit": leave.isoformat()})
            day = leave + dt.timedelta(days=draw(st.integers(1, 90)))
        if trips and draw(st.booleans()):
            del trips[-1]["exit"]
        person["trips"] = trips
    if draw(st.booleans()):
        kinds = sorted(POLICY.status_kinds)
        start = draw(st.dates(dt.date(2024, 1, 1), dt.date(2026, 12, 31)))
        end = start + dt.timedelta(days=draw(st.integers(0, 400)))
        person["statuses"] = [
            {
                "kind": draw(st.sampled_from(kinds)),
                "valid_from": start.isoformat(),
                "valid_to": end.isoformat(),
            }
        ]
    if draw(st.booleans()):
        app = draw(applications(first=dt.date(2026, 1, 1)))
        for key in draw(st.lists(st.sampled_from(sorted(app)), max_size=3, unique=True)):
            del app[key]
        person["residence_application"] = app
    on = draw(st.dates(dt.date(2025, 6, 1), dt.date(2027, 6, 1)))
    return person, on


@PROPERTY_SETTINGS
@given(case=persons())
def test_each_rule_appears_once_in_the_trace_and_each_decisive_rule_is_there(case):
    person, on = case
    verdict = rules.evaluate(person, on=on)
    ids = [entry.rule for entry in verdict.trace]
    assert len(ids) == len(set(ids)), ids
    decisive = {entry.rule for entry in verdict.trace if entry.decisive}
    for name, section in verdict.sections.items():
        assert set(section.decided_by) <= decisive, name
    assert (verdict.section("residence") is not None) == ("residence_application" in person)
