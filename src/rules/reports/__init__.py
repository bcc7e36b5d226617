"""Reports for people: the verdict and the plan as text a caseworker reads.

Every figure and rule shown comes from the verdict or plan; nothing is recomputed here. The
text speaks English, Russian or Kazakh (:mod:`rules.reports.language`); JSON stays English.
"""
