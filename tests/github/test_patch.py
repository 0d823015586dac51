"""Parsing GitHub's per-file patches into new-side line numbers."""

from __future__ import annotations

from orchestrate.github.patch import parse_patch

TWO_HUNKS = (
    "@@ -1,3 +1,4 @@ import os\n"
    " import os\n"
    "+import sys\n"
    " \n"
    " x = 1\n"
    "@@ -20,4 +21,3 @@ def main():\n"
    "     a()\n"
    "-    b()\n"
    "-    c()\n"
    "+    d()\n"
    "     return 0\n"
)


def test_line_numbers_follow_both_sides() -> None:
    patch = parse_patch("app.py", "modified", TWO_HUNKS, 2, 2)
    first, second = patch.hunks
    assert first.new_start == 1
    assert [(pl.kind, pl.old_line, pl.new_line) for pl in first.lines] == [
        ("ctx", 1, 1),
        ("add", None, 2),
        ("ctx", 2, 3),
        ("ctx", 3, 4),
    ]
    assert [(pl.kind, pl.old_line, pl.new_line) for pl in second.lines] == [
        ("ctx", 20, 21),
        ("del", 21, None),
        ("del", 22, None),
        ("add", None, 22),
        ("ctx", 23, 23),
    ]
    assert patch.commentable_lines() == {1, 2, 3, 4, 21, 22, 23}


def test_trailing_newline_adds_no_phantom_line() -> None:
    # The patch ends in "\n", so splitting leaves an empty string after the hunk's last line.
    patch = parse_patch("app.py", "modified", TWO_HUNKS)
    assert patch.hunks[-1].lines[-1].text == "    return 0"
    assert 24 not in patch.commentable_lines()


def test_blank_context_line_without_its_space_is_still_context() -> None:
    stripped = "@@ -1,3 +1,3 @@\n a\n\n-b\n+c"
    patch = parse_patch("f.txt", "modified", stripped)
    assert [(pl.kind, pl.new_line) for pl in patch.hunks[0].lines] == [
        ("ctx", 1),
        ("ctx", 2),
        ("del", None),
        ("add", 3),
    ]


def test_no_newline_note_and_single_line_counts() -> None:
    patch = parse_patch(
        "f.txt", "modified", "@@ -1 +1 @@\n-old\n\\ No newline at end of file\n+new"
    )
    assert [(pl.kind, pl.text) for pl in patch.hunks[0].lines] == [("del", "old"), ("add", "new")]
    assert patch.commentable_lines() == {1}


def test_new_and_deleted_files() -> None:
    added = parse_patch("n.py", "added", "@@ -0,0 +1,2 @@\n+a\n+b")
    assert added.commentable_lines() == {1, 2}
    removed = parse_patch("o.py", "removed", "@@ -1,2 +0,0 @@\n-a\n-b")
    assert removed.commentable_lines() == set()


def test_missing_patch_means_nothing_commentable() -> None:
    binary = parse_patch("logo.png", "added", None)
    assert (binary.patch, binary.hunks, binary.commentable_lines()) == (None, [], set())
    assert binary.numbered() == ""


def test_numbered_shows_new_side_numbers_and_removed_lines_unnumbered() -> None:
    patch = parse_patch("app.py", "modified", TWO_HUNKS)
    assert patch.numbered().split("\n") == [
        "@@ -1,3 +1,4 @@ import os",
        "   1   import os",
        "   2 + import sys",
        "   3   ",
        "   4   x = 1",
        "@@ -20,4 +21,3 @@ def main():",
        "  21       a()",
        "     -     b()",
        "     -     c()",
        "  22 +     d()",
        "  23       return 0",
    ]
