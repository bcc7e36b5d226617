"""The language a caseworker reads the text output in: English, Russian or Kazakh.

The program's own words (headlines, labels, the engine's warnings) are gettext messages: marked
in the code with ``_`` (or :func:`N_` where a table defines them), translated in the catalogues
``rules/locale/<language>/LC_MESSAGES/kzmig.po`` and read at run time, compiled (``.mo``), with
the standard library's :mod:`gettext`. The words of the law (rule and programme titles and
notes) come from the policy, which may give them in Russian and Kazakh beside English
(``title_ru``, ``title_kk``, ...); where it does not, English is shown.

English costs nothing: no catalogue is read and Babel is not imported. Babel (the Unicode
CLDR's formats) is imported only to write a date or an amount the Russian or Kazakh way
("1 сентября 2025 г."). The JSON documents are never translated: their keys and values are a
contract with other systems.

``python tests/test_translations.py`` extracts the messages, updates the catalogues and
compiles them; the test beside it checks that each is translated and compiled.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rules.errors import KzmigError, did_you_mean
from rules.policy.titles import render, slots, template_pattern

if TYPE_CHECKING:
    from models.policy import Programme, Rule
    from rules.policy.loaded import Policy

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "ENGLISH",
    "LANGUAGES",
    "LANGUAGE_VARIABLE",
    "LOCALE_DIR",
    "N_",
    "Wording",
    "chosen_language",
    "sentence",
    "date_formatter",
    "translator",
    "wording",
]

#: The languages of the text output: English (the default, and the language of the JSON),
#: Russian and Kazakh.
LANGUAGES = ("en", "ru", "kk")
DEFAULT_LANGUAGE = "en"
#: The environment variable that chooses the language when a command line does not.
LANGUAGE_VARIABLE = "KZMIG_LANG"
#: The gettext domain of kzmig's catalogues, and where they are.
DOMAIN = "kzmig"
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"

#: The contexts of messages that are a policy's codes rather than the program's sentences: the
#: status a programme or a decision reaches, and the name of a value a section reports.
STATUS, LABEL = "status", "label"


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue where a table defines it; it is translated where shown."""
    return message


def chosen_language(language: str | None = None) -> str:
    """``language``, or the environment's (``KZMIG_LANG``), or English; a language kzmig does
    not speak is an error naming those it does."""
    chosen = language if language is not None else os.environ.get(LANGUAGE_VARIABLE) or DEFAULT_LANGUAGE
    code = chosen.strip().lower()
    if code not in LANGUAGES:
        source = "" if language is not None else f" (from {LANGUAGE_VARIABLE})"
        raise KzmigError(
            f"unknown language {chosen!r}{source}: kzmig speaks {', '.join(LANGUAGES)}"
            + did_you_mean(code, LANGUAGES)
        )
    return code


@functools.cache
def _catalogue(language: str) -> gettext.NullTranslations:
    code = chosen_language(language)
    if code == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[code])


def translator(language: str) -> Callable[[str], str]:
    """The program's messages in ``language``: English in, the catalogue's translation out
    (the English itself for a message the catalogue lacks)."""
    return _catalogue(language).gettext


def date_formatter(language: str, *, plain: bool = True) -> Callable[[dt.date], str]:
    """Dates as a reader of ``language`` writes them: ISO in English (``2025-09-01``, as the
    JSON has them), the long form of the Unicode CLDR in Russian (``1 сентября 2025 г.``) and
    Kazakh (``2025 ж. 1 қыркүйек``). ``plain``: the CLDR's no-break spaces as plain spaces,
    which every terminal shows and a search finds (``plain=False`` for HTML, say)."""
    code = chosen_language(language)
    if code == DEFAULT_LANGUAGE:
        return dt.date.isoformat
    from babel.dates import format_date  # only a translated text pays for Babel

    def formatted(day: dt.date) -> str:
        shown = format_date(day, format="long", locale=code)
        return shown.translate(_PLAIN_SPACES) if plain else shown

    return formatted


def _number_formatter(language: str) -> Callable[[int], str]:
    """Amounts with the language's thousands separator (a plain space in Russian and Kazakh)."""
    if language == DEFAULT_LANGUAGE:
        return "{:,}".format
    from babel.numbers import format_decimal

    return lambda amount: format_decimal(amount, locale=language).translate(_PLAIN_SPACES)


