"""Marks policies/ as the package rules.shipped_policies, so installs (editable or not) carry it."""
