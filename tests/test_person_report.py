"""``kzmig report``: one person on one date as a printable page, with a time line of the days.

The page shows the verdict's own statuses and figures (the days it draws add up to the
verdict's days used, overstay days and exempt days), marks the latest exit and the earliest
re-entry, and cites each rule's source with the act's date. The day classes are checked
against the brute-force oracle of ``tests/reference.py``; every value from the record is
escaped; bad input gets the messages and exit codes of ``kzmig check``; a PDF is printed
where Chromium is installed, and its absence is said plainly.
"""

from __future__ import annotations

import datetime as dt
import gettext
import html
import re
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from budget import examples
from hypothesis import HealthCheck, given, settings
from reference import LIMIT_IN_FORCE, REGIME_OF, _statuses, _trips, count_record, expected
from test_stay_properties import cases
from typer.testing import CliRunner

import rules
from rules.cli.app import app
from rules.cli.records import read_records
from rules.engine.evaluator import Evaluator, evaluator_for, parse_person
from rules.policy.titles import rule_title
from rules.reports.language import DOMAIN, LOCALE_DIR, wording
from rules.reports.person_report import find_pdf_renderer, person_report, render_person_report
from rules.stay.days import DayClass, StayDays, classify_days

ROOT = Path(__file__).resolve().parents[1]
PERSONS = ROOT / "examples" / "persons"
D = dt.date
ONE_DAY = dt.timedelta(days=1)
runner = CliRunner()


def person(name: str) -> dict[str, Any]:
    """An example person as kzmig reads it (YAML 1.2: ``on`` is a key, not true)."""
    record = next(read_records(str(PERSONS / name)))
    assert record.data is not None
    return record.data


def around(record: dict[str, Any], on: dt.date, before: int = 180, after: int = 90) -> StayDays:
    return classify_days(
        evaluator_for(None), record, on, on - dt.timedelta(days=before - 1), on + dt.timedelta(days=after)
    )


def legend_count(page: str, kind: DayClass) -> int:
    found = re.search(
        rf'<li><span class="swatch swatch-{kind.value}"></span>[^<]*: <strong>(\d+)</strong>', page
    )
    assert found is not None, kind
    return int(found.group(1))


def text(page: str) -> str:
    """The page as a reader sees it: tags removed, entities read, spaces collapsed."""
    words = re.sub(r"<[^>]+>", " ", page.replace("<wbr>", ""))
    return " ".join(html.unescape(words).split()).replace(" :", ":").replace(" ,", ",")


