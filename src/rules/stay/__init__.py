"""The stay limit's Python mechanism: what its law needs that a formula cannot state.

It owns counting days of stay in a sliding window (:mod:`~rules.stay.window`), the mechanism a
policy names as ``stay_limit`` (:mod:`~rules.stay.limit`: the stay facts and the verdict's
``stay`` section), reading border crossings into trips (:mod:`~rules.stay.crossings`),
registration due dates on the Kazakh working-day calendar (:mod:`~rules.stay.registration`),
and planning a stay (:mod:`~rules.stay.planning`). Every number and list of the law comes from
the policy.
"""
