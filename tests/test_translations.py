"""The Russian and Kazakh catalogues are complete, compiled, and what the code asks for.

The messages are the program's own words, marked in the text reports (``_``, ``N_``,
``words.text``, ``words.plural``) and the printable report (``say``, ``says``), and the codes
of the shipped policy a text report shows (statuses, the names of reported values) under the
contexts ``status`` and ``label``: those of the policy's programmes and rules, and those the
example persons' reports ask for.

After a change to a marked message or to the shipped policy's vocabulary, run
``python tests/test_translations.py``: it rewrites the template ``kzmig.pot``, adds each new
message to the ``.po`` catalogues (untranslated: this test fails until a translator fills it
in) and compiles every ``.po`` into its ``.mo``.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from rules.engine.evaluator import Evaluator
from rules.policy.loader import load_policy
from rules.reports.language import DOMAIN, LABEL, LANGUAGES, LOCALE_DIR, STATUS, Wording, _policy_text
from rules.reports.person_report import person_report
from rules.reports.plan_text import render_plan_text
from rules.reports.text import render_text
from rules.stay.planning import plan_with

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "src" / "rules" / "reports"
SOURCES = sorted([*REPORTS.glob("*text.py"), REPORTS / "person_report.py"])
#: ``say`` and ``says`` (a count's forms) are the printable page's (rules.reports.person_report).
KEYWORDS: dict[str, Any] = {
    "_": None,
    "N_": None,
    "text": None,
    "plural": (1, 2),
    "say": None,
    "says": (1, 2),
}
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
TRANSLATED = [language for language in LANGUAGES if language != "en"]
#: The example persons and the dates the README shows them on: their reports' vocabulary.
PERSONS = {
    "overstay-B-2.yaml": "2024-05-20",
    "refused-RU-E2.yaml": "2025-04-01",
    "residence-RA-1.yaml": "2026-06-01",
    "kandas-KD-1.yaml": "2027-07-01",
    "driver-A-17.json": "2024-08-01",
}
PLANS = {"plan-RU-P1.yaml": "2026-05-01"}
_SLOT = re.compile(r"\{([a-z_]+)\}")


class _Asked(gettext.NullTranslations):
    """A catalogue that notes every code a report asks for under a context."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[tuple[str, str]] = set()

    def pgettext(self, context: str, message: str) -> str:
        self.asked.add((context, message))
        return message


def _vocabulary() -> set[tuple[str, str]]:
    """The codes of the shipped policy that a text report shows, with their context."""
    policy = load_policy()
    found = {(STATUS, status) for programme in policy.programmes.values() for status in programme.precedence}
    for programme in policy.programmes.values():
        for key, item in programme.report.items():
            found.add((LABEL, key))
            if isinstance(item, dict) and isinstance(item.get("timeline"), dict):
                found |= {(LABEL, label) for label in item["timeline"]}
    for rule in policy.rules:
        found |= {(LABEL, name) for name in rule.then.values}
    asked = _Asked()
    # The policy's own texts (titles, notes, warnings) are shown in their forms, never looked up
    # as codes: the test's language has no forms, so it shows them as they are.
    texts = {english: english for english in _policy_text(policy, "ru")}
    words = Wording("xx", asked, dt.date.isoformat, str, texts)
    evaluator = Evaluator(policy)
    from rules.cli.records import read_records

    for names, run, render in (
        (PERSONS, evaluator.evaluate, render_text),
        (PLANS, lambda data, day: plan_with(evaluator, data, day, 30), render_plan_text),
    ):
        for name, on in names.items():
            for record in read_records(str(ROOT / "examples" / "persons" / name)):
                assert record.data is not None
                render(run(record.data, dt.date.fromisoformat(on)), words)  # type: ignore[operator]
    for name, on in PERSONS.items():  # the printable page names the keys of a section's records too
        for record in read_records(str(ROOT / "examples" / "persons" / name)):
            person_report(evaluator, record.data or {}, dt.date.fromisoformat(on), words=words)
    return found | asked.asked


