"""The stdlib-only requirement checker behind PythonPackages.checkInstalled."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from snakepit_bridge.packages import Version, check, normalize_name, parse_requirement, satisfies

ORDERED = [
    "1.0.dev0", "1.0a1", "1.0a2.dev1", "1.0a2", "1.0b1", "1.0rc1", "1.0", "1.0+local", "1.0.post1.dev0",
    "1.0.post1", "1.0.1", "1.1", "2", "1!0.5",
]


def test_versions_sort_as_pep_440_orders_them():
    parsed = [Version(v) for v in ORDERED]
    assert sorted(reversed(parsed)) == parsed
    for earlier, later in zip(parsed, parsed[1:]):
        assert earlier < later, (earlier, later)


@pytest.mark.parametrize("a,b", [("1.0", "1.0.0"), ("1.0alpha1", "1.0a1"), ("1.0-1", "1.0.post1"),
                                 ("v2.1", "2.1"), ("1.0RC1", "1.0rc1"), ("1.0.dev", "1.0.dev0")])
def test_alternative_spellings_are_equal(a, b):
    assert Version(a) == Version(b)


@pytest.mark.parametrize("installed,op,wanted,expected", [
    ("1.26.4", ">=", "1.26", True),
    ("1.25.9", ">=", "1.26", False),
    ("2.0", "<", "2", False),
    ("1.9", "<", "2", True),
    ("1.4.5", "~=", "1.4", True),
    ("1.4.5", "~=", "1.4.2", True),
    ("1.5.0", "~=", "1.4.2", False),
    ("2.0", "~=", "1.4", False),
    ("2.2.3", "==", "2.2.*", True),
    ("2.3.0", "==", "2.2.*", False),
    ("2.2.1", "!=", "2.2.1", False),
    ("2.2.1", "!=", "2.2.*", False),
    ("2.1.0+cpu", "==", "2.1.0", True),
    ("2.1.0+cpu", "==", "2.1.0+cu121", False),
    ("1.0", "===", "1.0", True),
    ("1.0.0", "===", "1.0", False),
    ("3", ">", "2.9", True),
    ("1.0", "<=", "1.0.0", True),
])
def test_clauses(installed, op, wanted, expected):
    assert satisfies(installed, op, wanted) is expected


def test_tilde_equal_needs_two_release_numbers():
    with pytest.raises(ValueError, match="two release numbers"):
        satisfies("1.0", "~=", "1")


def test_parse_requirement_and_names():
    assert parse_requirement("pandas[excel, perf]>=2,<3") == ("pandas", ["excel", "perf"], [(">=", "2"), ("<", "3")])
    assert normalize_name("Scikit_Learn") == "scikit-learn"
    assert normalize_name("zope.interface") == "zope-interface"
    with pytest.raises(ValueError):
        parse_requirement("numpy; python_version<'3.10'")


def test_check_reports_each_spec():
    installed = {"numpy": "1.26.4", "scikit-learn": "1.4.0", "weird": "not-a-version"}
    results = check(["numpy>=1.26", "numpy>=2", "Scikit_Learn", "pandas", "weird>=1", "weird===not-a-version"],
                    installed)
    assert [r["satisfied"] for r in results] == [True, False, True, False, False, True]
    assert results[1]["reason"] == "installed 1.26.4 does not satisfy >=2"
    assert results[3] == {"spec": "pandas", "name": "pandas", "installed": None, "satisfied": False,
                          "reason": "not installed"}
    assert results[4]["reason"].startswith("cannot compare not-a-version")


def test_module_entry_reads_the_real_environment():
    out = subprocess.run([sys.executable, "-m", "snakepit_bridge.packages", "pytest>=1", "no-such-dist-xyz"],
                         capture_output=True, text=True, check=True, env={"PYTHONPATH": ":".join(sys.path)})
    report = json.loads(out.stdout)
    assert report["python"] == sys.version.split()[0]
    assert [p["satisfied"] for p in report["packages"]] == [True, False]