#: The CLDR's no-break spaces (in ``20 мая 2024 г.``, ``43 250``) -> plain spaces.
_PLAIN_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})


#: A title that quotes parameters: the pattern of its English form, its parameters, its form.
_Template = tuple[re.Pattern[str], tuple[str, ...], str]


@dataclass(frozen=True)
class Wording:
    """Everything a report needs to speak one language: the program's messages, the policy's
    titles and notes, and dates and amounts written the way that language writes them."""

    language: str
    catalogue: gettext.NullTranslations = field(repr=False)
    date: Callable[[dt.date], str] = field(repr=False)
    amount: Callable[[int], str] = field(repr=False)
    #: The policy's English titles and notes -> their form in this language.
    policy_text: Mapping[str, str] = field(repr=False, default_factory=dict)
    #: The titles that quote parameters (see :mod:`rules.policy.titles`): what matches the
    #: English title rendered with any values, the parameters it quotes, and the form in this
    #: language, to be rendered with the same values.
    policy_templates: tuple[_Template, ...] = field(repr=False, default=())

    def text(self, message: str) -> str:
        """One of the program's messages in this language."""
        return self.catalogue.gettext(message)

    def plural(self, singular: str, plural: str, count: int) -> str:
        """A message whose form follows a count (``1 день``, ``2 дня``, ``5 дней``)."""
        return self.catalogue.ngettext(singular, plural, count)

    def status(self, code: str) -> str:
        """A status of the policy (``overstay``, ``refund_due``) as a reader's words."""
        shown = self.catalogue.pgettext(STATUS, code)
        return shown if shown != code else code.replace("_", " ")

    def label(self, code: str) -> str:
        """The name of a value a section reports (``pass_mark``) as a reader's words."""
        shown = self.catalogue.pgettext(LABEL, code)
        return shown if shown != code else code.replace("_", " ")

    def day(self, value: object) -> str:
        """A date (or its ISO text, as a trace's facts hold it) as this language writes it;
        anything else as it is."""
        if isinstance(value, str) and _ISO_DATE.match(value):
            value = dt.date.fromisoformat(value)
        return self.date(value) if isinstance(value, dt.date) else str(value)

    def code(self, code: str, context: str = STATUS) -> str:
        """A code of the policy where the English text shows it as written (a rule's outcome in
        the trace, the name of a decision's value): the code itself in English, the reader's
        words in another language."""
        if self.language == DEFAULT_LANGUAGE:
            return code
        return self.status(code) if context == STATUS else self.label(code)

    def of_policy(self, english: str) -> str:
        """A title or note of the policy in this language, English where the policy has no form.

        A title that quotes parameters comes rendered (``... a fine of 20 MCI``): its form in
        this language is found by its English template and rendered with the same values."""
        found = self.policy_text.get(english)
        if found is not None:
            return found
        for pattern, names, form in self.policy_templates:
            match = pattern.match(english)
            if match is not None:
                values = {name: self._quoted(match.group(f"slot{index}")) for index, name in enumerate(names)}
                return render(form, values.get)
        return english

    def _quoted(self, shown: str) -> str:
        """A value as an English title shows it (``1,160``), as this language writes it."""
        if _WHOLE_NUMBER.match(shown):
            return self.amount(int(shown.replace(",", "")))
        return shown


def _policy_text(policy: Policy, language: str) -> dict[str, str]:
    """The English title and note of each rule and programme of ``policy``, the title of each
    rule's source and the text of each warning of a programme -> its form in ``language``
    (where the policy gives one)."""
    found: dict[str, str] = {}
    items: list[Rule | Programme] = [*policy.rules, *policy.programmes.values()]
    for rule in policy.rules:
        found[rule.source.title] = rule.source.titled(language)
        if rule.then.note is not None:  # the note of a decision (e.g. the check at the border)
            found[rule.then.note] = rule.then.noted(language) or rule.then.note
    for item in items:
        found[item.title] = item.titled(language)
        if item.note is not None:
            found[item.note] = item.noted(language) or item.note
    for programme in policy.programmes.values():
        found |= {spec.text: spec.texted(language) for spec in programme.warnings}
    return {english: form for english, form in found.items() if form != english}


