"""The registry of mechanisms: each name a policy may give a programme's ``mechanism``, and the
class that implements it (see :mod:`rules.policy.mechanisms` for the contract).

A class is imported only when a policy names it, so the policy format depends on no mechanism.
"""

from __future__ import annotations

import importlib

from rules.policy.types import MechanismTraits

__all__ = ["MECHANISMS", "mechanism_class"]

#: Every mechanism a policy may name, and where its class lives.
MECHANISMS: dict[str, str] = {
    "stay_limit": "rules.stay.limit:StayLimit",
}


def mechanism_class(name: str) -> type[MechanismTraits] | None:
    """The class of mechanism ``name`` (``None`` for a name not in :data:`MECHANISMS`)."""
    target = MECHANISMS.get(name)
    if target is None:
        return None
    module_name, _, attribute = target.partition(":")
    cls: type[MechanismTraits] = getattr(importlib.import_module(module_name), attribute)
    return cls