def kzmig(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


# --- what the page says ---------------------------------------------------------------------


def test_2024_04_20_us_visitor_b2_overstayed_in_february_may_stay_to_3_may_and_return_29_june() -> None:
    page = person_report(evaluator_for(None), person("overstay-B-2.yaml"), D(2024, 4, 20))
    verdict = evaluator_for(None).evaluate(person("overstay-B-2.yaml"), D(2024, 4, 20))
    assert verdict.stay.status.value == "overstay" and verdict.stay.latest_exit == D(2024, 5, 3)
    assert "Person B-2 on 2024-04-20" in page
    assert "Overstay in the past: no overstay on this day; the record holds earlier overstay days" in page
    assert "latest exit 2024-05-03" in page  # marked on the time line
    assert "earliest re-entry 2024-06-29" in page
    assert "visa_free" in page and "US" in page
    assert "2024-01-31 to 2024-02-05: 6 day(s)" in text(page)
    assert verdict.stay.sanction is not None and f"status-{verdict.stay.sanction.status}" in page
    assert "Latest exit if staying on 2024-05-03" in text(page)
    assert "Earliest re-entry 2024-06-29" in text(page)


@pytest.mark.parametrize(
    ("name", "on"),
    [
        ("overstay-B-2.yaml", D(2024, 4, 20)),
        ("overstay-B-2.yaml", D(2024, 5, 10)),
        ("refused-RU-E2.yaml", D(2025, 4, 1)),
        ("residence-RA-1.yaml", D(2026, 3, 1)),
        ("plan-RU-P1.yaml", D(2026, 3, 31)),
    ],
)
def test_the_days_drawn_add_up_to_the_verdicts_days_used_overstay_days_and_exempt_days(
    name: str, on: dt.date
) -> None:
    record = person(name)
    stay = evaluator_for(None).evaluate(record, on).stay
    days = around(record, on)
    window_start = on - dt.timedelta(days=(stay.window or 180) - 1)
    assert days.count(DayClass.COUNTED, DayClass.OVERSTAY, first=window_start, last=on) == stay.days_used
    # Every overstay and exempt day of these records lies in the 180 days shown.
    assert days.count(DayClass.OVERSTAY) == stay.overstay_days
    assert days.count(DayClass.EXEMPT) == stay.exempt_days
    page = person_report(evaluator_for(None), record, on)
    for kind in (DayClass.COUNTED, DayClass.OVERSTAY, DayClass.EXEMPT, DayClass.PLANNED):
        assert legend_count(page, kind) == days.count(kind)
    assert f"{stay.days_used} of {stay.limit} days counted" in page


def test_2025_04_01_russian_back_after_90_days_is_refused_at_the_border_and_the_page_says_so() -> None:
    page = person_report(evaluator_for(None), person("refused-RU-E2.yaml"), D(2025, 4, 1))
    assert "Check at the border on the evaluation date" in page
    assert "status-refused" in page
    assert "91 of 90 in the 180 days ending on 2025-04-01" in text(page)
    assert "Registration" in page and "due by" in page


def test_2026_03_10_residence_applicant_every_programme_of_the_verdict_has_its_status_on_the_page() -> None:
    record = person("residence-RA-1.yaml")
    verdict = evaluator_for(None).evaluate(record, D(2026, 3, 10))
    page = person_report(evaluator_for(None), record, D(2026, 3, 10))
    assert verdict.sections  # residence pre-selection
    for name, section in verdict.sections.items():
        assert html.escape(section.title) in page and f"({name})" in page
        assert f"status-{section.status}" in page
    assert "Missing facts" in page and "residence_application.interview" in page
    assert f"status-{verdict.stay.status.value}" in page
    assert "temporary_residence_permit, valid" in page
    # The permit covers every day of stay: exempt, none counted.
    assert legend_count(page, DayClass.EXEMPT) == 180 and legend_count(page, DayClass.COUNTED) == 0


def test_2027_01_01_kandas_family_social_contract_section_is_shown() -> None:
    record = person("kandas-KD-1.yaml")
    verdict = evaluator_for(None).evaluate(record, D(2027, 1, 1))
    page = person_report(evaluator_for(None), record, D(2027, 1, 1))
    section = verdict.section("social_contract")
    assert section is not None and f"status-{section.status}" in page
    assert "Not applicable: the stay limit does not apply" in page  # a citizen of Kazakhstan


def test_2024_08_01_russian_given_by_border_crossings_is_drawn_from_the_paired_trips() -> None:
    record = person("crossings-RU-C1.json")
    stay = evaluator_for(None).evaluate(record, D(2024, 8, 1)).stay
    days = around(record, D(2024, 8, 1))
    assert days.count(DayClass.COUNTED) == stay.days_used == 87
    page = person_report(evaluator_for(None), record, D(2024, 8, 1))
    # Leaving on the latest exit, 4 August, the first day back is when February leaves the window.
    assert "latest exit 2024-08-04" in page and "earliest re-entry 2024-08-09" in page


def test_a_record_without_trips_has_no_known_day_none_is_drawn_as_absent() -> None:
    record = {"person_id": "U-1", "citizenship": "RU"}
    days = around(record, D(2025, 5, 1))
    assert set(days.classes) == {DayClass.UNKNOWN}
    page = person_report(evaluator_for(None), record, D(2025, 5, 1))
    assert "Undetermined: facts are missing" in page
    assert legend_count(page, DayClass.UNKNOWN) == 270
    assert '<span class="swatch swatch-absent">' not in page


@pytest.mark.parametrize("on", [D(9999, 12, 31), D(9999, 10, 15)])
def test_a_report_on_the_last_days_of_the_calendar_ends_its_time_line_there(on: dt.date) -> None:
    page = person_report(evaluator_for(None), person("overstay-B-2.yaml"), on)
    assert "to 9999-12-31: the window ending on the evaluation date" in text(page)


def test_2027_07_01_kandas_family_left_early_the_dates_of_its_section_use_the_date_format() -> None:
    page = person_report(
        evaluator_for(None),
        person("kandas-KD-1.yaml"),
        D(2027, 7, 1),
        format_date=lambda day: day.strftime("%d.%m.%Y"),
    )
    assert "term ends 01.03.2030" in text(page) and "2030-03-01" not in text(page).split("Why:")[0]
    assert "computed: social_contract.term_ends = 01.03.2030" in text(page)


def test_2023_01_01_before_the_limit_the_citation_carries_the_decree_of_31_december_2022() -> None:
    record = person("overstay-B-2.yaml") | {"trips": [{"entry": "2022-12-20"}]}
    verdict = evaluator_for(None).evaluate(record, D(2023, 1, 1))
    page = person_report(evaluator_for(None), record, D(2023, 1, 1))
    dated = [entry for entry in verdict.trace if entry.source.date is not None]
    assert dated and dated[0].source.date == D(2022, 12, 31)
    assert "act of 2022-12-31" in text(page)
    for entry in verdict.trace:
        assert entry.rule in page and html.escape(entry.source.title) in page
        assert f'href="{entry.source.href}"' in page
    # Before the limit the days of stay are in the country, not counted.
    assert legend_count(page, DayClass.NOT_COUNTED) == 13


def test_every_sentence_goes_through_the_translation_and_every_date_through_the_date_format() -> None:
    record = person("overstay-B-2.yaml")
    page = person_report(
        evaluator_for(None),
        record,
        D(2024, 4, 20),
        translate=lambda text: f"‹{text}›",
        format_date=lambda day: day.strftime("%d.%m.%Y"),
    )
    assert "‹Time line›" in page and "‹Why: the rules that fired and the law they cite›" in page
    assert "‹Person {person} on {date}›".replace("{person}", "B-2").replace("{date}", "20.04.2024") in page
    assert "‹latest exit {date}›".replace("{date}", "03.05.2024") in page
    chart = page[page.index("<svg") : page.index("</svg>")]
    assert "2024-" not in chart and "01.05.2024" in chart  # the axis too
    text = re.sub(r"<[^>]+>", "\n", page[page.index("<body>") :])
    for line in filter(None, (line.strip() for line in text.splitlines())):
        for sentence in (
            "Time line",
            "Days shown",
            "Latest exit if staying on",
            "Stay limit",
            "Registration",
        ):
            assert line != sentence, line


def test_the_same_verdict_gives_the_same_page_byte_for_byte() -> None:
    record = person("refused-RU-E2.yaml")
    first = person_report(evaluator_for(None), record, D(2025, 4, 1))
    assert first == person_report(evaluator_for(None), record, D(2025, 4, 1))


def test_a_time_line_of_another_date_than_the_verdict_is_refused() -> None:
    record = person("refused-RU-E2.yaml")
    verdict = evaluator_for(None).evaluate(record, D(2025, 4, 1))
    with pytest.raises(ValueError, match="classed on 2025-04-02"):
        render_person_report(
            verdict, around(record, D(2025, 4, 2)), parse_person(record, evaluator_for(None).policy)
        )


# --- the day classes against the oracle -----------------------------------------------------


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_each_day_of_the_time_line_is_classed_as_the_day_by_day_oracle_counts_it(
    case: tuple[dict[str, Any], dt.date],
) -> None:
    record, on = case
    days = around(record, on)
    oracle = expected(record, on)
    trips = _trips(record)
    subject = record.get("citizenship") in REGIME_OF and on >= LIMIT_IN_FORCE
    exempt = count_record(trips, _statuses(record), on).exempt if subject else set()
    for index, found in enumerate(days.classes):
        day = days.first + index * ONE_DAY
        present = any(entry <= day and (exit_ is None or day <= exit_) for entry, exit_ in trips)
        if day > on:
            want = DayClass.PLANNED if present else DayClass.ABSENT
        elif day in oracle.overstay:
            want = DayClass.OVERSTAY
        elif day in oracle.counted:
            want = DayClass.COUNTED
        elif day in exempt:
            want = DayClass.EXEMPT
        else:
            want = DayClass.NOT_COUNTED if present else DayClass.ABSENT
        assert found is want, (day, found, want)


def test_a_day_shared_by_an_exit_and_a_re_entry_is_one_counted_day() -> None:
    record = {
        "person_id": "P",
        "citizenship": "RU",
        "trips": [
            {"entry": "2024-03-01", "exit": "2024-03-10"},
            {"entry": "2024-03-10", "exit": "2024-03-12"},
        ],
    }
    days = around(record, D(2024, 3, 31))
    assert days.count(DayClass.COUNTED) == 12
    assert days.runs()[-2] == (DayClass.COUNTED, D(2024, 3, 1), D(2024, 3, 12))


# --- escaping ---------------------------------------------------------------------------------


def test_a_person_id_or_a_status_document_holding_html_is_shown_as_text_never_run() -> None:
    record = {
        "person_id": '<script>alert("id")</script>',
        "citizenship": "RU",
        "statuses": [
            {
                "kind": "residence_permit",
                "valid_from": "2024-01-01",
                "document": '"><img src=x onerror=alert(1)>',
            }
        ],
        "trips": [{"entry": "2024-02-01"}],
    }
    page = person_report(evaluator_for(None), record, D(2024, 3, 1))
    assert "<script" not in page and "<img" not in page and "onerror=alert(1)>" not in page
    assert "&lt;script&gt;alert(&quot;id&quot;)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page


# --- the command ------------------------------------------------------------------------------


def test_kzmig_report_writes_the_page_to_standard_output() -> None:
    code, out, _ = kzmig("report", str(PERSONS / "refused-RU-E2.yaml"), "--on", "2025-04-01")
    assert code == 0
    assert out.startswith("<!DOCTYPE html>") and out.rstrip().endswith("</html>")


def test_kzmig_report_writes_the_page_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "ru-e2.html"
    code, out, err = kzmig(
        "report", str(PERSONS / "refused-RU-E2.yaml"), "--on", "2025-04-01", "--out", str(target)
    )
    assert code == 0 and out == ""
    assert "Person RU-E2 on 2025-04-01" in target.read_text(encoding="utf-8")
    assert str(target) in err


@pytest.mark.parametrize(
    ("args", "exit_code", "says"),
    [
        (("report", "no-such-person.yaml", "--on", "2024-01-01"), 1, "no-such-person.yaml"),
        (
            ("report", str(PERSONS / "refused-RU-E2.yaml"), "--on", "2024-13-01"),
            2,
            "is not a date of the form YYYY-MM-DD",
        ),
        (("report", str(PERSONS / "refused-RU-E2.yaml")), 2, "--on"),
    ],
)
def test_kzmig_report_on_a_missing_file_or_a_bad_date_names_it_and_exits_without_traceback(
    args: tuple[str, ...], exit_code: int, says: str
) -> None:
    code, out, err = kzmig(*args)
    assert code == exit_code
    assert says in err and "Traceback" not in err + out and out == ""


def test_kzmig_report_on_a_record_with_an_exit_before_its_entry_names_the_trip(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("person_id: X-1\ncitizenship: RU\ntrips:\n  - {entry: 2024-03-10, exit: 2024-03-01}\n")
    code, out, err = kzmig("report", str(bad), "--on", "2024-04-01")
    assert code == 1 and out == ""
    assert "trips" in err and "bad.yaml" in err and "Traceback" not in err


def test_kzmig_report_of_a_file_of_several_persons_asks_for_one(tmp_path: Path) -> None:
    many = tmp_path / "many.jsonl"
    many.write_text('{"person_id": "A", "citizenship": "RU", "trips": []}\n' * 2)
    code, out, err = kzmig("report", str(many), "--on", "2024-04-01")
    assert code == 1 and out == "" and "a report is of one person" in err


def test_without_a_pdf_renderer_on_path_the_html_is_written_and_the_message_says_so(tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    empty = tmp_path / "bin"
    empty.mkdir()
    assert find_pdf_renderer(str(empty)) is None
    code, out, err = kzmig(
        "report",
        str(PERSONS / "overstay-B-2.yaml"),
        "--on",
        "2024-04-20",
        "--pdf",
        str(pdf),
        env={"PATH": str(empty)},
    )
    assert code == 0 and out == ""
    assert "no PDF made: no PDF renderer found" in err and "chromium" in err
    assert not pdf.exists()
    assert "Person B-2 on 2024-04-20" in (tmp_path / "report.html").read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no Chromium installed")
def test_with_chromium_installed_the_report_is_printed_to_pdf(tmp_path: Path) -> None:
    from test_reports_in_a_browser import chromium_starts

    if not chromium_starts():
        pytest.skip("Chromium is installed but does not start on this machine")
    pdf, page = tmp_path / "b2.pdf", tmp_path / "b2.html"
    code, _, err = kzmig(
        "report",
        str(PERSONS / "overstay-B-2.yaml"),
        "--on",
        "2024-04-20",
        "--out",
        str(page),
        "--pdf",
        str(pdf),
    )
    assert code == 0, err
    assert pdf.read_bytes().startswith(b"%PDF-") and f"PDF written to {pdf}" in err
    assert page.is_file()


def test_starting_kzmig_does_not_import_the_report_but_help_lists_it() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import rules.cli.app, sys; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "rules.cli.report" not in done.stdout and "rules.reports.person_report" not in done.stdout
    assert "'babel" not in done.stdout  # the report's languages load Babel when a page asks for one
    code, out, _ = kzmig("--help")
    assert code == 0 and "report" in out


def test_with_every_sentence_translated_away_no_english_word_of_the_page_is_left() -> None:
    page = person_report(
        evaluator_for(None), person("refused-RU-E2.yaml"), D(2025, 4, 1), translate=lambda _: "", lang="kk"
    )
    shown = text(page)  # what is left is the record's and the policy's (titles, sources, values)
    assert page.startswith('<!DOCTYPE html>\n<html lang="kk">')
    for phrase in (
        "Time line",
        "Days shown",
        "counted towards the limit",
        "not in the country",
        "Evaluation date",
        "Stay regime",
        "Citizenship",
        "Drawn by kzmig",
        "in force from",
        "latest exit",
        "earliest re-entry",
        "Days in the period",
        "days counted",
        "Check at the border",
        "Registration",
        "due by",
        "Why",
        "programme by programme",
        "REFUSED",
        "day(s)",
    ):
        assert phrase not in shown, phrase


def test_kzmig_report_exits_as_check_does_for_a_broken_policy_and_a_date_the_policy_does_not_decide(
    tmp_path: Path,
) -> None:
    ru_e2 = str(PERSONS / "refused-RU-E2.yaml")
    code, out, err = kzmig("report", ru_e2, "--on", "2025-04-01", "--policy", str(tmp_path))
    assert (code, out) == (3, "") and "holds no .yaml file" in err
    code, out, err = kzmig("report", ru_e2, "--on", "1990-01-01")
    assert (code, out) == (4, "") and "decides no stay status on 1990-01-01" in err
    assert "Traceback" not in err


def test_kzmig_report_to_a_place_that_cannot_be_written_says_so_and_leaves_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, out, err = kzmig(
        "report", str(PERSONS / "refused-RU-E2.yaml"), "--on", "2025-04-01", "--out", str(blocker / "r.html")
    )
    assert (code, out) == (1, "") and f"cannot write {blocker / 'r.html'}" in err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-file"]


def test_a_source_link_of_another_scheme_than_the_web_is_shown_as_text_not_linked() -> None:
    record = person("refused-RU-E2.yaml")
    verdict = evaluator_for(None).evaluate(record, D(2025, 4, 1))
    first = verdict.trace[0]
    hostile = first.model_copy(
        update={"source": first.source.model_copy(update={"href": 'javascript:alert("law")'})}
    )
    changed = verdict.model_copy(update={"trace": (hostile, *verdict.trace[1:])})
    page = render_person_report(
        changed, around(record, D(2025, 4, 1)), parse_person(record, evaluator_for(None).policy)
    )
    assert 'href="javascript' not in page and "javascript:alert(&quot;law&quot;)" in page
    assert f'href="{verdict.trace[1].source.href}"' in page


def test_2026_03_20_a_2023_overstay_reads_as_past_and_an_overdue_registration_as_overdue() -> None:
    record = {
        "person_id": "PAST-R",
        "citizenship": "RU",
        "trips": [{"entry": "2023-02-01", "exit": "2023-05-02"}, {"entry": "2026-03-02"}],
    }
    shown = text(person_report(evaluator_for(None), record, D(2026, 3, 20)))
    assert "Overstay in the past: no overstay on this day" in shown
    assert "overdue: the record gives no day it was done" in shown


def test_2026_03_20_a_registration_done_late_says_the_day_it_was_done() -> None:
    record = {
        "person_id": "LATE-R",
        "citizenship": "RU",
        "trips": [{"entry": "2026-03-02", "registered_on": "2026-03-06"}],
    }
    shown = text(person_report(evaluator_for(None), record, D(2026, 3, 20)))
    assert "done late, on 2026-03-06" in shown


# --- the page in Russian and Kazakh -----------------------------------------------------------


def _no_iso_date(shown: str) -> bool:
    return re.search(r"\b\d{4}-\d{2}-\d{2}\b", shown) is None


def test_2025_04_01_russian_back_after_90_days_reads_in_russian_with_the_law_in_russian() -> None:
    page = person_report(evaluator_for(None), person("refused-RU-E2.yaml"), D(2025, 4, 1), lang="ru")
    shown = text(page)
    assert page.startswith('<!DOCTYPE html>\n<html lang="ru">')
    assert "Лицо RU-E2 на 1 апреля 2025 г." in shown  # the title, the date the Russian way
    assert (
        "Срок пребывания: Превышение срока пребывания сейчас: лицо находится в стране сверх "
        "предельного срока" in shown
    )
    # The time line and its legend; the counts are those of the English page.
    assert "Временная шкала" in shown and "Показаны дни:" in shown
    assert "засчитывается в предельный срок: 90" in shown and "превышение срока пребывания: 1" in shown
    assert legend_count(page, DayClass.COUNTED) == 90 and legend_count(page, DayClass.OVERSTAY) == 1
    # The figures, with the forms a count takes.
    assert "91 из 90 за 180 дней, оканчивающихся 1 апреля 2025 г." in shown
    assert "с 1 апреля 2025 г. по 1 апреля 2025 г.: 1 день" in shown
    assert "не позднее 4 апреля 2025 г. (3 рабочих дня после въезда 1 апреля 2025 г." in shown
    assert "уведомление принимающей стороны" in shown  # the procedure, a status of the policy
    # The decision at the border: its status and note in Russian, its rule as written.
    assert '<span class="status status-refused">отказ</span>' in page
    assert "180-дневный период, оканчивающийся днём въезда (включая этот день)" in shown
    # The rule's title and its citation in Russian, with the act's date the Russian way.
    assert "Во въезде отказывается, если с днём въезда пребывание превысило бы 90 дней" in shown
    assert (
        "Закон Республики Казахстан «О миграции населения» от 22 июля 2011 года № 477-IV, ст. 48 "
        "(отказ во въезде)" in shown
    )
    assert "акт от 22 июля 2011 г." in shown and "норма действует с 27 января 2023 г." in shown
    assert _no_iso_date(shown)
    for english in ("Time line", "Evaluation date", "Stay limit", "due by", "in force from", "day(s)"):
        assert english not in shown, english


def test_2025_04_01_the_same_page_in_kazakh() -> None:
    page = person_report(evaluator_for(None), person("refused-RU-E2.yaml"), D(2025, 4, 1), lang="kk")
    shown = text(page)
    assert page.startswith('<!DOCTYPE html>\n<html lang="kk">')
    assert "RU-E2 тұлғасы, тексеру күні: 2025 ж. 1 сәуір" in shown
    assert "Болу мерзімі: Қазір болу мерзімін асыру: адам елде шекті мерзімнен тыс жүр" in shown
    assert "Уақыт шкаласы" in shown and "шекті мерзімге есептеледі: 90" in shown
    assert "2025 ж. 1 сәуір күні аяқталатын 180 күнде: 91, шегі 90" in shown
    assert '<span class="status status-refused">бас тарту</span>' in page
    assert "Келу күнімен бірге болу 180 күндік кезеңде 90 күннен асатын болса, келуден бас тартылады" in shown
    assert "Қазақстан Республикасының Заңы, 48-бап (келуден бас тарту)" in shown
    assert "2011 ж. 22 шілде актісі" in shown
    assert "2025 ж. 1 сәуір күні келгеннен кейін 3 жұмыс күні ішінде)" in shown
    assert _no_iso_date(shown)


_ENGLISH_ONLY_REFUSAL = """\
schema: kzmig/policy/2
title: The refusal of entry retitled in English only
rules:
  - id: entry.refusal
    title: Entry is refused beyond the limit (amended, English only)
    source: {title: Migration Law art. 48 (amended citation), href: https://adilet.zan.kz/rus/docs/Z1100000477}
    from: 2023-01-27
    when:
      all:
        - {fact: stay.status, in: [compliant, overstay, exempt]}
        - {fact: stay.entered_today, eq: true}
        - {fact: stay.over_limit, eq: true}
    then: {status: refused}
    overrides: [sanction.warning, sanction.fine, sanction.fine_longer, sanction.evading_departure]
"""


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_a_title_or_source_the_policy_gives_only_in_english_is_shown_in_english(
    language: str, tmp_path: Path
) -> None:
    amendment = tmp_path / "refusal.yaml"
    amendment.write_text(_ENGLISH_ONLY_REFUSAL, encoding="utf-8")
    evaluator = Evaluator(rules.load_policy(amendments=[amendment]))
    page = person_report(evaluator, person("refused-RU-E2.yaml"), D(2025, 4, 1), lang=language)
    assert "Entry is refused beyond the limit (amended, English only)" in page
    assert "Migration Law art. 48 (amended citation)" in page
    limit = next(rule for rule in evaluator.policy.rules if rule.id == "stay.limit")
    assert limit.titled(language) != limit.title  # a rule the policy gives in the language
    # as the verdict of 2025-04-01 shows it: the parameters it quotes filled in
    assert html.escape(rule_title(evaluator.policy, limit, D(2025, 4, 1), language)) in page
    assert html.escape(rule_title(evaluator.policy, limit, D(2025, 4, 1))) not in page


def test_2026_03_10_residence_applicant_checklist_reads_in_russian_with_the_rules_titles() -> None:
    page = person_report(evaluator_for(None), person("residence-RA-1.yaml"), D(2026, 3, 10), lang="ru")
    shown = text(page)
    assert "обязательные условия выполнено Тест по казахскому языку сдан на требуемом уровне" in shown
    assert "temporary_residence_permit, действует с 1 сентября 2025 г. по 31 августа 2026 г." in shown
    assert "rule=" not in shown  # each rule of the checklist is listed, not the record's repr


class _Asked(gettext.NullTranslations):
    """The real catalogue, noting each message, plural and code (with its context) asked for."""

    def __init__(self, real: gettext.NullTranslations) -> None:
        super().__init__()
        self.real = real
        self.asked: set[tuple[str | None, str]] = set()

    def gettext(self, message: str) -> str:
        self.asked.add((None, message))
        return self.real.gettext(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        self.asked.add((None, msgid1))
        return self.real.ngettext(msgid1, msgid2, n)

    def pgettext(self, context: str, message: str) -> str:
        self.asked.add((context, message))
        return self.real.pgettext(context, message)


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_every_message_status_and_label_the_example_pages_ask_for_is_in_the_catalogue(language: str) -> None:
    with (LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as file:
        catalogue = read_po(file)
    known = {
        (message.context, message.id[0] if isinstance(message.id, tuple) else message.id)
        for message in catalogue
        if message.id and message.string and all(message.string)
    }
    evaluator = evaluator_for(None)
    asked = _Asked(gettext.translation(DOMAIN, LOCALE_DIR, languages=[language]))
    words = replace(wording(language, evaluator.policy), catalogue=asked)
    for name, on in [
        ("overstay-B-2.yaml", D(2024, 4, 20)),
        ("overstay-B-2.yaml", D(2024, 5, 20)),
        ("refused-RU-E2.yaml", D(2025, 4, 1)),
        ("residence-RA-1.yaml", D(2026, 3, 10)),
        ("kandas-KD-1.yaml", D(2027, 7, 1)),
        ("driver-A-17.json", D(2024, 8, 1)),
        ("crossings-RU-C1.json", D(2024, 8, 1)),
    ]:
        person_report(evaluator, person(name), on, words=words)
    assert len(asked.asked) > 60
    assert asked.asked <= known, sorted(asked.asked - known, key=str)


def _error(err: str) -> str:
    """The error box of a usage error, as one line."""
    box = err[err.index("Error") :]
    return " ".join(box.translate(str.maketrans("", "", "│╭╮╰╯─")).split())


def test_kzmig_report_lang_ru_and_kzmig_lang_kk_give_the_page_in_that_language(tmp_path: Path) -> None:
    ru_e2 = str(PERSONS / "refused-RU-E2.yaml")
    code, out, _ = kzmig("report", ru_e2, "--on", "2025-04-01", "--lang", "ru")
    assert code == 0 and '<html lang="ru">' in out and "Лицо RU-E2 на 1 апреля 2025 г." in text(out)
    code, out, _ = kzmig("report", ru_e2, "--on", "2025-04-01", env={"KZMIG_LANG": "kk"})
    assert code == 0 and '<html lang="kk">' in out and "Уақыт шкаласы" in out
    target = tmp_path / "ru-e2.html"
    code, out, err = kzmig(
        "report", ru_e2, "--on", "2025-04-01", "--lang", "ru", "--out", str(target), env={"KZMIG_LANG": "kk"}
    )
    assert code == 0 and out == "" and '<html lang="ru">' in target.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "env"),
    [(("--lang", "de"), {}), ((), {"KZMIG_LANG": "fr"})],
)
def test_kzmig_report_in_a_language_kzmig_does_not_speak_exits_2_as_check_does(
    args: tuple[str, ...], env: dict[str, str]
) -> None:
    ru_e2 = str(PERSONS / "refused-RU-E2.yaml")
    code, out, err = kzmig("report", ru_e2, "--on", "2025-04-01", *args, env=env)
    check_code, _, check_err = kzmig("check", ru_e2, "--on", "2025-04-01", *args, env=env)
    assert (code, out) == (2, "") and check_code == 2
    assert "unknown language" in err and "kzmig speaks en, ru, kk" in _error(err)
    assert _error(err) == _error(check_err)
    assert "Traceback" not in err


def test_in_english_the_page_is_the_same_whether_asked_for_or_by_default() -> None:
    ru_e2 = str(PERSONS / "overstay-B-2.yaml")
    _, default, _ = kzmig("report", ru_e2, "--on", "2024-04-20", env={"KZMIG_LANG": ""})
    _, asked, _ = kzmig("report", ru_e2, "--on", "2024-04-20", "--lang", "en", env={"KZMIG_LANG": "ru"})
    _, from_env, _ = kzmig("report", ru_e2, "--on", "2024-04-20", env={"KZMIG_LANG": "en"})
    assert default == asked == from_env
    assert default == person_report(evaluator_for(None), person("overstay-B-2.yaml"), D(2024, 4, 20))
    assert default.startswith('<!DOCTYPE html>\n<html lang="en">')
    shown = text(default)
    assert "Person B-2 on 2024-04-20" in shown and "2024-01-31 to 2024-02-05: 6 day(s)" in shown
    assert "Limit per entry 30 days" in shown
    assert "host notification due by" in shown and "working days after the entry on" in shown
    assert "Time line" in shown and "counted towards the limit: 71" in shown


def test_kzmig_report_help_names_the_languages() -> None:
    code, out, _ = kzmig("report", "--help")
    assert code == 0 and "--lang" in out and "KZMIG_LANG" in out


def test_the_written_page_is_an_ordinary_file_readable_as_the_umask_allows(tmp_path: Path) -> None:
    import os

    out = tmp_path / "page.html"
    umask = os.umask(0o022)
    try:
        result = CliRunner().invoke(
            app, ["report", str(PERSONS / "overstay-B-2.yaml"), "--on", "2024-04-20", "--out", str(out)]
        )
    finally:
        os.umask(umask)
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o644
