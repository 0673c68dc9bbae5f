"""A hand-written adapter with the same function, for comparison with the generic adapter."""

import math

from snakepit_bridge import BaseAdapter, tool


class SqrtAdapter(BaseAdapter):
    @tool
    def sqrt(self, x: float) -> float:
        return math.sqrt(x)
