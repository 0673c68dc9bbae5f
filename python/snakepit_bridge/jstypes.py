"""Annotations that say more to TypeScript than Python's own types can (``snakepit types``, docs/TYPES.md).

    from snakepit_bridge.jstypes import BigInt

    @tool
    def factorial(self, n: int) -> BigInt:   # TypeScript: Promise<number | bigint>
        ...

An ``int`` result is typed ``number``: an int past 2**53 arrives as a ``bigint`` (docs/VALUES.md), which the
plain type does not say. ``BigInt`` (``Annotated[int, BIGINT]``) is an ``int`` to Python and to the
argument checks, and ``number | bigint`` to TypeScript.
"""

from __future__ import annotations

from typing import Annotated

__all__ = ["BigInt", "BIGINT", "BigIntMarker"]


class BigIntMarker:
    """``Annotated`` metadata: this ``int`` may be past 2**53 (JavaScript: ``number | bigint``)."""

    def __repr__(self) -> str:
        return "BIGINT"


BIGINT = BigIntMarker()
BigInt = Annotated[int, BIGINT]
