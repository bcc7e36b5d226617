"""Registration after each entry: which procedure applies to a trip, and when it is due.

The policy holds the law (``policies/kz/registration.yaml``); this module holds only the
mechanism that reads it. Every value is taken in force on the *entry day*: a trip keeps the
procedure of the day it entered, even when its due date falls under a later law.

Parameters read (each a dated value of the policy):

* ``registration.self_registration_regimes``: regimes whose people register themselves; no
  value on the entry day means the procedure did not exist yet;
* ``registration.host_notification_regimes``: regimes whose host notifies the migration police;
* ``registration.not_required_regimes``: regimes that need no registration (citizens);
* ``registration.self_registration_replaces_host_notification``: read when a regime is in both
  procedure lists; true: self-registration, the exception, sets host notification aside;
  false: both apply and the one due first is reported;
* ``registration.host_notification_working_days`` and ``registration.self_registration_days``:
  the length of each period;
* ``registration.count_entry_day``: whether the entry day is the first counted day (false:
  the count starts the day after the entry).

A regime in none of the lists, or in the list of regimes without registration and in a
procedure list at once, is a gap or a contradiction in the policy: an
:class:`~rules.errors.EvaluationError`, never a guess. So is a needed value with no value on
the entry day, or a value of the wrong shape.

Working days are those of the Kazakh calendar maintained by the ``holidays`` package
(``holidays.KZ``): Saturdays, Sundays, public holidays and days off moved by Government decree
are not working days; a Saturday or Sunday the Government made a working day is one. The
calendar is built once per year and kept as a sorted tuple of working days, so that finding the
Nth working day is one binary search. The package is imported on the first due date computed,
not with this module: a command that computes none does not pay for it. The working days of
each year computed are also kept in kzmig's cache directory (:mod:`rules.cache`), under a name
made of the package's version and files and this module's, so that a command started afresh
reads them back instead of importing the package (most of a one-person check's time).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import importlib.util
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models._packages import package_directory
from models.person import Person
from models.policy import DatedValue
from models.registration import RegistrationDue
from models.verdict import SourceRef, built
from rules.cache import cache_directory, write_atomically
from rules.errors import EvaluationError, Problem, did_you_mean
from rules.policy.documents import DocumentError, read_bytes
from rules.policy.loaded import Policy
from rules.policy.types import DATE, MechanismFact, ValueType

if TYPE_CHECKING:
    from holidays import HolidayBase

__all__ = [
    "REGISTRATION_FACTS",
    "DueDates",
    "RegistrationFacts",
    "latest_registration",
    "registration_due",
    "registration_problems",
]

SELF_REGISTRATION_REGIMES = "registration.self_registration_regimes"
HOST_NOTIFICATION_REGIMES = "registration.host_notification_regimes"
NOT_REQUIRED_REGIMES = "registration.not_required_regimes"
SELF_REGISTRATION_REPLACES = "registration.self_registration_replaces_host_notification"
HOST_NOTIFICATION_DAYS = "registration.host_notification_working_days"
SELF_REGISTRATION_DAYS = "registration.self_registration_days"
COUNT_ENTRY_DAY = "registration.count_entry_day"
REGIMES_TABLE = "stay.regimes"
#: Every parameter and table the registration reads (declared for impact analysis).
READS = (
    SELF_REGISTRATION_REGIMES,
    HOST_NOTIFICATION_REGIMES,
    NOT_REQUIRED_REGIMES,
    SELF_REGISTRATION_REPLACES,
    HOST_NOTIFICATION_DAYS,
    SELF_REGISTRATION_DAYS,
    COUNT_ENTRY_DAY,
    REGIMES_TABLE,
)

_REGIME_LISTS = (SELF_REGISTRATION_REGIMES, HOST_NOTIFICATION_REGIMES, NOT_REQUIRED_REGIMES)
_COUNTS = (HOST_NOTIFICATION_DAYS, SELF_REGISTRATION_DAYS)
_FLAGS = (SELF_REGISTRATION_REPLACES, COUNT_ENTRY_DAY)


#: The facts of the registration of the latest trip entered up to the evaluation date, which
#: the stay limit's mechanism supplies (``stay.<name>``). ``registration_procedure`` is
#: ``not_required`` when the regime needs no registration; the facts are absent when the
#: citizenship, its regime or the trips are not known, or the due date cannot be computed.
REGISTRATION_FACTS: dict[str, MechanismFact] = {
    "registration_procedure": MechanismFact(
        ValueType("string", values=frozenset({"host_notification", "self_registration", "not_required"})),
        "The registration procedure of the latest trip entered up to the evaluation date",
        "trips",
    ),
    "registration_due": MechanismFact(DATE, "The last day for that trip's registration", "trips"),
    "registered_on": MechanismFact(
        DATE, "The day that trip's stay was registered (absent when not recorded)", "trips[].registered_on"
    ),
}


class RegistrationFacts(dict[str, Any]):
    """The stay facts of one record (a plain mapping of them), with the registration facts of
    its latest trip computed only when first asked for by name: most records are evaluated
    without any rule reading them, and a due date needs the working-day calendar. Iterating,
    or writing the mapping out, shows the facts computed so far."""

    __slots__ = ("_latest",)

    def __init__(self, facts: Mapping[str, Any], policy: Policy, person: Person, as_of: dt.date) -> None:
        _dict_init(self, facts)
        # What finds the registration facts; ``None`` once they are found.
        self._latest: tuple[Policy, Person, dt.date] | None = (policy, person, as_of)

    def get(self, name: str, default: Any = None) -> Any:
        # Read by the engine for every fact a rule lists: the plain dict's own look-up, without
        # the cost of super().
        if name in REGISTRATION_FACTS and self._latest is not None:
            latest, self._latest = self._latest, None
            self.update(latest_registration(*latest))
        return _dict_get(self, name, default)

    def __getitem__(self, name: str) -> Any:
        found = self.get(name, _ABSENT)
        if found is _ABSENT:
            raise KeyError(name)
        return found


_ABSENT = object()
_dict_get = dict.get
_dict_init = dict.__init__


def latest_registration(policy: Policy, person: Person, as_of: dt.date) -> dict[str, Any]:
    """The registration facts of the latest trip entered on or before ``as_of``."""
    trip = next((t for t in reversed(person.trips or ()) if t.entry <= as_of), None)
    if trip is None or person.citizenship is None or REGIMES_TABLE not in policy.tables:
        return {}
    regime = policy.row("stay.regime_of_citizenship", person.citizenship, trip.entry)
    if regime is None:
        return {}
    try:
        due = registration_due(policy, trip.entry, regime.value)
    except EvaluationError:
        return {}  # the stay section already warns about the registration it cannot compute
    facts: dict[str, Any] = {"registration_procedure": "not_required" if due is None else due.procedure}
    if due is not None:
        facts["registration_due"] = due.due
    if trip.registered_on is not None:
        facts["registered_on"] = trip.registered_on
    return facts


def registration_due(policy: Policy, entry: dt.date, regime: str | None) -> RegistrationDue | None:
    """The registration due after an entry on ``entry`` by a person of stay regime ``regime``.

    Returns ``None`` when the regime is unknown (``None``: the caller lists it as a missing
    fact) or when the policy says the regime needs no registration (citizens). Otherwise the
    procedure that applies under the law in force on the entry day, with its due date.

    Raises :class:`EvaluationError` when the regime is not in table ``stay.regimes`` on the
    entry day, when no registration rule covers the regime on that day (e.g. before the first
    dated value), when a needed parameter has no value on that day, or when a value has the
    wrong shape.
    """
    if regime is None:
        return None
    if policy.row(REGIMES_TABLE, regime, entry) is None:
        raise EvaluationError(
            f"policy {policy.name} cannot decide the registration after the entry of {entry}",
            [
                Problem(
                    f"policy {policy.name}", f"regime {regime!r} is not in table {REGIMES_TABLE} on {entry}"
                )
            ],
        )
    self_registers = _listed(policy, SELF_REGISTRATION_REGIMES, regime, entry)
    host_notified = _listed(policy, HOST_NOTIFICATION_REGIMES, regime, entry)
    not_required = _listed(policy, NOT_REQUIRED_REGIMES, regime, entry)

    if not_required and (self_registers or host_notified):
        listed_in = SELF_REGISTRATION_REGIMES if self_registers else HOST_NOTIFICATION_REGIMES
        raise EvaluationError(
            f"policy {policy.name} contradicts itself on the registration of regime {regime!r} on {entry}",
            [Problem(f"policy {policy.name}", f"{regime!r} is in {NOT_REQUIRED_REGIMES} and in {listed_in}")],
        )
    if self_registers and host_notified and _flag(policy, SELF_REGISTRATION_REPLACES, entry):
        host_notified = False  # the exception (self-registration) sets the base procedure aside

    found: list[RegistrationDue] = []
    if host_notified or self_registers:
        count_entry_day = _flag(policy, COUNT_ENTRY_DAY, entry)
        first_counted = entry if count_entry_day else _next_day(entry)
        if host_notified:
            found.append(_host_notification(policy, entry, first_counted))
        if self_registers:
            found.append(_self_registration(policy, entry, first_counted))
    if not found:
        if not_required:
            return None
        raise EvaluationError(
            f"policy {policy.name} has no registration rule for regime {regime!r} on {entry}",
            [
                Problem(
                    f"policy {policy.name}",
                    f"{regime!r} is in none of {', '.join(_REGIME_LISTS)} in force on {entry}",
                )
            ],
        )
    return min(found, key=lambda due: due.due)  # the first deadline; a tie keeps host notification


class DueDates:
    """:func:`registration_due` of one policy, the policy read once per regime and span of days.

    What :func:`registration_due` reads of the policy for an entry (the regime's row of
    ``stay.regimes`` and the registration parameters) stays the same between two days on which
    one of them changes: on each such span a regime has one plan (the procedures, their counts,
    sources and notes, whether the entry day counts), and an entry only adds its due dates. A
    record's entry days are many, their spans few (``tests/test_fast_paths_registration_plan.py``
    checks every entry against :func:`registration_due`). An entry whose plan cannot be made
    (an error) is left to :func:`registration_due`, which raises its own error."""

    __slots__ = ("policy", "_changes", "_plans")

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        # By regime: the days on which something the registration reads changes, in order.
        self._changes: dict[str, tuple[int, ...]] = {}
        # By regime and span (the index of the change day that opens it): the plan.
        self._plans: dict[tuple[str, int], _Plan | None] = {}

    def due(self, entry: dt.date, regime: str | None) -> RegistrationDue | None:
        """``registration_due(policy, entry, regime)``, the same instance's values."""
        if regime is None:
            return None
        changes = self._changes.get(regime)
        if changes is None:
            changes = self._changes[regime] = self._change_days(regime)
        key = (regime, bisect.bisect_right(changes, entry.toordinal()))
        try:
            plan = self._plans[key]
        except KeyError:
            try:
                plan = _plan(self.policy, entry, regime)
            except EvaluationError:
                return registration_due(self.policy, entry, regime)  # raises its error
            self._plans[key] = plan
        return None if plan is None else _due_by(plan, entry)

    def _change_days(self, regime: str) -> tuple[int, ...]:
        policy = self.policy
        days: set[int] = set()
        for name in READS:
            if name in policy.parameters:
                days.update(policy.parameter_timeline(name).starts)
        table = policy.tables.get(REGIMES_TABLE)
        if table is not None:
            days.update(value.start.toordinal() for value in table.rows.get(regime, ()))
        return tuple(sorted(days))


