"""Errors of the city model: a model file that cannot be accepted, and why."""

from __future__ import annotations

from smartspaces.errors import RejectedInput


class CityModelError(RejectedInput):
    """The city model is unusable; ``problems`` lists each one, naming the asset concerned.

    Loading is a pure function that raises this: whoever holds the previous model keeps it."""

    def __init__(self, source: str, problems: list[str]) -> None:
        shown = problems[:20]
        more = f" (and {len(problems) - len(shown)} more)" if len(problems) > len(shown) else ""
        super().__init__(f"{source}: " + "; ".join(shown) + more)
        self.source = source
        self.problems = tuple(problems)
