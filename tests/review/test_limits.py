"""Budgets bound a large PR, and everything they leave out is listed with its reason."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from orchestrate.github.patch import FilePatch, parse_patch
from orchestrate.review.limits import (
    CloudTokens,
    ReviewLimits,
    cap_file,
    hunk_tokens,
    select_files,
)
from orchestrate.review.routine import anchor, chunk_hunks


def added_file(path: str, lines: int, width: int = 30) -> FilePatch:
    body = "\n".join(f"+{'x' * width} {n}" for n in range(1, lines + 1))
    return parse_patch(path, "added", f"@@ -0,0 +1,{lines} @@\n{body}", additions=lines)


def test_unreviewable_files_are_listed_with_their_reason() -> None:
    files = [
        added_file("src/a.py", 3),
        parse_patch("old.py", "removed", "@@ -1 +0,0 @@\n-gone", deletions=1),
        added_file("web/package-lock.json", 3),
        added_file("static/app.min.js", 3),
        parse_patch("logo.png", "added", None),
    ]
    selection = select_files(files, ReviewLimits())
    assert [f.path for f in selection.files] == ["src/a.py"]
    reasons = {item.path: item.reason for item in selection.skipped}
    assert reasons["old.py"].startswith("file deleted")
    assert reasons["web/package-lock.json"].startswith("lock or generated")
    assert reasons["static/app.min.js"].startswith("lock or generated")
    assert reasons["logo.png"].startswith("no text diff")


def test_files_past_max_files_are_skipped_in_order() -> None:
    files = [added_file(f"f{n}.py", 2) for n in range(5)]
    selection = select_files(files, ReviewLimits(max_files=3))
    assert [f.path for f in selection.files] == ["f0.py", "f1.py", "f2.py"]
    assert [item.path for item in selection.skipped] == ["f3.py", "f4.py"]
    assert all("max-files limit (3)" in item.reason for item in selection.skipped)


def test_unreviewable_files_do_not_use_up_max_files() -> None:
    files = [added_file("uv.lock", 2), added_file("a.py", 2), added_file("b.py", 2)]
    selection = select_files(files, ReviewLimits(max_files=2))
    assert [f.path for f in selection.files] == ["a.py", "b.py"]


def test_a_file_over_its_cap_is_cut_by_line_and_says_where() -> None:
    big = added_file("big.py", 400)  # ~15 tokens a line
    kept, note = cap_file(big, 1000)
    shown = sorted(kept.commentable_lines())
    assert shown == list(range(1, len(shown) + 1))
    assert 50 < len(shown) < 400
    assert sum(hunk_tokens(h) for h in kept.hunks) <= 1000
    assert note is not None and note.path == "big.py"
    assert f"reviewed up to new line {shown[-1]}" in note.reason
    assert "max-file-tokens" in note.reason


def test_a_file_under_its_cap_is_untouched() -> None:
    small = added_file("small.py", 10)
    assert cap_file(small, 6000) == (small, None)


def test_cut_keeps_whole_earlier_hunks() -> None:
    patch = parse_patch(
        "two.py",
        "modified",
        "@@ -1,1 +1,2 @@\n ctx\n+first\n@@ -50,1 +51,300 @@\n"
        + "\n".join(f"+{'y' * 40}" for _ in range(300)),
    )
    kept, note = cap_file(patch, 400)
    assert note is not None
    assert kept.hunks[0] == patch.hunks[0]
    assert 0 < len(kept.hunks[1].lines) < 300


def test_limits_reject_nonsense() -> None:
    with pytest.raises(ValidationError):
        ReviewLimits(max_files=0)
    with pytest.raises(ValidationError):
        ReviewLimits(unknown=1)  # type: ignore[call-arg]


def test_chunks_group_hunks_up_to_the_size() -> None:
    text = "\n".join(f"@@ -{n * 10},1 +{n * 10},1 @@\n+{'z' * 90}" for n in range(1, 7))
    hunks = parse_patch("c.py", "modified", text).hunks
    size = hunk_tokens(hunks[0]) * 2
    chunks = chunk_hunks(hunks, size)
    assert [len(chunk) for chunk in chunks] == [2, 2, 2]
    assert [h for chunk in chunks for h in chunk] == hunks


def test_anchor_moves_a_line_to_the_nearest_shown() -> None:
    shown = [3, 4, 10, 20]
    assert anchor(4, shown) == 4
    assert anchor(1, shown) == 3
    assert anchor(7, shown) == 4  # ties go to the earlier line
    assert anchor(16, shown) == 20
    assert anchor(99, shown) == 20


def test_cloud_tokens_track_what_is_left() -> None:
    cloud = CloudTokens(100)
    assert cloud.fits(100)
    cloud.charge(70)
    assert cloud.left == 30
    assert not cloud.fits(31)
    cloud.charge(50)
    assert cloud.left == 0
