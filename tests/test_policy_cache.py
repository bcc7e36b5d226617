"""The cache of loaded policies: a policy loaded again from the same bytes by the same code is
read back, and gives the same verdicts; any changed byte is a new entry; an entry that does not
read back (cut short, garbage, a planted pickle that would run code) is ignored and rewritten;
a directory that cannot be written changes nothing but speed; a broken policy is never kept;
the directory keeps a bounded number of entries."""

from __future__ import annotations

import datetime as dt
import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import rules
from rules import PolicyError
from rules.policy import cache as policy_cache
from rules.policy import reading
from rules.policy.cache import KEPT, PolicyCache
from rules.policy.loader import AmendmentText, load_policy

ROOT = Path(__file__).resolve().parents[1]
POLICY_DIR = ROOT / "policies" / "kz"
SIXTY_DAYS = ROOT / "examples" / "amendments" / "limit-60-days.yaml"
SEVENTY_FIVE_DAYS = {
    "person_id": "E-75",
    "citizenship": "RU",
    "trips": [{"entry": "2024-01-01", "exit": "2024-03-15"}],
}
ON_EXIT = dt.date(2024, 3, 15)


def entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("policy-*.pickle"))


def verdict_json(policy: rules.Policy) -> str:
    return rules.Evaluator(policy).evaluate(SEVENTY_FIVE_DAYS, ON_EXIT).model_dump_json()


def test_the_shipped_policy_loaded_again_is_read_from_the_cache_with_the_same_verdicts(
    tmp_path: Path, no_policy_reading: Callable[[], None]
) -> None:
    kept = PolicyCache(tmp_path)
    first = load_policy(cache=kept)
    assert len(entries(tmp_path)) == 1
    no_policy_reading()
    again = load_policy(cache=kept)
    assert again is not first and again.version == first.version
    assert again.files == first.files and again.where("parameters", "stay.limit_days") == first.where(
        "parameters", "stay.limit_days"
    )
    assert verdict_json(again) == verdict_json(first)


def test_an_amendment_is_its_own_entry_and_an_edited_amendment_another(
    tmp_path: Path, no_policy_reading: Callable[[], None]
) -> None:
    kept = PolicyCache(tmp_path)
    baseline = load_policy(cache=kept)
    amended = load_policy(amendments=[SIXTY_DAYS], cache=kept)
    as_text = load_policy(amendments=[AmendmentText(SIXTY_DAYS.read_text(), str(SIXTY_DAYS))], cache=kept)
    assert len(entries(tmp_path)) == 3
    assert amended.version == as_text.version != baseline.version
    edited = tmp_path / "limit-61-days.yaml"
    edited.write_text(SIXTY_DAYS.read_text().replace("value: 60", "value: 61"))
    assert load_policy(amendments=[edited], cache=kept).version != amended.version
    no_policy_reading()
    assert load_policy(amendments=[SIXTY_DAYS], cache=kept).version == amended.version


def test_a_policy_file_edited_after_it_was_kept_is_loaded_anew(tmp_path: Path) -> None:
    directory = tmp_path / "kz"
    shutil.copytree(POLICY_DIR, directory)
    kept = PolicyCache(tmp_path / "cache")
    before = load_policy(directory, cache=kept)
    path = directory / "stay-limit.yaml"
    text = path.read_text()
    assert text.count("value: 90") >= 1
    path.write_text(text.replace("value: 90", "value: 91", 1))
    after = load_policy(directory, cache=kept)
    assert after.version != before.version
    assert after.parameter("stay.limit_days", ON_EXIT) != before.parameter("stay.limit_days", ON_EXIT)


