"""What-if analysis: the same persons under two policy versions, and what differs.

It owns comparing verdicts (:mod:`~rules.analysis.impact`) for legal analysts testing
amendments.
"""
