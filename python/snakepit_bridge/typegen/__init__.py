"""``snakepit types``: describe what a pool serves, with its types, for the host to write TypeScript from.

    python -m snakepit_bridge.typegen        (the request in SNAKEPIT_TYPEGEN_REQUEST, the libraries in
                                              SNAKEPIT_GENERIC_CONFIG as for workers; one JSON object out)

The pipeline, one module per step:

- ``collect``: the pool's tools, found by the code that serves them (adapter discovery, generic libraries);
- ``from_hints``: run-time type hints -> model nodes; ``from_stubs`` + ``stubs``: the same from ``.pyi`` stubs
  (numpy's own, typeshed for the standard library) for functions without hints;
- ``known``: the classes and typing names known by qualified name; ``model``: the nodes (the JSON contract
  with src/typegen/);
- ``docs``: docstrings (Google, NumPy, reST) split into summary, body, parameters, returns, yields.

Nothing here runs at worker start: a worker never imports this package.
"""

from __future__ import annotations

__all__ = ["describe_pool", "typeshed_dirs"]


def describe_pool(adapter, generic_config, typeshed=()):
    """See ``collect.describe_pool``; ``typeshed`` lists typeshed directories to search besides the found ones."""
    from .collect import describe_pool as _describe
    from .stubs import StubIndex

    return _describe(adapter, generic_config, StubIndex(typeshed_dirs(typeshed)))


def typeshed_dirs(extra=()) -> list:
    """Typeshed directories (with ``stdlib/``): those given, then mypy's and typeshed_client's when installed."""
    import importlib.util
    import os

    found = [d for d in extra if isinstance(d, str)]
    for package, sub in (("mypy", "typeshed"), ("typeshed_client", "typeshed")):
        try:
            spec = importlib.util.find_spec(package)
        except Exception:
            spec = None
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        for location in locations:
            path = os.path.join(location, sub)
            if os.path.isdir(os.path.join(path, "stdlib")):
                found.append(path)
    return found