def test_a_broken_policy_is_reported_every_time_and_never_kept(tmp_path: Path) -> None:
    directory = tmp_path / "kz"
    shutil.copytree(POLICY_DIR, directory)
    (directory / "broken.yaml").write_text("schema: kzmig/policy/2\nrules: [\n")
    kept = PolicyCache(tmp_path / "cache")
    for _ in range(2):
        with pytest.raises(PolicyError, match="cannot be loaded"):
            load_policy(directory, cache=kept)
    assert not (tmp_path / "cache").exists() or entries(tmp_path / "cache") == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda content: content[: len(content) // 2],  # cut short
        lambda content: content.split(b"\n", 2)[0] + b"\n" + b"0" * 40 + b"\n" + b"garbage",  # other key
        lambda content: b"not a cache entry at all",
        lambda content: b"\n".join(content.split(b"\n", 2)[:2]) + b"\n" + pickle.dumps({"a": 1}),
    ],
    ids=["cut short", "another key", "garbage", "not a policy"],
)
def test_an_entry_that_does_not_read_back_is_ignored_and_written_anew(tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    kept = PolicyCache(tmp_path)
    version = load_policy(cache=kept).version
    [entry] = entries(tmp_path)
    good = entry.read_bytes()
    entry.write_bytes(damage(good))
    assert load_policy(cache=kept).version == version
    assert entry.read_bytes() == good


class _Planted:
    """What an attacker would plant: unpickling it would run a command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def test_a_planted_entry_that_would_run_code_is_refused_and_the_policy_loaded_from_its_files(
    tmp_path: Path,
) -> None:
    kept = PolicyCache(tmp_path / "cache")
    version = load_policy(cache=kept).version
    [entry] = entries(tmp_path / "cache")
    header = b"\n".join(entry.read_bytes().split(b"\n", 2)[:2]) + b"\n"
    marker = tmp_path / "ran"
    entry.write_bytes(header + pickle.dumps(_Planted(marker)))
    assert load_policy(cache=kept).version == version
    assert not marker.exists()
    with pytest.raises(pickle.UnpicklingError, match="posix.system|os.system"):
        policy_cache._PolicyUnpickler(__import__("io").BytesIO(pickle.dumps(_Planted(marker)))).load()


def test_a_cache_directory_that_cannot_be_written_changes_nothing(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    kept = PolicyCache(blocked / "kzmig")
    assert load_policy(cache=kept).version == load_policy().version


def test_the_cache_keeps_its_most_recently_used_entries_only(tmp_path: Path) -> None:
    kept = PolicyCache(tmp_path)
    for days in range(KEPT + 3):
        text = SIXTY_DAYS.read_text().replace("value: 60", f"value: {30 + days}")
        load_policy(amendments=[AmendmentText(text, f"limit-{30 + days}.yaml")], cache=kept)
    assert len(entries(tmp_path)) == KEPT


def test_a_key_depends_on_the_code_that_read_the_files(monkeypatch: pytest.MonkeyPatch) -> None:
    kept = PolicyCache("unused")
    files = [("a.yaml", b"schema: kzmig/policy/2\n")]
    key = kept.key(POLICY_DIR, files)
    monkeypatch.setattr(policy_cache, "_code_fingerprint", lambda: b"other code")
    assert kept.key(POLICY_DIR, files) != key


def test_the_in_process_parse_cache_and_the_disk_cache_agree(tmp_path: Path) -> None:
    reading._PARSED.clear()
    kept = PolicyCache(tmp_path)
    assert load_policy(cache=kept).version == load_policy().version == load_policy(cache=kept).version


def test_kzmig_keeps_policies_in_its_cache_directory_unless_turned_off(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import sys; from rules.cli.app import main; sys.exit(main())", "check"]
    command += [str(ROOT / "examples/persons/driver-A-17.json"), "--on", "2024-08-01"]
    outputs = []
    for setting in (str(tmp_path / "kept"), str(tmp_path / "kept"), "off"):
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env={**os.environ, "KZMIG_CACHE_DIR": setting},
            check=False,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(entries(tmp_path / "kept")) == 1
    assert not (tmp_path / "off").exists()


@pytest.mark.parametrize("kept", [True, False], ids=["with a cache", "without"])
def test_each_policy_and_amendment_file_is_read_once_per_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: bool
) -> None:
    from rules.policy import loader

    reads: list[Path] = []
    real = loader.read_bytes

    def counted(path: Path, limit: int) -> bytes:
        reads.append(path)
        return real(path, limit)

    def counted_plain(path: Path) -> bytes:
        reads.append(path)
        return real(path, 1 << 30)

    monkeypatch.setattr(loader, "read_bytes", counted)
    monkeypatch.setattr(Path, "read_bytes", counted_plain)
    load_policy(amendments=[SIXTY_DAYS], cache=PolicyCache(tmp_path) if kept else None)
    assert SIXTY_DAYS in reads and len(reads) == len(set(reads))


def test_a_cached_policy_spec_of_a_population_run_is_read_back_by_every_later_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_policy_reading: Callable[[], None]
) -> None:
    from rules.analysis.population import PolicySpec

    monkeypatch.setenv("KZMIG_CACHE_DIR", str(tmp_path))
    spec = PolicySpec.of_files(None, [SIXTY_DAYS], cached=True)
    first = spec.load()
    assert len(entries(tmp_path)) == 1
    no_policy_reading()  # a worker building the same spec reads it back
    again = spec.pinned(first).load()
    assert again.version == first.version and verdict_json(again) == verdict_json(first)


def test_a_policy_spec_is_not_cached_unless_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rules.analysis.population import PolicySpec

    monkeypatch.setenv("KZMIG_CACHE_DIR", str(tmp_path))
    PolicySpec.of_files(None).load()
    assert entries(tmp_path) == []


@pytest.mark.parametrize("setting", ["off", "OFF", "", "0", "none"])
def test_the_cache_is_turned_off_by_the_environment(monkeypatch: pytest.MonkeyPatch, setting: str) -> None:
    monkeypatch.setenv("KZMIG_CACHE_DIR", setting)
    assert PolicyCache.default() is None


def test_without_a_setting_the_cache_is_under_the_user_cache_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("KZMIG_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    found = PolicyCache.default()
    assert found is not None and found.directory == tmp_path / "kzmig"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    found = PolicyCache.default()
    assert found is not None and found.directory == tmp_path / "home" / ".cache" / "kzmig"


def test_a_fifo_planted_in_place_of_an_entry_is_not_opened_and_the_policy_loads(tmp_path: Path) -> None:
    kept = PolicyCache(tmp_path)
    version = load_policy(cache=kept).version
    [entry] = entries(tmp_path)
    entry.unlink()
    os.mkfifo(entry)  # opening it for reading would wait for a writer forever
    code = (
        "from rules.policy.cache import PolicyCache\nfrom rules.policy.loader import load_policy\n"
        f"print(load_policy(cache=PolicyCache({str(tmp_path)!r})).version)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == version
