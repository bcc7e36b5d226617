"""Depth-first walks of the policy's graphs: facts reading facts, programmes reading programmes,
rules overriding rules. One walk gives an order (each name after the names it points to) and
every cycle, so the loader can refuse a cycle at its place instead of looping for ever."""

from __future__ import annotations

from collections.abc import Callable, Iterable

__all__ = ["Cycle", "walk"]

#: A cycle: the name whose edge closed it, and the names along it (the first repeated last).
Cycle = tuple[str, list[str]]


def walk(names: Iterable[str], edges: Callable[[str], Iterable[str]]) -> tuple[list[str], list[Cycle]]:
    """Every name in depth-first post-order, and each cycle met, once per closing edge."""
    order: list[str] = []
    cycles: list[Cycle] = []
    state: dict[str, int] = {}  # 1: being visited, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in edges(name):
            if state.get(target) == 1:
                cycles.append((name, [*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[name] = 2
        order.append(name)

    for name in names:
        if name not in state:
            visit(name, [name])
    return order, cycles
