"""Whole-file replies: reading them from rambling model text, and writing the files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from orchestrate.engine.edits import (
    FileEdit,
    ParsedEdits,
    apply_edits,
    apply_edits_async,
    parse_edits,
    parse_whole_file,
)


def first_content(parsed: ParsedEdits) -> str:
    edit = parsed.edits[0]
    assert isinstance(edit, FileEdit)
    return edit.content


BODY = "def greet(name):\n    return f'hi {name}'\n"


@pytest.mark.parametrize(
    "path_line",
    [
        "src/app.py",
        "src/app.py:",
        "### src/app.py",
        "**src/app.py**",
        "**src/app.py**:",
        "`src/app.py`",
        "File: src/app.py",
        "**File:** `src/app.py`",
        "- `src/app.py`",
        "Here is the updated `src/app.py`:",
    ],
)
def test_path_line_styles_name_the_block(path_line: str) -> None:
    reply = f"{path_line}\n```python\n{BODY}```\n"

    parsed = parse_whole_file(reply, ["src/app.py", "src/other.py"])

    assert parsed.well_formed
    assert parsed.edits == (FileEdit(path="src/app.py", content=BODY),)


@pytest.mark.parametrize(
    ("opening", "closing"),
    [
        ("```python", "```"),
        ("```py", "```"),
        ("```", "```"),
        ("~~~python", "~~~"),
        ("````python3", "````"),
        ("``` python {.numberLines}", "```"),
    ],
)
def test_language_tag_is_stripped(opening: str, closing: str) -> None:
    reply = f"app.py\n{opening}\n{BODY}{closing}\n"

    parsed = parse_whole_file(reply, None)

    assert parsed.edits == (FileEdit(path="app.py", content=BODY),)


def test_path_in_the_fence_info_string() -> None:
    parsed = parse_whole_file(f"```python src/app.py\n{BODY}```", None)

    assert parsed.edits == (FileEdit(path="src/app.py", content=BODY),)


def test_rambling_text_around_several_files() -> None:
    reply = (
        "Sure! I will update two files. First the code.\n\n"
        "src/app.py\n```python\nprint('app')\n```\n\n"
        "That handles the app. Now the test, which checks it works:\n\n"
        "tests/test_app.py:\n```python\nimport app\n```\n\n"
        "You can run it with:\n```bash\npytest -q\n```\nLet me know if anything else is needed!"
    )

    parsed = parse_whole_file(reply, None)

    assert parsed.edits == (
        FileEdit(path="src/app.py", content="print('app')\n"),
        FileEdit(path="tests/test_app.py", content="import app\n"),
    )


def test_one_allowed_file_takes_the_first_block_when_nothing_is_named() -> None:
    reply = (
        "Okay, I think the function should look like this:\n```python\nx = 1\n```\n"
        "and you could call it like so:\n```python\nprint(x)\n```"
    )

    parsed = parse_whole_file(reply, ["pkg/mod.py"])

    assert parsed.edits == (FileEdit(path="pkg/mod.py", content="x = 1\n"),)


def test_several_allowed_files_and_no_path_is_malformed() -> None:
    parsed = parse_whole_file("```python\nx = 1\n```", ["a.py", "b.py"])

    assert not parsed.well_formed
    assert parsed.edits == ()
    assert parsed.error is not None
    assert "path" in parsed.error


@pytest.mark.parametrize("reply", ["", "I could not do this, sorry.", "def f(): pass"])
def test_no_code_block_is_malformed_output_not_an_exception(reply: str) -> None:
    parsed = parse_whole_file(reply, ["a.py"])

    assert not parsed.well_formed
    assert parsed.error is not None
    assert "code block" in parsed.error


@pytest.mark.parametrize("ending", ["", "\n", "\n\n\n", "\n  \n\n"])
def test_trailing_newline_normalised_to_one(ending: str) -> None:
    reply = f"a.py\n```\nx = 1{ending}\n```"

    assert first_content(parse_whole_file(reply, None)) == "x = 1\n"


def test_cut_off_reply_is_malformed_and_names_the_file() -> None:
    parsed = parse_whole_file("a.py\n```python\ndef f():\n    return", None)

    assert parsed.error is not None
    assert "a.py" in parsed.error
    assert "not closed" in parsed.error


def test_search_replace_markers_inside_a_whole_file_block_are_malformed() -> None:
    reply = "a.py\n```\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```"

    parsed = parse_whole_file(reply, None)

    assert parsed.error is not None
    assert "COMPLETE" in parsed.error


def test_crlf_reply_gives_lf_content() -> None:
    parsed = parse_whole_file("a.py\r\n```\r\nx = 1\r\ny = 2\r\n```\r\n", None)

    assert first_content(parsed) == "x = 1\ny = 2\n"


def test_same_file_twice_keeps_the_later_block() -> None:
    reply = "Before:\n\na.py\n```\nold\n```\nAfter:\n\na.py\n```\nnew\n```"

    assert parse_whole_file(reply, None).edits == (FileEdit(path="a.py", content="new\n"),)


def test_fence_indented_in_a_list_is_dedented() -> None:
    reply = "1. `a.py`\n   ```python\n   def f():\n       return 1\n   ```"

    assert first_content(parse_whole_file(reply, None)) == "def f():\n    return 1\n"


def test_longer_outer_fence_keeps_inner_fences_of_a_markdown_file() -> None:
    reply = "README.md\n````markdown\n# Title\n```bash\nmake\n```\n````"

    assert first_content(parse_whole_file(reply, None)) == "# Title\n```bash\nmake\n```\n"


def test_parse_edits_dispatches_on_format() -> None:
    reply = "a.py\n```\nx = 1\n```"

    assert parse_edits(reply, "whole", None).edits == (FileEdit(path="a.py", content="x = 1\n"),)
    assert not parse_edits(reply, "search_replace", None).well_formed


def test_apply_writes_new_and_existing_files(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("old\n")
    edits = [
        FileEdit(path="a.py", content="new\n"),
        FileEdit(path="pkg/sub/b.py", content="made\n"),
    ]

    result = apply_edits(tmp_path, edits, ["a.py", "pkg/sub/b.py"])

    assert result.changed == ("a.py", "pkg/sub/b.py")
    assert (tmp_path / "a.py").read_text() == "new\n"
    assert (tmp_path / "pkg/sub/b.py").read_text() == "made\n"
    assert not list(tmp_path.rglob(".orchestrate-*"))


def test_identical_content_is_not_reported_as_changed(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("same\n")

    result = apply_edits(tmp_path, [FileEdit(path="a.py", content="same\n")], None)

    assert result.changed == ()


def test_existing_file_mode_is_preserved(tmp_path: Path) -> None:
    script = tmp_path / "run.sh"
    script.write_text("echo old\n")
    script.chmod(0o751)

    apply_edits(tmp_path, [FileEdit(path="run.sh", content="echo new\n")], None)

    assert stat.S_IMODE(script.stat().st_mode) == 0o751
    assert script.read_text() == "echo new\n"


def test_crlf_file_keeps_crlf(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"one\r\ntwo\r\n")

    apply_edits(tmp_path, [FileEdit(path="a.txt", content="one\nthree\n")], None)

    assert (tmp_path / "a.txt").read_bytes() == b"one\r\nthree\r\n"


async def test_async_apply_writes_the_file(tmp_path: Path) -> None:
    result = await apply_edits_async(tmp_path, [FileEdit(path="x.py", content="x\n")], ["x.py"])

    assert result.changed == ("x.py",)
    assert (tmp_path / "x.py").read_text() == "x\n"