def template() -> Catalog:
    """The catalogue template: every marked message of the reports and the policy's vocabulary."""
    catalog = Catalog(project="kzmig", domain=DOMAIN, creation_date=dt.datetime(2026, 11, 26))
    for path in SOURCES:
        for line, message, comments, context in extract_from_file("python", path, KEYWORDS):
            where = (str(path.relative_to(ROOT)), line)
            catalog.add(message, locations=[where], auto_comments=comments, context=context)
    for context, code in sorted(_vocabulary()):
        catalog.add(code, context=context, locations=[("policies/kz", 0)])
    return catalog


def _read(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def _ids(catalog: Catalog) -> set[tuple[Any, str | None]]:
    return {(message.id, message.context) for message in catalog if message.id}


def _catalogue_path(language: str, suffix: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.{suffix}"


def test_the_template_holds_every_marked_message_and_policy_code() -> None:
    assert _ids(_read(TEMPLATE)) == _ids(template()), "rerun: python tests/test_translations.py"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_in(language: str) -> None:
    catalog = _read(_catalogue_path(language, "po"))
    assert _ids(catalog) == _ids(_read(TEMPLATE)), "rerun: python tests/test_translations.py"
    for message in catalog:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(forms), f"{language}: {message.id!r} has no translation"
        assert not message.fuzzy, f"{language}: {message.id!r} is marked fuzzy"
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        slots = set(_SLOT.findall(english[0]))
        for form in forms:
            assert set(_SLOT.findall(form)) == slots, f"{language}: {form!r} does not fill {sorted(slots)}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalogue_is_its_po_source(language: str) -> None:
    source = _read(_catalogue_path(language, "po"))
    with _catalogue_path(language, "mo").open("rb") as file:
        compiled = gettext.GNUTranslations(file)
    for message in source:
        if not message.id:
            continue
        context = f"{message.context}\x04" if message.context else ""
        if isinstance(message.id, tuple):
            for index, form in enumerate(message.string):
                assert compiled._catalog[(context + message.id[0], index)] == form  # type: ignore[attr-defined]
        else:
            assert compiled._catalog[context + message.id] == message.string  # type: ignore[attr-defined]
    assert len(compiled._catalog) - 1 == sum(  # type: ignore[attr-defined]
        len(m.string) if isinstance(m.id, tuple) else 1 for m in source if m.id
    )


def _regenerate() -> None:
    """Rewrite the template, update each ``.po`` with it, compile each into its ``.mo``."""
    fresh = template()
    TEMPLATE.parent.mkdir(parents=True, exist_ok=True)
    with TEMPLATE.open("wb") as file:
        write_po(file, fresh, width=100, sort_output=True, omit_header=False, include_lineno=False)
    for language in TRANSLATED:
        path = _catalogue_path(language, "po")
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            catalog = _read(path)
            catalog.update(fresh, no_fuzzy_matching=True)
            catalog.obsolete.clear()
        else:
            catalog = Catalog(locale=language, project="kzmig", domain=DOMAIN)
            catalog.update(fresh, no_fuzzy_matching=True)
        catalog.revision_date = dt.datetime(2026, 11, 26)
        catalog.creation_date = dt.datetime(2026, 11, 26)
        with path.open("wb") as file:
            write_po(file, catalog, width=100, sort_output=True, ignore_obsolete=True, include_lineno=False)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        _catalogue_path(language, "mo").write_bytes(buffer.getvalue())
        forms = [m.string if isinstance(m.string, tuple) else (m.string,) for m in catalog if m.id]
        missing = [form for form in forms if not all(form)]
        print(f"{language}: {len(catalog)} messages, {len(missing)} untranslated", file=sys.stderr)


if __name__ == "__main__":
    _regenerate()
