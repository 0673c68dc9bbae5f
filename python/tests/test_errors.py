"""ErrorInfo built from exceptions (PROTOCOL.md section 5)."""

from __future__ import annotations

from snakepit_bridge.errors import (CallCancelled, HostToolError, UnknownHostToolError, bridge_error, cancelled,
                                    error_info)


def _raise(exc):
    raise exc


def test_error_info_fields():
    try:
        _raise(ValueError("x must be positive"))
    except ValueError as exc:
        info = error_info(exc)
    assert info["kind"] == "python"
    assert info["type"] == "ValueError"
    assert info["module"] == "builtins"
    assert info["mro"] == ["ValueError", "Exception", "BaseException"]
    assert info["message"] == "x must be positive"
    assert info["traceback"].startswith("Traceback (most recent call last):")
    assert "in _raise" in info["traceback"]
    assert info["traceback"].rstrip().endswith("ValueError: x must be positive")
    assert info["details"] == {}


def test_user_defined_exception_keeps_module_and_mro():
    class QuotaError(LookupError):
        pass

    try:
        raise QuotaError("over")
    except QuotaError as exc:
        info = error_info(exc, details={"limit": 3})
    assert info["type"] == "QuotaError"
    assert info["module"] == __name__
    assert info["mro"] == ["QuotaError", "LookupError", "Exception", "BaseException"]
    assert info["details"] == {"limit": 3}


def test_chained_exceptions_are_in_the_traceback():
    try:
        try:
            {}["k"]
        except KeyError as inner:
            raise RuntimeError("outer") from inner
    except RuntimeError as exc:
        info = error_info(exc)
    assert "KeyError: 'k'" in info["traceback"]
    assert "direct cause" in info["traceback"]


def test_unprintable_exception_does_not_break_reporting():
    class Ugly(Exception):
        def __str__(self):
            raise RuntimeError("no")

    info = error_info(Ugly())
    assert info["message"] == "<unprintable Ugly>"


def test_exception_without_traceback():
    info = error_info(KeyError("never raised"))
    assert info["type"] == "KeyError"
    assert info["message"] == "'never raised'"


def test_bridge_errors():
    info = bridge_error("unknown_tool", "unknown tool 'x'", {"tool": "x", "available": []})
    assert info["kind"] == "unknown_tool" and info["type"] == "UnknownToolError"
    assert info["traceback"] == "" and info["details"]["tool"] == "x"
    assert cancelled("timeout")["details"] == {"reason": "timeout"}


def test_call_cancelled_is_not_an_exception():
    assert issubclass(CallCancelled, BaseException) and not issubclass(CallCancelled, Exception)
    assert CallCancelled("timeout").reason == "timeout"


def test_host_tool_error_fields():
    err = HostToolError("double", "boom", "E_X", "RangeError")
    assert (err.tool, err.name, err.message, err.code) == ("double", "RangeError", "boom", "E_X")
    assert str(err) == "host tool 'double' failed: RangeError: boom"
    assert isinstance(err, RuntimeError)  # as Snakepit's Elixir tool failures were
    assert HostToolError("double", "boom").name == "Error"
    unknown = UnknownHostToolError("x", 'no host tool named "x"; available: (none)', UnknownHostToolError.CODE)
    assert isinstance(unknown, HostToolError) and str(unknown) == 'no host tool named "x"; available: (none)'
