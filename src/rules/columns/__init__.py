"""The columnar path: records read and decided as arrays."""