#: What :func:`registration_due` finds for a regime on a span of days, but the due dates:
#: whether the entry day counts, and each procedure due (host notification first) with its
#: count, counted in working days or not, and the source and note of its value.
_Plan = tuple[bool, tuple[tuple[str, int, bool, SourceRef, "str | None"], ...]]


def _plan(policy: Policy, entry: dt.date, regime: str) -> _Plan | None:
    """:func:`registration_due` of an entry on ``entry`` without its due dates: ``None`` when
    the regime needs no registration; an :class:`EvaluationError` where that raises one
    before it computes a due date (that error or another: the caller asks it for its own)."""
    if policy.row(REGIMES_TABLE, regime, entry) is None:
        raise EvaluationError(f"regime {regime!r} is not in table {REGIMES_TABLE}")
    self_registers = _listed(policy, SELF_REGISTRATION_REGIMES, regime, entry)
    host_notified = _listed(policy, HOST_NOTIFICATION_REGIMES, regime, entry)
    not_required = _listed(policy, NOT_REQUIRED_REGIMES, regime, entry)
    if not_required and (self_registers or host_notified):
        raise EvaluationError(f"regime {regime!r} is in {NOT_REQUIRED_REGIMES} and in a procedure list")
    if self_registers and host_notified and _flag(policy, SELF_REGISTRATION_REPLACES, entry):
        host_notified = False
    if not (host_notified or self_registers):
        if not_required:
            return None
        raise EvaluationError(f"regime {regime!r} is in none of {', '.join(_REGIME_LISTS)}")
    count_entry_day = _flag(policy, COUNT_ENTRY_DAY, entry)
    procedures = []
    if host_notified:
        dated = _needed(policy, HOST_NOTIFICATION_DAYS, entry)
        days = _checked(policy, HOST_NOTIFICATION_DAYS, dated, _count_problem)
        procedures.append(("host_notification", days, True, _source(dated), dated.note))
    if self_registers:
        dated = _needed(policy, SELF_REGISTRATION_DAYS, entry)
        days = _checked(policy, SELF_REGISTRATION_DAYS, dated, _count_problem)
        procedures.append(("self_registration", days, False, _source(dated), dated.note))
    return count_entry_day, tuple(procedures)


