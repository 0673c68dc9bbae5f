"""The exposure rule of ``serve --grpc`` and the token check (security.py)."""

from __future__ import annotations

import pytest

from snakepit_bridge.remote import security

TOKEN = "0123456789abcdef0123"


@pytest.mark.parametrize("host,loopback", [
    ("127.0.0.1", True), ("127.3.2.1", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("10.0.0.5", False), ("worker.example", False)])
def test_loopback(host, loopback):
    assert security.is_loopback(host) is loopback


def test_split_address():
    assert security.split_address("0.0.0.0:50051") == ("0.0.0.0", 50051)
    assert security.split_address("[::1]:0") == ("::1", 0)
    for bad in ("nohost", ":1", "h:x", "h:70000"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            security.split_address(bad)


def test_exposure_needs_tls_and_a_token_off_loopback():
    assert security.check_exposure("127.0.0.1", False, None, False) is None
    assert security.check_exposure("0.0.0.0", True, TOKEN, False) is None
    assert security.check_exposure("0.0.0.0", False, None, True) is None  # --insecure
    problem = security.check_exposure("0.0.0.0", False, None, False)
    assert "TLS" in problem and "token" in problem and "--insecure" in problem
    assert "token" not in security.check_exposure("10.0.0.1", False, TOKEN, False).split("without")[1]
    assert "TLS" not in security.check_exposure("10.0.0.1", True, None, False).split("without")[1]


def test_token_matches_only_the_exact_bearer_token():
    assert security.token_matches(TOKEN, [("authorization", "Bearer " + TOKEN)])
    for metadata in ([], [("authorization", "Bearer " + TOKEN + "x")], [("authorization", TOKEN)],
                     [("x-token", "Bearer " + TOKEN)], [("authorization", "Bearer ")]):
        assert not security.token_matches(TOKEN, metadata)


def test_read_token(tmp_path, monkeypatch):
    monkeypatch.delenv(security.TOKEN_ENV, raising=False)
    assert security.read_token(None) is None
    f = tmp_path / "token"
    f.write_text(TOKEN + "\nignored\n")
    assert security.read_token(str(f)) == TOKEN
    monkeypatch.setenv(security.TOKEN_ENV, "  " + TOKEN + " ")
    assert security.read_token(None) == TOKEN
    monkeypatch.setenv(security.TOKEN_ENV, "short")
    with pytest.raises(ValueError, match="at least 16"):
        security.read_token(None)
    with pytest.raises(ValueError, match="--token-file"):
        security.read_token(str(tmp_path / "missing"))
