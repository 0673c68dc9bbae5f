"""What of a server's environment the worker processes it starts inherit (docs/SECURITY.md, "Worker environment").

``serve --grpc`` and the Snakepit-style worker start ordinary worker processes, which run library code; the
server's own secrets (``SNAKEPIT_GRPC_TOKEN`` first of all) stay in the server. Every variable is passed on except
those that look like secrets: a name containing one of ``SECRET_PARTS`` anywhere (``PGPASSWORD``) or one of
``SECRET_WORDS`` as a word between ``_``, ``-`` and ``.`` (``HF_TOKEN``, not ``TOKENIZERS_PARALLELISM``), or a
value that is a URL with a password in it. It is the host's rule too (src/worker/worker-env.ts); a test keeps them equal.

A worker that needs a secret gets it by name: ``SNAKEPIT_PASS_ENV=HF_TOKEN,DB_URL`` (comma-separated) passes those
variables on as they are. A snakepit host sets it to the names of a pool's ``env`` for Snakepit-style workers, so a
pool's explicit ``env`` reaches the worker process whatever its names.
"""

from __future__ import annotations

import re

__all__ = ["SECRET_PARTS", "SECRET_WORDS", "PASS_ENV", "is_secret_variable", "inherited_env"]

PASS_ENV = "SNAKEPIT_PASS_ENV"

SECRET_PARTS = ("SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIAL", "APIKEY")
SECRET_WORDS = frozenset(["TOKEN", "KEY", "PASS", "AUTH", "COOKIE", "PRIVATE"])
_WORDS = re.compile(r"[_.-]+")
_URL_WITH_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/@\s:]*:[^/@\s]+@")


def is_secret_variable(name: str, value) -> bool:
    """Whether ``name=value`` is withheld from worker processes."""
    upper = name.upper()
    if any(part in upper for part in SECRET_PARTS) or any(word in SECRET_WORDS for word in _WORDS.split(upper)):
        return True
    return isinstance(value, str) and _URL_WITH_PASSWORD.match(value) is not None


def inherited_env(env) -> dict:
    """``env`` (a mapping) without its secrets, except those ``SNAKEPIT_PASS_ENV`` names."""
    passed = frozenset(name.strip() for name in (env.get(PASS_ENV) or "").split(",") if name.strip())
    return {name: value for name, value in env.items()
            if name in passed or not is_secret_variable(name, value)}
