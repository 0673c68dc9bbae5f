"""Secure by default: who may serve where, and who may call.

- A server on a non-loopback address needs TLS *and* a token, unless ``--insecure`` says otherwise out loud.
- The token travels as gRPC metadata ``authorization: Bearer <token>`` and is compared in constant time.
- TLS always verifies the server; client certificates are checked when a client CA is given.
"""

from __future__ import annotations

import hmac
import ipaddress
import os

__all__ = ["TOKEN_ENV", "is_loopback", "read_token", "check_exposure", "no_token_warning", "token_matches",
           "split_address"]

TOKEN_ENV = "SNAKEPIT_GRPC_TOKEN"
MIN_TOKEN_CHARS = 16


def split_address(address: str):
    """``"host:port"`` or ``"[v6]:port"`` -> ``(host, port)``.

    Raises:
        ValueError: no port, or a port that is not 0..65535.
    """
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError("expected HOST:PORT (e.g. 127.0.0.1:50051, [::1]:0, 0.0.0.0:50051), got %r" % address)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IPs (127.0.0.0/8, ::1); unspecified addresses (0.0.0.0) are not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve anywhere


def read_token(path):
    """The token from ``--token-file`` (first line) or the SNAKEPIT_GRPC_TOKEN variable, or None.

    Raises:
        ValueError: the file cannot be read, or the token is shorter than 16 characters.
    """
    token = None
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                token = f.readline().strip()
        except OSError as exc:
            raise ValueError("--token-file %s: %s" % (path, exc.strerror or exc))
    elif os.environ.get(TOKEN_ENV):
        token = os.environ[TOKEN_ENV].strip()
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise ValueError("the token must be at least %d characters (try: openssl rand -hex 32)" % MIN_TOKEN_CHARS)
    return token


def check_exposure(host: str, tls: bool, token, insecure: bool):
    """The reason this server must not start, or None.

    A loopback address is reachable only from this machine; anything else needs TLS and a token.
    """
    if insecure or is_loopback(host):
        return None
    missing = [what for what, ok in (("TLS (--tls-cert and --tls-key)", tls),
                                     ("a token (--token-file or %s)" % TOKEN_ENV, token)) if not ok]
    if not missing:
        return None
    return ("refusing to serve on %s, which is not a loopback address, without %s: anyone who can reach it "
            "could run code in this worker. Add them, or pass --insecure to accept that risk (e.g. inside a "
            "private network that already authenticates)" % (host, " and ".join(missing)))


def no_token_warning(host: str) -> str:
    """What ``serve`` prints when it starts without a token."""
    who = "any process on this machine (any user)" if is_loopback(host) else "anyone who can reach %s" % host
    return ("serving on %s without a token: %s can run this adapter's tools. Give it a token (--token-file, or %s) "
            "and the same grpc.token to the host" % (host, who, TOKEN_ENV))


def token_matches(expected: str, metadata) -> bool:
    """Whether the call's metadata carries ``authorization: Bearer <expected>`` (constant-time compare)."""
    presented = ""
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
            presented = value[7:]
            break
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))
