"""The parse check before a commit: which files, which languages, and what it says."""

from __future__ import annotations

import pytest

from orchestrate.engine.syntax import broken_files, parse_error


@pytest.mark.parametrize(
    ("path", "text", "says"),
    [
        ("a.py", "Here is the code you asked for.\n", "a.py is not valid Python (line 1"),
        ("a.py", "return 1\n", "'return' outside function"),
        ("pkg/b.pyi", "def f(:\n", "pkg/b.pyi is not valid Python"),
        ("c.json", '{"a": 1,}', "c.json is not valid JSON"),
        ("d.yaml", "a: [1, 2\n", "d.yaml is not valid YAML"),
        ("e.yml", "a: b: c\n", "e.yml is not valid YAML"),
        ("f.toml", "[tool\nname = 1\n", "f.toml is not valid TOML"),
        ("g.py", "x = 1\0\n", "g.py is not valid Python"),
    ],
)
def test_unparseable_files_are_named_with_the_reason(path: str, text: str, says: str) -> None:
    problem = parse_error(path, text)
    assert problem is not None and says in problem


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("a.py", "def f(x):\n    return x * 2\n"),
        ("c.json", '{"a": [1, 2]}'),
        ("d.yaml", "a: 1\n---\nb: 2\n"),
        ("f.toml", '[tool.x]\nname = "y"\n'),
        ("notes.md", "# anything at all {"),
        ("main.rs", "fn main( {"),  # no parser at hand: not judged
    ],
)
def test_valid_files_and_unknown_languages_pass(path: str, text: str) -> None:
    assert parse_error(path, text) is None


def test_only_changed_files_that_parsed_before_are_held_to_it() -> None:
    before: dict[str, str | None] = {
        "ok.py": "x = 1\n",
        "newer.py": "type Alias = int\nmatch x:\n  case 1 if (y := 2): pass\n  case {**rest, 1: 2}: pass\n",
        "same.json": "{",
        "new.json": None,
    }
    after: dict[str, str | None] = {
        "ok.py": "x = = 1\n",
        "newer.py": "still not ours to judge(\n",
        "same.json": "{",
        "new.json": "{nope}",
        "gone.py": None,
    }
    problems = broken_files(before, after)
    assert [p.split(" ")[0] for p in problems] == ["ok.py", "new.json"]
