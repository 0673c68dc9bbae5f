"""The generic adapter: any Python library's functions as tools, from configuration alone.

The host starts it for pools that list ``libraries`` (docs/GENERIC_ADAPTER.md); it reads its configuration
from the ``SNAKEPIT_GENERIC_CONFIG`` environment variable. ``snakepit_bridge.generic:GenericPythonAdapter``.
"""

from .adapter import GenericPythonAdapter

__all__ = ["GenericPythonAdapter"]
