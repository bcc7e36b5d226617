"""Reports for people: the verdict and the plan as text a caseworker reads.

Every figure and rule shown comes from the verdict or plan; nothing is recomputed here.
"""
