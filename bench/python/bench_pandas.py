"""The replacement bench's adapter: a module that imports pandas (~0.5 s cold), as real adapters import heavy
libraries. Its workers' replacements are timed cold and forked from the pool's template."""
import os
import time

import pandas  # noqa: F401  the import a replacement pays again when it starts cold

from snakepit_bridge import BaseAdapter, tool


class PandasAdapter(BaseAdapter):
    @tool
    def pid(self):
        return os.getpid()

    @tool
    def sleep(self, ms):
        time.sleep(ms / 1000)
        return ms
