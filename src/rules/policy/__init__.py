"""The policy format and its loader: the law as dated, sourced data, checked before it is used.

It owns reading YAML safely (:mod:`~rules.policy.documents`), one file's items
(:mod:`~rules.policy.reading`), merging files and amendments with their gaps
(:mod:`~rules.policy.loader`) into a loaded policy (:mod:`~rules.policy.loaded`), the checks
across files (:mod:`~rules.policy.checks`), the types and catalogue of facts
(:mod:`~rules.policy.types`, :mod:`~rules.policy.catalogue`), the formula language of computed
facts (:mod:`~rules.policy.formulas`; its tree, :mod:`~rules.policy.nodes`), rule conditions
(:mod:`~rules.policy.conditions`), rule titles that quote parameters
(:mod:`~rules.policy.titles`), dated look-up (:mod:`~rules.policy.timeline`) and the
registry of Python mechanisms a programme may name and their contract
(:mod:`~rules.policy.registry`, :mod:`~rules.policy.mechanisms`).
Nothing here evaluates a person: that is :mod:`rules.engine`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rules.policy.loader import Policy, default_policy_dir, load_policy

__all__ = ["Policy", "default_policy_dir", "load_policy"]


def __getattr__(name: str) -> Any:
    """The loader's names, imported on first use (PEP 562): reading a person file needs the
    document reader of this package, not the loader and the policy's models."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rules.policy import loader

    value = getattr(loader, name)
    globals()[name] = value
    return value