def _policy_templates(policy: Policy, language: str) -> tuple[_Template, ...]:
    """The rules whose titles quote parameters and have a form in ``language`` (see
    :attr:`Wording.policy_templates`)."""
    return tuple(
        (template_pattern(rule.title), slots(rule.title), rule.titled(language))
        for rule in policy.rules
        if slots(rule.title) and rule.titled(language) != rule.title
    )


def wording(language: str | None = None, policy: Policy | None = None) -> Wording:
    """The :class:`Wording` of ``language`` (see :func:`chosen_language`), with the titles and
    notes of ``policy`` where it gives them in that language."""
    code = chosen_language(language)
    if code == DEFAULT_LANGUAGE:
        return ENGLISH
    return Wording(
        code,
        _catalogue(code),
        date_formatter(code),
        _number_formatter(code),
        _policy_text(policy, code) if policy is not None else {},
        _policy_templates(policy, code) if policy is not None else (),
    )


#: English: the messages as written, ISO dates, amounts with commas.
ENGLISH = Wording(DEFAULT_LANGUAGE, gettext.NullTranslations(), dt.date.isoformat, "{:,}".format)


def _pattern(template: str) -> re.Pattern[str]:
    """A template with ``{name}`` slots -> a regular expression that captures each slot."""
    parts = re.split(r"\{([a-z_]+)\}", template)
    pattern = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)" for index, part in enumerate(parts)
    )
    return re.compile(f"^{pattern}$", re.DOTALL)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: A whole number as a title shows it: ``5``, ``1,160``.
_WHOLE_NUMBER = re.compile(r"^-?\d{1,3}(?:,\d{3})*$")


def sentence(text: str, templates: tuple[str, ...], words: Wording) -> str:
    """``text``, a sentence the engine wrote in English, in the language of ``words`` when it
    is one of ``templates`` (each with ``{name}`` slots, each a catalogue message): the
    translated template is filled with what the slots held, an ISO date written the
    language's way and a text of the policy in its form in the language. A sentence no
    template matches stays as written."""
    if words.language == DEFAULT_LANGUAGE:
        return text
    first: tuple[str, dict[str, str]] | None = None
    for template in templates:
        for pattern in (_patterns(template), _greedy_patterns(template)):
            found = pattern.match(text)
            if found is None:
                continue
            held = found.groupdict()
            # A programme's warning text may hold ": " itself, and "{programme}: {text}: {items}"
            # then matches with part of it taken for the items: the reading whose {text} is a
            # text of the policy is the one that reads the sentence as written.
            if "text" not in held or held["text"] in words.policy_text:
                return _filled(template, held, words)
            first = first or (template, held)
    return _filled(*first, words) if first is not None else text


def _filled(template: str, held: dict[str, str], words: Wording) -> str:
    return words.text(template).format(**{name: _slot(value, words) for name, value in held.items()})


def _greedy_pattern(template: str) -> re.Pattern[str]:
    """:func:`_pattern` with its ``{text}`` slot taking all it can (a text that holds ': ')."""
    return re.compile(_pattern(template).pattern.replace("(?P<text>.+?)", "(?P<text>.+)"), re.DOTALL)


def _slot(value: str, words: Wording) -> str:
    """What a slot of an engine's sentence held, in the language of ``words``: an ISO date
    written that language's way, a text of the policy in its form, a status or procedure of the
    policy written with spaces (``host notification``) in the reader's words, else as it is."""
    if _ISO_DATE.match(value):
        return words.date(dt.date.fromisoformat(value))
    if value in words.policy_text:  # a text of the policy, never a code whatever its words
        return words.policy_text[value]
    if not _CODE_WORDS.fullmatch(value):
        return value
    code = value.replace(" ", "_")
    status = words.catalogue.pgettext(STATUS, code)
    return status if status != code else value


#: A code of the policy written as words (``host notification``), as an engine's sentence holds it.
_CODE_WORDS = re.compile(r"[a-z]+(?: [a-z]+)+")


_patterns = functools.cache(_pattern)
_greedy_patterns = functools.cache(_greedy_pattern)
