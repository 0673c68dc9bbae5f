"""The workloads of bench/profiles.ts: pure-Python CPU, numpy matmul (releases the GIL), blocking I/O, async I/O."""

import asyncio
import time

from snakepit_bridge import BaseAdapter, tool


class ProfilesAdapter(BaseAdapter):
    __thread_safe__ = True  # no state: each call works on its own arguments

    @tool
    def cpu(self, ms: float) -> int:
        """Pure Python for ``ms`` milliseconds (holds the GIL)."""
        end, n = time.perf_counter() + ms / 1000.0, 0
        while time.perf_counter() < end:
            n += 1
        return n

    @tool
    def matmul(self, n: int = 256, reps: int = 4) -> float:
        """``reps`` n×n matrix products (BLAS, outside the GIL)."""
        import numpy as np

        a = np.full((n, n), 1.0 / n)
        out = a
        for _ in range(reps):
            out = a @ out
        return float(out[0, 0])

    @tool
    def io(self, ms: float) -> None:
        """Blocking I/O stand-in: ``time.sleep`` releases the GIL, as a socket read does."""
        time.sleep(ms / 1000.0)

    @tool
    async def aio(self, ms: float) -> None:
        """Async I/O: awaits on the worker's event loop."""
        await asyncio.sleep(ms / 1000.0)

    @tool
    def noop(self) -> None:
        """Per-call overhead."""