def _due_by(plan: _Plan, entry: dt.date) -> RegistrationDue:
    """The registration due after ``entry`` by ``plan``: its due dates computed (in the order
    :func:`registration_due` computes them, which raises the same errors), the first kept."""
    count_entry_day, procedures = plan
    first_counted = entry if count_entry_day else _next_day(entry)
    chosen: RegistrationDue | None = None
    for procedure, days, working, source, note in procedures:
        if working:
            due = _nth_working_day(first_counted, days)
        else:
            try:
                due = first_counted + dt.timedelta(days=days - 1)
            except OverflowError:
                raise _beyond_calendar(entry) from None
        if chosen is not None and chosen.due <= due:
            continue  # the first deadline; a tie keeps host notification
        # Every value is what validation keeps (the policy's values are checked above).
        chosen = built(
            RegistrationDue,
            {
                "procedure": procedure,
                "entry": entry,
                "due": due,
                "counted": "working_days" if working else "calendar_days",
                "days": days,
                "source": source,
                "note": note,
            },
        )
    assert chosen is not None  # a plan has a procedure
    return chosen


def registration_problems(policy: Policy) -> list[Problem]:
    """Every parameter of the registration missing from ``policy`` or of the wrong shape,
    each at its file and line, so that a broken amendment is refused when it is loaded rather
    than when a trip first needs the value. Regimes must be keys of table ``stay.regimes``."""
    problems: list[Problem] = []
    known = policy.tables[REGIMES_TABLE].rows if REGIMES_TABLE in policy.tables else {}
    checks = [(name, _regimes_problem) for name in _REGIME_LISTS]
    checks += [(name, _count_problem) for name in _COUNTS]
    checks += [(name, _flag_problem) for name in _FLAGS]
    for name, check in checks:
        parameter = policy.parameters.get(name)
        if parameter is None:
            problems.append(
                Problem(f"policy {policy.name}", f"parameter {name!r} is required by the registration")
            )
            continue
        for index, dated in enumerate(parameter.values):
            message = None if dated.value is None else check(name, dated.value)
            if message is None and check is _regimes_problem and dated.value is not None:
                unknown = [regime for regime in dated.value if regime not in known]
                if unknown:
                    names = ", ".join(f"{regime!r}{did_you_mean(regime, known)}" for regime in unknown)
                    message = f"{name} names regimes not in table {REGIMES_TABLE}: {names}"
            if message is not None:
                problems.append(Problem(policy.where("parameters", name, "values", index, "value"), message))
    return problems


