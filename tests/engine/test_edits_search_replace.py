"""SEARCH/REPLACE replies: parsing, tolerant matching, mismatch feedback, and the format policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrate.engine.edits import (
    MIN_REPLIES_TO_JUDGE,
    FormatStats,
    SearchReplace,
    apply_edits,
    mismatch_feedback,
    parse_search_replace,
)
from orchestrate.ledger.store import Ledger


def block(search: str, replace: str) -> str:
    return f"<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n"


def sr(path: str, search: str, replace: str, index: int = 1) -> SearchReplace:
    return SearchReplace(path=path, search=search, replace=replace, index=index)


# --- parsing -----------------------------------------------------------------------------


def test_blocks_inside_and_outside_fences_for_several_files() -> None:
    reply = (
        "I'll fix both.\n\nsrc/a.py\n```python\n"
        + block("x = 1", "x = 2")
        + "```\n\nAnd **src/b.py**:\n\n"
        + block("y = 1", "y = 2")
        + "Done!"
    )

    parsed = parse_search_replace(reply, None)

    assert parsed.well_formed
    assert parsed.edits == (
        sr("src/a.py", "x = 1", "x = 2", 1),
        sr("src/b.py", "y = 1", "y = 2", 2),
    )


def test_block_without_a_path_line_belongs_to_the_previous_file() -> None:
    reply = "a.py\n" + block("one", "1") + "\n" + block("two", "2")

    parsed = parse_search_replace(reply, None)

    assert [edit.path for edit in parsed.edits] == ["a.py", "a.py"]
    assert [edit.index for edit in parsed.edits if isinstance(edit, SearchReplace)] == [1, 2]


def test_only_allowed_file_is_used_when_no_path_is_given() -> None:
    parsed = parse_search_replace("Here:\n" + block("a", "b"), ["pkg/only.py"])

    assert parsed.edits == (sr("pkg/only.py", "a", "b"),)


def test_no_path_and_no_single_file_is_malformed() -> None:
    parsed = parse_search_replace(block("a", "b"), ["a.py", "b.py"])

    assert not parsed.well_formed
    assert parsed.error is not None
    assert "path" in parsed.error


@pytest.mark.parametrize(
    "reply",
    [
        "a.py\n<<<<<<< SEARCH\nx\n>>>>>>> REPLACE\n",
        "a.py\n<<<<<<< SEARCH\nx\n=======\ny\n",
        "a.py\n<<<<<<< SEARCH\nx\n<<<<<<< SEARCH\ny\n=======\nz\n>>>>>>> REPLACE",
    ],
)
def test_incomplete_block_is_malformed(reply: str) -> None:
    parsed = parse_search_replace(reply, None)

    assert parsed.error is not None
    assert "incomplete" in parsed.error


def test_no_blocks_is_malformed() -> None:
    parsed = parse_search_replace("a.py\n```python\nx = 1\n```", None)

    assert not parsed.well_formed
    assert parsed.error is not None
    assert "SEARCH" in parsed.error


# --- applying ----------------------------------------------------------------------------

SOURCE = (
    "class Greeter:\n"
    "    def greet(self, name):\n"
    "        message = f'hi {name}'\n"
    "\n"
    "        return message\n"
    "\n"
    "    def leave(self):\n"
    "        return 'bye'\n"
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "greet.py").write_text(SOURCE)
    return tmp_path


def test_exact_match_replaces_the_lines(repo: Path) -> None:
    edit = sr("greet.py", "        return 'bye'", "        return 'goodbye'")

    result = apply_edits(repo, [edit], ["greet.py"])

    assert result.ok
    assert result.changed == ("greet.py",)
    assert [(item.match, item.line) for item in result.applied] == [("exact", 8)]
    assert (repo / "greet.py").read_text() == SOURCE.replace("'bye'", "'goodbye'")


def test_indentation_difference_is_tolerated_and_replacement_reindented(repo: Path) -> None:
    search = "def leave(self):\n    return 'bye'"
    replace = "def leave(self):\n    print('leaving')\n    return 'bye'"

    result = apply_edits(repo, [sr("greet.py", search, replace)], None)

    assert [item.match for item in result.applied] == ["indent"]
    expected = SOURCE.replace(
        "        return 'bye'\n", "        print('leaving')\n        return 'bye'\n"
    )
    assert (repo / "greet.py").read_text() == expected


def test_over_indented_search_is_dedented(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f():\n    return 1\n")
    search = "        def f():\n            return 1"
    replace = "        def f():\n            return 2"

    apply_edits(tmp_path, [sr("m.py", search, replace)], None)

    assert (tmp_path / "m.py").read_text() == "def f():\n    return 2\n"


def test_stray_blank_lines_are_tolerated(repo: Path) -> None:
    search = "        message = f'hi {name}'\n        return message"
    replace = "        return f'hello {name}'"

    result = apply_edits(repo, [sr("greet.py", search, replace)], None)

    assert [item.match for item in result.applied] == ["blank_lines"]
    text = (repo / "greet.py").read_text()
    assert "message" not in text
    assert "    def greet(self, name):\n        return f'hello {name}'\n\n    def leave" in text


def test_ambiguous_search_is_a_mismatch_and_changes_nothing(tmp_path: Path) -> None:
    original = "a = 1\nx = 0\nb = 2\nx = 0\n"
    (tmp_path / "m.py").write_text(original)

    result = apply_edits(tmp_path, [sr("m.py", "x = 0", "x = 9")], None)

    assert result.changed == ()
    [mismatch] = result.failed
    assert mismatch.reason == "ambiguous"
    assert "lines 2, 4" in mismatch.message
    assert (tmp_path / "m.py").read_text() == original


def test_empty_search_creates_a_new_file(tmp_path: Path) -> None:
    result = apply_edits(tmp_path, [sr("new/mod.py", "", "x = 1\n\n")], ["new/mod.py"])

    assert result.changed == ("new/mod.py",)
    assert [item.match for item in result.applied] == ["create"]
    assert (tmp_path / "new/mod.py").read_text() == "x = 1\n"


def test_empty_search_on_an_existing_file_is_refused_as_mismatch(repo: Path) -> None:
    result = apply_edits(repo, [sr("greet.py", "", "x = 1")], None)

    assert [mismatch.reason for mismatch in result.failed] == ["file_exists"]
    assert (repo / "greet.py").read_text() == SOURCE


def test_search_in_a_missing_file_is_a_mismatch(tmp_path: Path) -> None:
    result = apply_edits(tmp_path, [sr("nope.py", "x = 1", "x = 2")], None)

    assert [mismatch.reason for mismatch in result.failed] == ["missing_file"]
    assert not (tmp_path / "nope.py").exists()


def test_empty_replace_deletes_the_lines(repo: Path) -> None:
    search = "    def leave(self):\n        return 'bye'"

    apply_edits(repo, [sr("greet.py", search, "")], None)

    assert (repo / "greet.py").read_text() == SOURCE.split("    def leave", maxsplit=1)[0]


def test_blocks_apply_in_order_against_the_edited_text(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("a\nb\nc\n")
    edits = [sr("m.py", "a", "A", 1), sr("m.py", "A\nb", "A\nB", 2)]

    result = apply_edits(tmp_path, edits, None)

    assert result.ok
    assert (tmp_path / "m.py").read_text() == "A\nB\nc\n"


def test_crlf_file_keeps_crlf_after_a_block(tmp_path: Path) -> None:
    (tmp_path / "w.txt").write_bytes(b"one\r\ntwo\r\n")

    apply_edits(tmp_path, [sr("w.txt", "two", "2")], None)

    assert (tmp_path / "w.txt").read_bytes() == b"one\r\n2\r\n"


def test_good_blocks_apply_even_where_another_block_in_the_file_fails(repo: Path) -> None:
    good = sr("greet.py", "        return 'bye'", "        return 'ciao'", 1)
    bad = sr("greet.py", "    def wave(self):\n        return 'o/'", "", 2)

    result = apply_edits(repo, [good, bad], None)

    assert result.changed == ("greet.py",)
    assert [item.block.index for item in result.applied] == [1]
    assert [mismatch.block.index for mismatch in result.failed] == [2]
    assert "'ciao'" in (repo / "greet.py").read_text()


def test_mismatch_feedback_lists_applied_blocks_and_closest_lines(repo: Path) -> None:
    good = sr("greet.py", "        return 'bye'", "        return 'ciao'", 1)
    typo = sr("greet.py", "    def greet(self, nme):\n        mesage = f'hi {name}'", "pass", 2)

    result = apply_edits(repo, [good, typo], None)
    text = mismatch_feedback(result)

    [mismatch] = result.failed
    assert mismatch.reason == "not_found"
    assert mismatch.closest_line == 2
    assert "    2 |     def greet(self, name):" in mismatch.closest
    assert "    3 |         message = f'hi {name}'" in mismatch.closest
    assert "block 1 (greet.py)" in text
    assert mismatch.closest in text
    assert "ONLY the failed blocks (2)" in text


def test_mismatch_feedback_when_nothing_applied_and_nothing_is_close(repo: Path) -> None:
    result = apply_edits(repo, [sr("greet.py", "zzzzzzzzzzzzzzzzzzzzzzzz", "q")], None)

    text = mismatch_feedback(result)

    assert result.failed[0].closest == ""
    assert "None of your SEARCH/REPLACE blocks were applied." in text
    assert "Did you mean" not in text


def test_mismatch_feedback_is_empty_when_everything_applied(repo: Path) -> None:
    result = apply_edits(repo, [sr("greet.py", "        return 'bye'", "        pass")], None)

    assert mismatch_feedback(result) == ""


# --- format policy -----------------------------------------------------------------------


def test_whole_file_agents_stay_whole() -> None:
    stats = FormatStats()
    for _ in range(5):
        stats.record("ollama:tiny", "whole", False)

    assert stats.effective_format("whole", "ollama:tiny") == "whole"


def test_search_replace_drops_to_whole_only_after_enough_bad_replies() -> None:
    stats = FormatStats()
    for _ in range(MIN_REPLIES_TO_JUDGE - 1):
        stats.record("ollama:tiny", "search_replace", False)
    assert stats.effective_format("search_replace", "ollama:tiny") == "search_replace"

    stats.record("ollama:tiny", "search_replace", False)

    assert stats.effective_format("search_replace", "ollama:tiny") == "whole"
    assert stats.effective_format("search_replace", "ollama:other") == "search_replace"


def test_half_well_formed_keeps_search_replace() -> None:
    stats = FormatStats()
    for well_formed in (True, False, True, False):
        stats.record("m", "search_replace", well_formed)

    assert stats.count("m", "search_replace").share == 0.5
    assert stats.effective_format("search_replace", "m") == "search_replace"

    stats.record("m", "search_replace", False)

    assert stats.effective_format("search_replace", "m") == "whole"


def test_good_whole_file_replies_do_not_switch_back() -> None:
    stats = FormatStats()
    for _ in range(3):
        stats.record("m", "search_replace", False)
    for _ in range(10):
        stats.record("m", "whole", True)

    assert stats.effective_format("search_replace", "m") == "whole"


def test_a_model_that_botched_blocks_in_earlier_runs_gets_whole_files_at_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as ledger:
        earlier = FormatStats.from_ledger(ledger)
        for _ in range(3):
            earlier.record("m", "search_replace", False)
        assert earlier.effective_format("search_replace", "m") == "whole"
    # A later run (a new process): a fresh engine reads the same ledger.
    with Ledger(path) as ledger:
        later = FormatStats.from_ledger(ledger)
        assert later.count("m", "search_replace").malformed == 3
        assert later.effective_format("search_replace", "m") == "whole"
        assert later.effective_format("search_replace", "other") == "search_replace"
