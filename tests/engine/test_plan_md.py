"""plan.md parsing: headings, checklists, files/check lines, and line-numbered errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrate.engine.plan_md import MAX_TASKS, PlanDoc, load_plan, parse_plan
from orchestrate.exceptions import PlanError

HEADINGS = """\
# Add caching

We want faster lookups.

## Cache layer
Add an LRU cache in front of `lookup()`.
files: src/cache.py, `src/lookup.py`
check: `pytest -q tests/test_cache.py`
check: ruff check src

Keep it small.

## Docs ##
Document the cache.

```text
## not a heading
files: /not/parsed.py
```
"""


def test_headings_make_tasks_with_files_and_checks() -> None:
    plan = parse_plan(HEADINGS)

    assert plan.context == "# Add caching\n\nWe want faster lookups."
    first, second = plan.tasks
    assert first.title == "Cache layer"
    assert first.line == 5
    assert first.files == ["src/cache.py", "src/lookup.py"]
    assert first.checks == ["pytest -q tests/test_cache.py", "ruff check src"]
    assert first.instructions == "Add an LRU cache in front of `lookup()`.\n\nKeep it small."
    assert second.title == "Docs"
    assert second.line == 13
    assert second.files == []
    assert "## not a heading" in second.instructions
    assert "files: /not/parsed.py" in second.instructions


CHECKLIST = """\
# Chores
Context line.

- [ ] Rename `foo` to `bar` in util.py
- [x] Already done
- [ ] Add a --verbose flag
  It should print each step.
    - nested detail
  files: cli.py
  - check: pytest -q

Trailing note.
* [ ] Third
"""


def test_checklist_items_skip_ticked_and_keep_indented_body() -> None:
    plan = parse_plan(CHECKLIST)

    assert [t.title for t in plan.tasks] == [
        "Rename `foo` to `bar` in util.py",
        "Add a --verbose flag",
        "Third",
    ]
    assert [t.line for t in plan.tasks] == [4, 6, 13]
    rename, verbose, third = plan.tasks
    assert rename.instructions == rename.title
    assert verbose.instructions == "It should print each step.\n  - nested detail"
    assert verbose.files == ["cli.py"]
    assert verbose.checks == ["pytest -q"]
    assert third.instructions == "Third"
    assert plan.context == "# Chores\nContext line.\n\nTrailing note."


def test_checklist_inside_heading_plan_is_body_text() -> None:
    plan = parse_plan("## One\n- [ ] a\n- [ ] b\n")
    assert len(plan.tasks) == 1
    assert plan.tasks[0].instructions == "- [ ] a\n- [ ] b"


def test_paths_are_normalised() -> None:
    plan = parse_plan("## T\ndo it\nfiles: ./a/b.py, a/./b.py, 'c.py', sub\\d.py\n")
    assert plan.tasks[0].files == ["a/b.py", "c.py", "sub/d.py"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("just prose\n", r"^plan\.md:1: no tasks found \(start each task"),
        ("- [x] done\n", r"^plan\.md:1: no tasks found \(untick"),
        ("intro\n\n## Empty\n\n## Next\nwork\n", r"^plan\.md:3: task 'Empty' has no instructions"),
        ("## \nbody\n", r"^plan\.md:1: task has no title"),
        ("- [ ]\n", r"^plan\.md:1: task has no title"),
        (
            "## T\nx\n\nfiles: /etc/passwd\n",
            r"^plan\.md:4: task 'T': file path '/etc/passwd' is absolute",
        ),
        (
            "## T\nx\nfiles: a.py, ../b.py\n",
            r"^plan\.md:3: task 'T': file path '\.\./b\.py' leaves the repo",
        ),
        (
            "## T\nx\nfiles: C:\\w\\a.py\n",
            r"^plan\.md:3: task 'T': file path 'C:/w/a\.py' is absolute",
        ),
        ("## T\nx\nfiles: ,\n", r"^plan\.md:3: files: names no files"),
        ("## T\nx\ncheck: ``\n", r"^plan\.md:3: check: has no command"),
    ],
)
def test_errors_name_the_line(text: str, expected: str) -> None:
    with pytest.raises(PlanError, match=expected):
        parse_plan(text)


def test_too_many_tasks_and_too_big() -> None:
    many = "".join(f"## Task {i}\ndo {i}\n" for i in range(MAX_TASKS + 1))
    with pytest.raises(PlanError, match=rf"^plan\.md:{2 * MAX_TASKS + 1}: more than 200 tasks"):
        parse_plan(many)
    assert len(parse_plan(many[: many.index(f"## Task {MAX_TASKS}\n")]).tasks) == MAX_TASKS
    with pytest.raises(PlanError, match="over the 1 MiB limit"):
        parse_plan("## T\n" + "x" * (1024 * 1024))


def test_load_plan_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "plan.md"
    path.write_text("\ufeff## First\r\nDo it.\r\ncheck: make test\r\n", encoding="utf-8")
    plan = load_plan(path)
    assert plan.tasks[0].title == "First"
    assert plan.tasks[0].checks == ["make test"]

    bad = tmp_path / "bad.md"
    bad.write_bytes(b"## T\nok\n\xff\xfe broken\n")
    with pytest.raises(PlanError, match=r"bad\.md:3: not valid UTF-8"):
        load_plan(bad)

    with pytest.raises(PlanError, match=r"missing\.md: file not found"):
        load_plan(tmp_path / "missing.md")

    big = tmp_path / "big.md"
    big.write_bytes(b"## T\n" + b"y" * (1024 * 1024))
    with pytest.raises(PlanError, match=r"big\.md:1: plan is over the 1 MiB limit"):
        load_plan(big)


def _markdownish() -> st.SearchStrategy[str]:
    pieces = st.sampled_from(
        [
            "## ",
            "# ",
            "- [ ] ",
            "- [x] ",
            "  ",
            "files: ",
            "check: ",
            "```",
            "`",
            "..",
            "/",
            ",",
            "\n",
        ]
    )
    return st.lists(st.one_of(pieces, st.text(max_size=8)), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), _markdownish()))
def test_any_text_gives_tasks_or_plan_error(text: str) -> None:
    try:
        plan = parse_plan(text)
    except PlanError as exc:
        message = str(exc)
        assert message.startswith("plan.md:")
        assert "\n" not in message
        return
    assert isinstance(plan, PlanDoc)
    assert plan.tasks
    for task in plan.tasks:
        assert task.title
        assert task.instructions.strip()
        assert all(not f.startswith("/") and ".." not in f.split("/") for f in task.files)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (".git/config", "files under .git may not be edited"),
        (".GIT/hooks/pre-commit", "files under .git may not be edited"),
        ("src/.git./HEAD", "files under .git may not be edited"),
        ("~notes.py", "nor a leading '~'"),
        ("a\x01b.py", "control character"),
        ("notes\x7f.md", "control character"),
    ],
)
def test_a_path_no_run_could_edit_is_refused_when_the_plan_is_read(raw: str, why: str) -> None:
    text = f"# Plan\n\n## First\ndo it\nfiles: a.py\n\n## Second\nthen this\nfiles: b.py, {raw}\n"
    with pytest.raises(PlanError) as refused:
        parse_plan(text)
    message = str(refused.value)
    assert message.startswith(f"plan.md:9: task 'Second': file path {raw!r} is refused: ")
    assert why in message and "\n" not in message