# --- the two procedures -------------------------------------------------------------------------


def _host_notification(policy: Policy, entry: dt.date, first_counted: dt.date) -> RegistrationDue:
    dated = _needed(policy, HOST_NOTIFICATION_DAYS, entry)
    days = _checked(policy, HOST_NOTIFICATION_DAYS, dated, _count_problem)
    return RegistrationDue(
        procedure="host_notification",
        entry=entry,
        due=_nth_working_day(first_counted, days),
        counted="working_days",
        days=days,
        source=_source(dated),
        note=dated.note,
    )


def _self_registration(policy: Policy, entry: dt.date, first_counted: dt.date) -> RegistrationDue:
    dated = _needed(policy, SELF_REGISTRATION_DAYS, entry)
    days = _checked(policy, SELF_REGISTRATION_DAYS, dated, _count_problem)
    try:
        due = first_counted + dt.timedelta(days=days - 1)
    except OverflowError:
        raise _beyond_calendar(entry) from None
    return RegistrationDue(
        procedure="self_registration",
        entry=entry,
        due=due,
        counted="calendar_days",
        days=days,
        source=_source(dated),
        note=dated.note,
    )


# --- working days -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=128)
def _working_days(year: int) -> tuple[int, ...]:
    """The ordinals of the Kazakh working days of ``year``, in order.

    The calendar is built with the neighbouring years too: a day off may be moved across the
    New Year, and the package records a transferred working day with the year that moved it.
    """
    kept = _kept_calendar()
    found = kept.year(year) if kept is not None else None
    if found is not None:
        return found
    first_year, last_year = _covered_years()
    calendar = _kazakh_calendar(range(max(year - 1, first_year), min(year + 1, last_year) + 1))
    first, last = dt.date(year, 1, 1).toordinal(), dt.date(year, 12, 31).toordinal()
    days = tuple(day for day in range(first, last + 1) if calendar.is_working_day(dt.date.fromordinal(day)))
    if kept is not None:
        kept.keep(years={str(year): list(days)})
    return days


