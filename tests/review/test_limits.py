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
from orchestrate.review.risk import file_kind
from orchestrate.review.routine import chunk_hunks


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
    assert not any(item.retry for item in selection.skipped)  # never reviewable: not pending


def test_max_files_takes_the_riskiest_files_not_the_first_in_the_alphabet() -> None:
    files = [
        added_file("README.md", 200),
        added_file("a/util.py", 2),
        added_file("b/big.py", 300),
        added_file("tests/test_big.py", 300),
        added_file("z/auth/session.py", 5),
    ]
    selection = select_files(files, ReviewLimits(max_files=2))
    assert [f.path for f in selection.files] == ["b/big.py", "z/auth/session.py"]
    assert [item.path for item in selection.skipped] == [
        "tests/test_big.py",
        "a/util.py",
        "README.md",
    ]
    assert all("max-files limit (2): lower risk" in item.reason for item in selection.skipped)
    assert all(item.retry for item in selection.skipped)  # a later run reviews them


def test_files_our_scan_flagged_come_first() -> None:
    files = [added_file("b/big.py", 300), added_file("docs/notes.md", 1)]
    selection = select_files(files, ReviewLimits(max_files=1), first={"docs/notes.md"})
    assert [f.path for f in selection.files] == ["docs/notes.md"]


def test_kinds_of_files() -> None:
    kinds = {
        path: file_kind(path)
        for path in (
            "src/auth/login.py",
            ".github/workflows/ci.yml",
            "db/migrations/0003_users.sql",
            "Dockerfile",
            "pyproject.toml",
            "src/app.ts",
            "tests/test_login.py",
            "web/app.spec.ts",
            "docs/guide.md",
            "assets/logo.svg",
        )
    }
    assert kinds == {
        "src/auth/login.py": "sensitive",
        ".github/workflows/ci.yml": "sensitive",
        "db/migrations/0003_users.sql": "sensitive",
        "Dockerfile": "build",
        "pyproject.toml": "build",
        "src/app.ts": "code",
        "tests/test_login.py": "test",
        "web/app.spec.ts": "test",
        "docs/guide.md": "docs",
        "assets/logo.svg": "other",
    }


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
    assert note.retry


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


def test_cloud_tokens_track_what_is_left() -> None:
    cloud = CloudTokens(100)
    assert cloud.fits(100)
    cloud.charge(70)
    assert cloud.left == 30
    assert not cloud.fits(31)
    cloud.charge(50)
    assert cloud.left == 0


def test_concurrent_calls_hold_their_worst_case() -> None:
    cloud = CloudTokens(100)
    assert cloud.reserve(60)
    assert not cloud.reserve(60)  # a second call may not count on the first one's tokens
    assert cloud.left == 40
    cloud.release(60)
    cloud.charge(25)  # what the provider reported
    assert (cloud.left, cloud.reserved) == (75, 0)
