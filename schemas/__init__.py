"""Marks schemas/ as the package rules.shipped_schemas, so installs (editable or not) carry it."""