def _nth_working_day(first_counted: dt.date, n: int) -> dt.date:
    """The ``n``-th working day (``n`` >= 1) on or after ``first_counted``."""
    year = first_counted.year
    days = _calendar_year(year, first_counted)
    index = bisect.bisect_left(days, first_counted.toordinal()) + n - 1
    while index >= len(days):  # the period runs into the next year
        index -= len(days)
        year += 1
        days = _calendar_year(year, first_counted)
    return dt.date.fromordinal(days[index])


@functools.cache
def _covered_years() -> tuple[int, int]:
    """The years the maintained calendar covers (holidays.KZ starts in 1991, the package ends
    in 2100). Looked up on first use."""
    kept = _kept_calendar()
    if kept is not None and kept.covered is not None:
        return kept.covered
    calendar = _kazakh_calendar(None)
    covered = (calendar.start_year, calendar.end_year)
    if kept is not None:
        kept.keep(covered=list(covered))
    return covered


class _KeptCalendar:
    """The working days computed by earlier runs, read from (and added to) one JSON file of
    kzmig's cache directory. What does not read as a calendar is ignored and computed again."""

    def __init__(self, directory: Path, name: str) -> None:
        self.directory, self.name = directory, name
        self.data = self._read()
        covered = self.data.get("covered")
        self.covered: tuple[int, int] | None = None
        if (
            isinstance(covered, list)
            and len(covered) == 2
            and all(type(year) is int and dt.MINYEAR <= year <= dt.MAXYEAR for year in covered)
            and covered[0] <= covered[1]
        ):
            self.covered = (covered[0], covered[1])

    def _read(self) -> dict[str, Any]:
        try:  # a regular file only: a FIFO or a device planted in its place is never opened
            found = json.loads(read_bytes(self.directory / self.name, 1 << 22))
        except (DocumentError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}

    def year(self, year: int) -> tuple[int, ...] | None:
        """The working days kept for ``year``, if they read as days of that year in order."""
        years = self.data.get("years")
        days = years.get(str(year)) if isinstance(years, dict) else None
        if not isinstance(days, list) or not 1 <= year <= dt.MAXYEAR:
            return None
        first, last = dt.date(year, 1, 1).toordinal(), dt.date(year, 12, 31).toordinal()
        previous = first - 1
        for day in days:
            if type(day) is not int or not previous < day <= last:
                return None
            previous = day
        return tuple(days)

    def keep(self, **changes: Any) -> None:
        data = self._read()
        for key, value in changes.items():
            if isinstance(value, dict):
                kept = data.get(key)
                data[key] = {**(kept if isinstance(kept, dict) else {}), **value}
            else:
                data[key] = value
        if write_atomically(self.directory, self.name, json.dumps(data, separators=(",", ":")).encode()):
            self.data = data


@functools.cache
def _kept_calendar() -> _KeptCalendar | None:
    """The kept calendar of the installed ``holidays`` package and this module, or ``None``
    when the cache is turned off or the package's files cannot be found."""
    directory = cache_directory()
    if directory is None:
        return None
    package = package_directory("holidays")
    if package is None:
        return None
    digest = hashlib.sha256(b"kzmig-calendar/1\0")
    try:
        digest.update((package / "version.py").read_bytes())
        for path in (package / "countries" / "kazakhstan.py", Path(__file__)):
            found = path.stat()
            digest.update(f"{path.name}:{found.st_size}:{found.st_mtime_ns}\0".encode())
    except OSError:
        return None
    return _KeptCalendar(directory, f"calendar-kz-{digest.hexdigest()[:24]}.json")


def _kazakh_calendar(years: range | None) -> HolidayBase:
    """``holidays.country_holidays("KZ", years=years)``: the same class, called the same way."""
    return _kazakh_calendar_class()(years=years, subdiv=None, expand=True, observed=True)


