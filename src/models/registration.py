"""The registration a trip needs after its entry, and when it is due.

The model lives in :mod:`models.verdict` (it is part of the verdict); this module keeps the
name importable from here.
"""

from models.verdict import RegistrationDue

__all__ = ["RegistrationDue"]
