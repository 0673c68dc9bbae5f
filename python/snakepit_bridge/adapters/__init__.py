"""Adapters shipped with the bridge (``showcase``: a demo and test adapter)."""