@functools.cache
def _kazakh_calendar_class() -> type[HolidayBase]:
    """The class of ``holidays.KZ``, read from its own module, ``holidays/countries/kazakhstan.py``.

    Imported the ordinary way (as ``holidays.country_holidays`` does), that module first runs
    the package ``holidays.countries``, which imports the calendar of every country: about
    0.1 s, most of a one-person ``kzmig check``. Loaded from its file, it imports only what it
    needs (the package's calendars, holiday groups and base classes). The module is not put in
    ``sys.modules``, so an ordinary import of the package elsewhere is unaffected. When the
    package has another layout, the ordinary way. ``tests/test_registration.py`` checks that
    both give the same working days in every year the calendar covers.
    """
    import holidays

    source = Path(holidays.__file__).with_name("countries") / "kazakhstan.py"
    spec = importlib.util.spec_from_file_location("holidays.countries.kazakhstan", source)
    if spec is not None and spec.loader is not None and source.is_file():
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found = getattr(module, "Kazakhstan", None)
        if isinstance(found, type) and issubclass(found, holidays.HolidayBase):
            return found
    return type(holidays.country_holidays("KZ"))


def _calendar_year(year: int, first_counted: dt.date) -> tuple[int, ...]:
    first_year, last_year = _covered_years()
    if not first_year <= year <= last_year:
        raise _beyond_calendar(first_counted)
    return _working_days(year)


def _beyond_calendar(day: dt.date) -> EvaluationError:
    first_year, last_year = _covered_years()
    return EvaluationError(
        f"no registration due date can be computed for {day}",
        [Problem("holidays.KZ", f"the Kazakh working-day calendar covers {first_year}-{last_year} only")],
    )


def _next_day(day: dt.date) -> dt.date:
    try:
        return day + dt.timedelta(days=1)
    except OverflowError:
        raise _beyond_calendar(day) from None


# --- reading the policy -------------------------------------------------------------------------


def _in_force(policy: Policy, name: str, on: dt.date) -> DatedValue | None:
    """The dated value of ``name`` on ``on``, or ``None`` if none is (a missing parameter is an error)."""
    if name not in policy.parameters:
        raise EvaluationError(
            f"policy {policy.name} has no parameter {name!r}",
            [Problem(f"policy {policy.name}", "the registration needs it (policies/kz/registration.yaml)")],
        )
    found: DatedValue | None = policy.parameter_timeline(name).at(on)
    return found


def _needed(policy: Policy, name: str, on: dt.date) -> DatedValue:
    """The dated value of ``name`` on ``on``; an error if it has none."""
    dated = _in_force(policy, name, on)
    if dated is None:
        raise EvaluationError(f"parameter {name!r} of policy {policy.name} has no value on {on}")
    return dated


def _listed(policy: Policy, name: str, regime: str, on: dt.date) -> bool:
    """Whether ``regime`` is in the list ``name`` in force on ``on`` (no list in force: no)."""
    dated = _in_force(policy, name, on)
    if dated is None:
        return False
    regimes: list[str] = _checked(policy, name, dated, _regimes_problem)
    return regime in regimes


def _flag(policy: Policy, name: str, on: dt.date) -> bool:
    flag: bool = _checked(policy, name, _needed(policy, name, on), _flag_problem)
    return flag


_Check = Callable[[str, Any], "str | None"]


def _checked(policy: Policy, name: str, dated: DatedValue, check: _Check) -> Any:
    """``dated.value`` if ``check`` finds no problem with it; else an error at its file and line."""
    message = check(name, dated.value)
    if message is not None:
        values = policy.parameters[name].values
        index = next((i for i, value in enumerate(values) if value is dated or value == dated), None)
        path: tuple[str | int, ...] = ("values", index, "value") if index is not None else ()
        raise EvaluationError(
            f"policy {policy.name} cannot decide the registration",
            [Problem(policy.where("parameters", name, *path), message)],
        )
    return dated.value


def _regimes_problem(name: str, value: Any) -> str | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return None
    return f"{name} must be a list of regimes (keys of table {REGIMES_TABLE}), not {value!r}"


def _count_problem(name: str, value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return None
    return f"{name} must be a whole number of days above 0, not {value!r}"


def _flag_problem(name: str, value: Any) -> str | None:
    return None if isinstance(value, bool) else f"{name} must be true or false, not {value!r}"


def _source(dated: DatedValue) -> SourceRef:
    return SourceRef(title=dated.source.title, href=dated.source.href, date=dated.source.date)
