"""Moving a session to another worker (dispatch/session_tools.py): export on one, import on the other; what does not
pickle is listed, references keep their ids and are resolved (and released) on the new worker."""

from __future__ import annotations

from snakepit_bridge.channel.values import RefToken

REFS = "fixture_adapters:RefAdapter"


def test_a_session_moves_with_its_values_and_references(make_host):
    old = make_host(adapter=REFS)
    new = make_host(adapter=REFS, args=["--worker-id", "test-2"])
    old.run("remember", {"key": "k", "value": [1, 2]}, session="s")
    old.run("remember_lock", {"key": "lock"}, session="s")
    model = old.run("make_model", {"name": "alpha", "weight": 2.0}, session="s")
    assert isinstance(model, RefToken) and model.tag()["worker"] == "test-1"

    exported = old.run("__snakepit__.session_export", {"session": "s"})
    assert exported["values"] == 1 and exported["refs"] == 1
    assert [(x["kind"], x["name"], x["type"]) for x in exported["lost"]] == [("value", "'lock'", "lock")]
    assert "pickle" in exported["lost"][0]["reason"]

    imported = new.run("__snakepit__.session_import", {"session": "s", "state": exported["state"]})
    assert imported == {"values": 1, "refs": 1, "lost": []}
    assert new.run("recall", {"key": "k"}, session="s") == [1, 2]
    assert new.run("recall", {"key": "lock"}, session="s") == "missing"
    # The reference still names the worker that made it; the new worker holds it under test-1/<id>.
    assert new.run("weigh", {"model": model, "x": 3}, session="s") == {"name": "alpha", "value": 6.0,
                                                                       "type": "Model"}
    kind, info = new.run("weigh", {"model": model}, session="other")
    assert kind == "error" and info["kind"] == "invalid_arguments"
    new.send({"type": "release", "refs": ["test-1/" + model.tag()["id"]], "session": "s"})
    assert new.run("ref_stats") == {"refs": 0, "sessions": 0}


def test_a_moved_session_moves_again_keeping_where_each_reference_was_made(make_host):
    first = make_host(adapter=REFS)
    second = make_host(adapter=REFS, args=["--worker-id", "test-2"])
    third = make_host(adapter=REFS, args=["--worker-id", "test-3"])
    model = first.run("make_model", {"name": "m"}, session="s")
    second.run("__snakepit__.session_import",
               {"session": "s", "state": first.run("__snakepit__.session_export", {"session": "s"})["state"]})
    own = second.run("make_model", {"name": "made-on-2"}, session="s")
    moved = second.run("__snakepit__.session_export", {"session": "s"})
    assert moved["refs"] == 2
    third.run("__snakepit__.session_import", {"session": "s", "state": moved["state"]})
    assert third.run("weigh", {"model": model}, session="s")["name"] == "m"
    assert third.run("weigh", {"model": own}, session="s")["name"] == "made-on-2"


def test_an_empty_session_exports_nothing_and_bad_arguments_are_refused(make_host):
    host = make_host(adapter=REFS)
    assert host.run("__snakepit__.session_export", {"session": "none"}) == {
        "state": None, "values": 0, "refs": 0, "lost": []}
    assert host.run("__snakepit__.session_import", {"session": "s", "state": None}) == {
        "values": 0, "refs": 0, "lost": []}
    kind, info = host.run("__snakepit__.session_import", {"session": "s", "state": "not bytes"})
    assert kind == "error" and info["kind"] == "invalid_arguments" and "bytes" in info["message"]
    kind, info = host.run("__snakepit__.session_export", {"session": ""})
    assert kind == "error" and info["kind"] == "invalid_arguments"
