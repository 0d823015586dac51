"""Properties: parsers survive any text, paths never escape, rendered edits read back exactly."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrate.engine.edits import (
    FileEdit,
    ParsedEdits,
    SearchReplace,
    apply_block,
    parse_search_replace,
    parse_whole_file,
    resolve_edit_path,
)
from orchestrate.exceptions import EditRefusedError, OrchestrateError

FRAGMENTS = [
    "<<<<<<< SEARCH",
    "=======",
    ">>>>>>> REPLACE",
    "```",
    "```python",
    "````",
    "~~~",
    "src/a.py",
    "**b.py**",
    "### c/d.txt:",
    "Here is `e.py`:",
    "",
    "    indented",
    "x = 1",
    "\r",
]
reply_text = st.one_of(
    st.text(),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=20)), max_size=30).map(
        "\n".join
    ),
)
allowed_lists = st.one_of(st.none(), st.lists(st.sampled_from(["a.py", "src/a.py", "b.py"])))


def _parse_safely(text: str, allowed: list[str] | None) -> list[ParsedEdits]:
    results = []
    for parser in (parse_whole_file, parse_search_replace):
        try:
            results.append(parser(text, allowed))
        except OrchestrateError:  # our own errors are acceptable; anything else fails the test
            continue
    return results


@given(reply_text, allowed_lists)
def test_parsers_never_raise_foreign_errors(text: str, allowed: list[str] | None) -> None:
    for parsed in _parse_safely(text, allowed):
        assert (parsed.error is None) == bool(parsed.edits)
        assert all(edit.path.strip() for edit in parsed.edits)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("props")
    repo = base / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "src").mkdir()
    (repo / "src/a.py").write_text("a\n")
    (base / "outside").mkdir()
    (repo / "out").symlink_to(base / "outside", target_is_directory=True)
    (repo / "up").symlink_to(base, target_is_directory=True)
    (repo / "git").symlink_to(repo / ".git", target_is_directory=True)
    (repo / "loop").symlink_to(repo / "loop")
    return repo


COMPONENTS = ["src", "a.py", "..", ".", "", ".git", ".GIT", "out", "up", "git", "loop", "~", "C:"]
raw_paths = st.lists(
    st.one_of(st.sampled_from(COMPONENTS), st.text(max_size=8)), min_size=1, max_size=6
).flatmap(lambda parts: st.sampled_from(["/", "\\"]).map(lambda sep: sep.join(parts)))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(raw_paths)
def test_random_paths_never_resolve_outside_the_root(root: Path, raw: str) -> None:
    real_root = root.resolve()
    try:
        target = resolve_edit_path(root, raw, None)
    except EditRefusedError:
        return
    assert target.is_relative_to(real_root)
    assert target != real_root
    assert ".git" not in {part.casefold() for part in target.relative_to(real_root).parts}


line_text = st.text(alphabet=string.ascii_letters + string.digits + " ()=:'", max_size=15)
code_line = line_text.filter(lambda line: bool(line.strip()))


@given(st.lists(code_line, min_size=1, max_size=12, unique=True), st.data())
def test_a_unique_exact_span_is_replaced_exactly(lines: list[str], data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(lines) - 1))
    end = data.draw(st.integers(start + 1, len(lines)))
    replacement = data.draw(st.lists(code_line, max_size=4))
    block = SearchReplace(
        path="m.py", search="\n".join(lines[start:end]), replace="\n".join(replacement), index=1
    )

    outcome = apply_block("\n".join(lines) + "\n", block)

    assert isinstance(outcome, tuple)
    text, applied = outcome
    assert applied.match == "exact"
    assert applied.line == start + 1
    expected = lines[:start] + replacement + lines[end:]
    assert text == ("\n".join(expected) + "\n" if expected else "")


safe_paths = st.lists(
    st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=6), min_size=1, max_size=3
).map(lambda parts: "/".join(parts) + ".py")


@given(safe_paths, st.lists(line_text, max_size=8))
def test_rendered_whole_file_reads_back(path: str, lines: list[str]) -> None:
    content = "\n".join(lines)
    reply = f"Here you go.\n\n{path}\n```python\n{content}\n```\nHope this helps."

    parsed = parse_whole_file(reply, None)

    while lines and not lines[-1].strip():
        lines.pop()
    expected = "\n".join(lines) + "\n" if lines else ""
    assert parsed.edits == (FileEdit(path=path, content=expected),)


@given(safe_paths, st.lists(code_line, min_size=1, max_size=5), st.lists(line_text, max_size=5))
def test_rendered_search_replace_reads_back(
    path: str, search: list[str], replace: list[str]
) -> None:
    reply = (
        f"{path}\n```python\n<<<<<<< SEARCH\n"
        + "".join(line + "\n" for line in search)
        + "=======\n"
        + "".join(line + "\n" for line in replace)
        + ">>>>>>> REPLACE\n```\n"
    )

    parsed = parse_search_replace(reply, None)

    expected = SearchReplace(
        path=path, search="\n".join(search), replace="\n".join(replace), index=1
    )
    assert parsed.edits == (expected,)
