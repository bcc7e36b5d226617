"""The engine: a person evaluated under a loaded policy, with the trace that explains it.

It owns reading a record against the policy's inputs (:mod:`~rules.engine.inputs`), computing
facts by the policy's formulas (:mod:`~rules.engine.computation`, :mod:`~rules.engine.case`),
compiling rule conditions to durable-rules patterns (:mod:`~rules.engine.patterns`) and driving
durable-rules safely (:mod:`~rules.engine.durable`), resolving exceptions and precedence and
running the programmes in order (:mod:`~rules.engine.evaluator`), the sections and the trace of
a verdict (:mod:`~rules.engine.sections`, :mod:`~rules.engine.trace`), and the JSON Schemas of
the documents it reads and writes (:mod:`~rules.engine.schemas`). It names no programme: the
programmes are the policy's.
"""

from rules.engine.evaluator import Evaluator, evaluate, evaluator_for

__all__ = ["Evaluator", "evaluate", "evaluator_for"]
