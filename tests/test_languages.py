"""The text output in Russian and Kazakh (``--lang ru|kk``, ``KZMIG_LANG``): the program's
words from its catalogues, the law's titles from the policy where it gives them (English where
it does not), dates the language's way; JSON and English untouched; an unknown language refused.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from models.policy import Rule
from rules.cli.app import app
from rules.errors import KzmigError, PolicyError
from rules.policy.loader import load_policy
from rules.policy.titles import rule_title
from rules.reports.language import chosen_language, date_formatter, translator, wording

ROOT = Path(__file__).resolve().parents[1]
OVERSTAY = ["check", "examples/persons/overstay-B-2.yaml", "--on", "2024-05-20"]
REFUSED = ["check", "examples/persons/refused-RU-E2.yaml", "--on", "2025-04-01"]
PLAN = ["plan", "examples/persons/plan-RU-P1.yaml", "--enter", "2026-05-01", "--days", "30"]


def titled(rule: Rule, language: str | None, on: str) -> str:
    """The title of ``rule`` as a verdict on ``on`` shows it (its slots filled, see
    :mod:`rules.policy.titles`), in ``language`` (English: ``None``)."""
    return rule_title(load_policy(), rule, dt.date.fromisoformat(on), language)


def _run(args: list[str], **env: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args, env=env or None)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def _in_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("KZMIG_LANG", raising=False)


def test_2024_05_20_an_overstay_in_russian_gives_headline_figures_dates_and_sanction() -> None:
    code, out, _ = _run([*OVERSTAY, "--lang", "ru"])
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Лицо B-2 на 20 мая 2024 г.  (политика kz ")
    assert lines[2] == (
        "Срок пребывания: ПРЕВЫШЕНИЕ СРОКА ПРЕБЫВАНИЯ СЕЙЧАС - "
        "лицо находится в стране сверх предельного срока"
    )
    assert "  дней использовано в 180-дневном периоде, оканчивающемся 20 мая 2024 г.: 107 из 90" in lines
    assert "    с 31 января 2024 г. по 5 февраля 2024 г.: 6 дней" in lines
    assert "    с 4 мая 2024 г. по 20 мая 2024 г.: 17 дней" in lines
    assert any(
        line.startswith(
            "  санкция за превышение срока пребывания с 4 мая 2024 г. по 20 мая 2024 г. (17 дней): "
        )
        for line in lines
    )
    assert "(3 рабочих дня после въезда 10 апреля 2024 г.)" in out
    assert "Предупреждения:" in lines
    assert any(
        line.startswith("  ! регистрация просрочена: уведомление принимающей стороны") for line in lines
    )
    evading = next(rule for rule in load_policy().rules if rule.id == "sanction.evading_departure")
    assert evading.title_ru is not None and evading.note_ru is not None
    assert evading.source.title_ru is not None
    assert f"      {titled(evading, 'ru', '2024-05-20')}" in lines
    assert f"      {evading.source.title_ru}  [акт от 5 июля 2014 г.]" in lines
    assert f"      примечание: {evading.note_ru}" in lines
    english = titled(evading, None, "2024-05-20")
    assert english not in out and evading.source.title not in out and evading.note not in out


def test_2024_05_20_an_overstay_in_kazakh_gives_kazakh_words_and_dates() -> None:
    code, out, _ = _run([*OVERSTAY, "--lang", "kk"])
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("B-2 тұлғасы, тексеру күні: 2024 ж. 20 мамыр")
    assert lines[2] == "Болу мерзімі: ҚАЗІР БОЛУ МЕРЗІМІН АСЫРУ - адам елде шекті мерзімнен тыс жүр"
    assert any("ШЫҒАРЫП ЖІБЕРУ" in line for line in lines)
    assert "Ескертулер:" in lines
    evading = next(rule for rule in load_policy().rules if rule.id == "sanction.evading_departure")
    assert evading.title_kk is not None and evading.note_kk is not None
    assert evading.source.title_kk is not None
    assert f"      {titled(evading, 'kk', '2024-05-20')}" in lines
    assert f"      {evading.source.title_kk}  [2014 ж. 5 шілде актісі]" in lines
    assert f"      ескертпе: {evading.note_kk}" in lines
    english = titled(evading, None, "2024-05-20")
    assert english not in out and evading.source.title not in out and evading.note not in out


def test_2025_04_01_a_refusal_of_entry_shows_the_policys_russian_and_kazakh_titles_and_citation() -> None:
    _, russian, _ = _run([*REFUSED, "--lang", "ru"])
    _, kazakh, _ = _run([*REFUSED, "--lang", "kk"])
    refusal = next(rule for rule in load_policy().rules if rule.id == "entry.refusal")
    assert refusal.title_ru is not None and refusal.title_kk is not None
    assert f"      {titled(refusal, 'ru', '2025-04-01')}" in russian.splitlines()
    assert f"      {titled(refusal, 'kk', '2025-04-01')}" in kazakh.splitlines()
    assert titled(refusal, None, "2025-04-01") not in russian + kazakh
    assert any(
        line.startswith("  на границе 1 апреля 2025 г.: ОТКАЗ - 180-дневный период")
        for line in russian.splitlines()
    )
    assert refusal.source.title_ru is not None and refusal.source.title_kk is not None
    # each citation with the act's own date, written the language's way
    assert f"      {refusal.source.title_ru}  [акт от 22 июля 2011 г.]" in russian.splitlines()
    assert any(line.startswith(f"      {refusal.source.title_kk}  [") for line in kazakh.splitlines())


AMENDED_REFUSAL = """\
schema: kzmig/policy/2
title: The refusal of entry with a Russian title and no Kazakh one
rules:
  - id: entry.refusal
    title: Entry is refused beyond 90 days in 180 (amended)
    title_ru: Во въезде отказывается сверх 90 дней из 180 (изменено)
    source: {title: Law "On Population Migration" art. 48, href: https://adilet.zan.kz/rus/docs/Z1100000477}
    from: 2023-01-27
    when:
      all:
        - {fact: stay.status, in: [compliant, overstay, exempt]}
        - {fact: stay.entered_today, eq: true}
        - {fact: stay.over_limit, eq: true}
    then: {status: refused}
    overrides: [sanction.warning, sanction.fine, sanction.fine_longer, sanction.evading_departure]
"""


def test_2025_04_01_a_rule_without_a_kazakh_title_shows_its_english_title_in_kazakh_text(
    tmp_path: Path,
) -> None:
    amendment = tmp_path / "refusal.yaml"
    amendment.write_text(AMENDED_REFUSAL, encoding="utf-8")
    _, kazakh, _ = _run([*REFUSED, "--lang", "kk", "--amend", str(amendment)])
    _, russian, _ = _run([*REFUSED, "--lang", "ru", "--amend", str(amendment)])
    assert "      Entry is refused beyond 90 days in 180 (amended)" in kazakh.splitlines()
    assert "      Во въезде отказывается сверх 90 дней из 180 (изменено)" in russian.splitlines()
    assert "Entry is refused beyond" not in russian


def test_a_title_falls_back_to_english_form_by_form() -> None:
    rule = Rule.model_validate(
        {
            "id": "entry.example",
            "title": "An example rule",
            "title_ru": "Пример правила",
            "note": "An example note",
            "source": {"title": "An example source", "href": "https://example.org/"},
            "from": "2024-01-01",
        }
    )
    assert rule.titled("ru") == "Пример правила"
    assert rule.titled("kk") == "An example rule"
    assert rule.titled("en") == "An example rule"
    assert rule.noted("ru") == "An example note"


def test_a_translated_note_without_its_english_note_is_refused_by_the_loader(tmp_path: Path) -> None:
    amendment = tmp_path / "note.yaml"
    amendment.write_text(
        "schema: kzmig/policy/2\ntitle: A note in Russian only\nrules:\n"
        "  - id: entry.admitted\n    title: A person within the limit is admitted\n"
        "    note_ru: Только по-русски\n"
        "    source: {title: An example source, href: https://example.org/}\n"
        "    from: 2023-01-27\n    then: {status: admitted}\n",
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as raised:
        load_policy(None, [amendment])
    assert "needs the English 'note'" in raised.value.describe()
    assert "note.yaml" in raised.value.describe()


def test_an_unknown_language_is_a_usage_error_naming_the_languages() -> None:
    code, _, err = _run([*OVERSTAY, "--lang", "xx"])
    assert code == 2
    assert "unknown language 'xx'" in err and "en, ru, kk" in err


def test_an_unknown_language_in_kzmig_lang_is_a_usage_error_naming_the_variable() -> None:
    code, _, err = _run(OVERSTAY, KZMIG_LANG="de")
    assert code == 2
    assert "'de' (from KZMIG_LANG)" in err


def test_kzmig_lang_chooses_the_language_and_the_option_overrides_it() -> None:
    _, by_variable, _ = _run(OVERSTAY, KZMIG_LANG="ru")
    _, by_option, _ = _run([*OVERSTAY, "--lang", "ru"])
    _, english, _ = _run([*OVERSTAY, "--lang", "en"], KZMIG_LANG="ru")
    _, default, _ = _run(OVERSTAY)
    assert by_variable == by_option
    assert english == default
    assert english.startswith("Person B-2 on 2024-05-20")


@pytest.mark.parametrize("language", ["ru", "kk"])
@pytest.mark.parametrize("args", [OVERSTAY, REFUSED, PLAN], ids=["check", "refused", "plan"])
def test_json_is_the_same_in_every_language(args: list[str], language: str) -> None:
    _, english, _ = _run([*args, "--format", "json"])
    _, translated, _ = _run([*args, "--format", "json", "--lang", language])
    assert json.loads(translated) == json.loads(english)
    assert translated == english


def test_2026_05_01_a_plan_in_russian_gives_the_answer_and_the_notes() -> None:
    code, out, _ = _run([*PLAN, "--lang", "ru"])
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Лицо RU-P1, въезд 1 мая 2026 г.")
    assert lines[2] == (
        "Срок пребывания: пребывание НЕ допускается: с 1 мая 2026 г. нельзя провести ни одного дня "
        "(предел дней в периоде)"
    )
    assert "  ближайший въезд для пребывания на 30 дней: 30 июня 2026 г." in lines
    assert lines[4].startswith("  - при пребывании в 1 дн. день 1 мая 2026 г. стал бы днём превышения")


@pytest.mark.parametrize("command", ["check", "plan"])
def test_the_help_of_lang_says_json_stays_english(command: str) -> None:
    group: Any = typer.main.get_command(app)  # typer's own click group
    options = {option: param for param in group.commands[command].params for option in param.opts}
    assert "JSON stays English" in (getattr(options["--lang"], "help", None) or "")


def test_the_library_api_gives_a_translator_and_a_date_formatter() -> None:
    assert translator("ru")("Warnings:") == "Предупреждения:"
    assert translator("kk")("Warnings:") == "Ескертулер:"
    assert translator("en")("Warnings:") == "Warnings:"
    assert translator(" RU ")("Warnings:") == "Предупреждения:"
    assert date_formatter("ru")(dt.date(2025, 9, 1)) == "1 сентября 2025 г."
    assert date_formatter("en")(dt.date(2025, 9, 1)) == "2025-09-01"
    assert date_formatter("KK")(dt.date(2025, 9, 1)) == "2025 ж. 1 қыркүйек"
    assert date_formatter("ru", plain=False)(dt.date(2025, 9, 1)) == "1 сентября 2025\u202fг."
    assert wording("kk").date(dt.date(2025, 9, 1)).startswith("2025")
    with pytest.raises(KzmigError, match="kzmig speaks en, ru, kk"):
        chosen_language("fr")


def _modules_after(args: list[str]) -> set[str]:
    code = (
        "import json, sys\nfrom typer.testing import CliRunner\nfrom rules.cli.app import app\n"
        f"CliRunner().invoke(app, {args!r})\nprint(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_english_text_neither_imports_babel_nor_reads_a_catalogue() -> None:
    loaded = _modules_after(OVERSTAY)
    assert not {name for name in loaded if name == "babel" or name.startswith("babel.")}


def test_russian_text_imports_babel_for_its_dates() -> None:
    assert "babel.dates" in _modules_after([*OVERSTAY, "--lang", "ru"])


def _russian_day(count: int) -> str:
    """The Russian grammar of a count of days, written out for the test."""
    if count % 10 == 1 and count % 100 != 11:
        return "день"
    if 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14:
        return "дня"
    return "дней"


@given(st.integers(min_value=0, max_value=100_000))
def test_a_count_of_days_takes_its_russian_form_and_stays_singular_in_kazakh(count: int) -> None:
    russian = wording("ru").plural("{days} day(s)", "{days} day(s)", count).format(days=count)
    kazakh = wording("kk").plural("{days} day(s)", "{days} day(s)", count).format(days=count)
    assert russian == f"{count} {_russian_day(count)}"
    assert kazakh == f"{count} күн"


@given(st.dates(min_value=dt.date(1991, 12, 16), max_value=dt.date(2100, 12, 31)))
def test_every_date_is_written_with_its_year_the_russian_and_kazakh_way(day: dt.date) -> None:
    russian, kazakh = date_formatter("ru")(day), date_formatter("kk")(day)
    assert russian.startswith(f"{day.day} ") and russian.endswith(f" {day.year} г.")
    assert kazakh.startswith(f"{day.year} ж. {day.day} ")
    assert "\u00a0" not in russian + kazakh and "\u202f" not in russian + kazakh


def test_2027_07_01_a_programmes_own_warning_is_shown_in_the_policys_kazakh_form() -> None:
    policy = load_policy()
    spec = next(
        spec
        for spec in policy.programmes["social_contract"].warnings
        if spec.text_kk is not None and "relocation" in spec.text
    )
    _, out, _ = _run(["check", "examples/persons/kandas-KD-1.yaml", "--on", "2027-07-01", "--lang", "kk"])
    assert any(line.startswith(f"  ! social_contract: {spec.text_kk}: kind ") for line in out.splitlines())
    assert spec.text not in out


def test_2024_06_01_a_plan_warns_in_russian_of_the_overstay_days_already_on_the_record(
    tmp_path: Path,
) -> None:
    person = tmp_path / "T-1.yaml"
    person.write_text(
        "person_id: T-1\ncitizenship: RU\ntrips:\n  - {entry: 2024-01-01, exit: 2024-04-15}\n",
        encoding="utf-8",
    )
    _, out, _ = _run(["plan", str(person), "--enter", "2024-06-01", "--lang", "ru"])
    assert "  ! в записи до 1 июня 2024 г. есть дни превышения срока пребывания: 16 (" in out


#: The policy files of the sanctions (Code of Administrative Offences arts. 517 and 518), whose
#: every title and note a caseworker reads in Russian and Kazakh.
SANCTION_FILES = ["sanctions-art-517.yaml", "host-liability-art-518.yaml"]
#: Every policy file whose titles and notes are all given in Russian and Kazakh: the sanctions
#: and the stay limit with its regimes.
TRANSLATED_FILES = [*SANCTION_FILES, "stay-limit.yaml"]


def _translatable(name: str) -> list[tuple[str, dict[str, Any], list[str]]]:
    """Every item of a policy file that carries a title or a note to translate: (where, the
    item, its English keys that need a Russian and a Kazakh form)."""
    document = yaml.safe_load((ROOT / "policies" / "kz" / name).read_text(encoding="utf-8"))
    items: list[tuple[str, dict[str, Any], list[str]]] = []
    for key, source in (document.get("x-sources") or {}).items():
        items.append((f"x-sources.{key}", source, ["title"]))
    for key, programme in (document.get("programmes") or {}).items():
        items.append((f"programmes.{key}", programme, [k for k in ("title", "note") if k in programme]))
    for rule in document.get("rules") or []:
        items.append((f"rule {rule['id']}", rule, [k for k in ("title", "note") if k in rule]))
        if isinstance(rule.get("then"), dict) and "note" in rule["then"]:
            items.append((f"rule {rule['id']} then", rule["then"], ["note"]))
    return items


@pytest.mark.parametrize("name", TRANSLATED_FILES)
def test_every_title_and_note_of_a_translated_file_has_its_russian_and_kazakh_form(name: str) -> None:
    items = _translatable(name)
    assert any(where.startswith("rule ") for where, _, _ in items)
    assert any(where.startswith("programmes.") for where, _, _ in items)
    lacking = [
        f"{where}: {key}_{language}"
        for where, item, keys in items
        for key in keys
        for language in ("ru", "kk")
        if not item.get(f"{key}_{language}")
    ]
    assert lacking == []
    same = [
        f"{where}: {key}"
        for where, item, keys in items
        for key in keys
        if len({item[key], item[f"{key}_ru"], item[f"{key}_kk"]}) < 3
    ]
    assert same == []


@pytest.mark.parametrize("name", SANCTION_FILES)
def test_the_sanctions_russian_and_kazakh_forms_use_the_terms_of_kazakhstans_law(name: str) -> None:
    for where, item, keys in _translatable(name):
        for key in keys:
            english, russian, kazakh = item[key], item[f"{key}_ru"], item[f"{key}_kk"]
            if "MCI" in english:
                assert "МРП" in russian and "АЕК" in kazakh, where
            if "expulsion" in english.lower():
                assert "выдворен" in russian and "шығарып жібер" in kazakh, where
            if "Code of the Republic of Kazakhstan on Administrative Offences" in english:
                assert "Кодекс Республики Казахстан об административных правонарушениях" in russian, where
                assert "Қазақстан Республикасының Әкімшілік құқық бұзушылық туралы кодексі" in kazakh, where
            if "host" in english.lower():
                assert "принимающ" in russian.lower() and "қабылдаушы" in kazakh.lower(), where


def test_the_stay_limits_russian_and_kazakh_forms_use_the_terms_of_kazakhstans_law() -> None:
    for where, item, keys in _translatable("stay-limit.yaml"):
        for key in keys:
            english, russian, kazakh = item[key], item[f"{key}_ru"], item[f"{key}_kk"]
            if "EAEU" in english:
                assert "ЕАЭС" in russian and "ЕАЭО" in kazakh, where
            if "overstay" in english:
                assert "превышени" in russian and "срока пребывания" in russian, where
                assert "болу мерзімін асыру" in kazakh, where
            if "stay limit" in english:
                assert "Предельный срок пребывания" in russian, where
                assert "болудың шекті мерзімі" in kazakh, where
            if "On Population Migration" in english or "Migration Law" in english:
                assert "«О миграции населения»" in russian, where
                assert "«Халықтың көші-қоны туралы»" in kazakh, where
            if "Government Decree" in english:
                assert "Постановление Правительства" in russian, where
                assert "Үкіметтің" in kazakh and "қаулысы" in kazakh, where


STAY_RULES_OF_AN_OVERSTAY = ["stay.limit", "stay.overstay"]


@pytest.mark.parametrize(("language", "note_label"), [("ru", "примечание"), ("kk", "ескертпе")])
def test_2024_05_20_an_overstay_cites_the_stay_limits_rules_and_the_migration_law_in_the_language(
    language: str, note_label: str
) -> None:
    _, out, _ = _run([*OVERSTAY, "--lang", language])
    lines = out.splitlines()
    rules = {rule.id: rule for rule in load_policy().rules}
    for rule_id in STAY_RULES_OF_AN_OVERSTAY:
        rule = rules[rule_id]
        assert rule.titled(language) != rule.title and rule.source.titled(language) != rule.source.title
        assert f"      {titled(rule, language, '2024-05-20')}" in lines
        assert any(line.startswith(f"      {rule.source.titled(language)}") for line in lines)  # [act of]
        assert titled(rule, None, "2024-05-20") not in out and rule.source.title not in out
    limit = rules["stay.limit"]
    assert limit.note is not None and limit.noted(language) != limit.note
    assert f"      {note_label}: {limit.noted(language)}" in lines
    assert limit.note not in out


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_2024_05_20_a_visa_national_is_told_in_the_language_that_the_visa_governs_the_stay(
    tmp_path: Path, language: str
) -> None:
    person = tmp_path / "T-2.yaml"
    person.write_text(
        "person_id: T-2\ncitizenship: AF\ntrips:\n  - {entry: 2024-01-01, exit: 2024-01-20}\n",
        encoding="utf-8",
    )
    _, out, _ = _run(["check", str(person), "--on", "2024-05-20", "--lang", language])
    lines = out.splitlines()
    visa_national = next(rule for rule in load_policy().rules if rule.id == "stay.visa_national")
    assert visa_national.title_ru and visa_national.title_kk and visa_national.source.title_ru
    assert "  * stay.visa_national  [" in lines[lines.index(f"      {visa_national.titled(language)}") - 1]
    assert any(line.startswith(f"      {visa_national.source.titled(language)}") for line in lines)
    assert visa_national.title not in out and visa_national.source.title not in out


def test_a_programme_warning_whose_text_holds_a_colon_is_shown_in_the_policys_form() -> None:
    """'{programme}: {text}: {items}' also matches a text that holds ': ' itself; the reading
    whose text is the policy's is the one taken."""
    import dataclasses

    from rules.reports.language import sentence
    from rules.reports.text import WARNINGS

    english = "the record says so (see X): check it"
    words = dataclasses.replace(wording("ru"), policy_text={english: "запись так говорит (см. X): проверьте"})
    assert (
        sentence(f"residence: {english}", WARNINGS, words)
        == "residence: запись так говорит (см. X): проверьте"
    )
    listed = f"residence: {english}: kind a"
    assert sentence(listed, WARNINGS, words) == "residence: запись так говорит (см. X): проверьте: kind a"
