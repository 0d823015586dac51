"""Where each finding lands: inline on a line GitHub accepts, moved a little (and saying so), or
in the review body as the model named it; and the cap on inline comments."""

from __future__ import annotations

from orchestrate.github.anchoring import DEFAULT_REACH, anchor
from orchestrate.github.marker import ReviewState
from orchestrate.github.patch import parse_patch
from orchestrate.github.publish import draft_review, next_state
from orchestrate.github.render import MAX_BODY, comment_body
from orchestrate.review.findings import Finding, ReviewOutcome, SkippedItem

HEAD = "a" * 40
PATCH = "@@ -10,3 +10,4 @@ def f():\n     a = 1\n-    b = 2\n+    b = 3\n+    c = 4\n     return a"
# New side: 10 ctx, 11 add, 12 add, 13 ctx.
FILES = [parse_patch("app.py", "modified", PATCH), parse_patch("logo.png", "added", None)]


def finding(line: int, path: str = "app.py", body: str = "check this", **kw: str) -> Finding:
    return Finding.model_validate(
        {"path": path, "line": line, "severity": "warning", "body": body, "source": "routine", **kw}
    )


def test_a_line_the_diff_shows_stays() -> None:
    (placed,) = anchor([finding(12)], FILES).placed
    assert (placed.line, placed.moved_from) == (12, None)
    assert "About line" not in comment_body(placed)


def test_a_line_a_little_outside_moves_to_the_nearest_shown_and_says_so() -> None:
    result = anchor([finding(13 + DEFAULT_REACH), finding(8)], FILES)
    assert [(p.line, p.moved_from) for p in result.placed] == [(13, 18), (10, 8)]
    assert "About line 18, which the diff does not show" in comment_body(result.placed[0])
    assert "5 line(s) away" in comment_body(result.placed[0])


def test_a_line_further_away_goes_to_the_body_as_named() -> None:
    draft = draft_review(HEAD, [finding(13 + DEFAULT_REACH + 1), finding(99999)], FILES, 25)
    assert draft.comments == []
    assert "`app.py` line 19 (outside the diff)" in draft.body
    assert "`app.py` line 99999 (outside the diff)" in draft.body
    assert len(draft.listed) == 2


def test_no_line_goes_to_the_body_even_next_to_line_one() -> None:
    top = [parse_patch("new.py", "added", "@@ -0,0 +1,2 @@\n+a = 1\n+b = 2", additions=2)]
    found = [finding(0, "new.py", "The whole file lacks tests."), finding(-3, "new.py", "Odd.")]
    draft = draft_review(HEAD, found, top, 25)
    assert draft.comments == []  # line 1 is one away, but 0 is no line of the file
    assert "- `new.py`: 🟠 **warning**: The whole file lacks tests." in draft.body


def test_files_outside_the_diff_and_the_prs_own_text_go_to_the_body() -> None:
    outside = finding(3, "config.py", "Callers still read the old key.")
    binary = finding(1, "logo.png", "Compress this image.")
    pr_text = finding(0, "(pull request title)", "The title addresses the reviewer.")
    draft = draft_review(HEAD, [outside, binary, pr_text], FILES, 25)
    assert draft.comments == []
    assert "`config.py` (not changed by this pull request) line 3" in draft.body
    assert "`logo.png` line 1 (outside the diff)" in draft.body
    assert "- (pull request title): 🟠 **warning**: The title addresses the reviewer." in draft.body
    assert len(draft.listed) == 3


def test_inline_comments_are_capped_most_serious_first() -> None:
    found = [
        finding(10, body="style remark", severity="info"),
        finding(11, body="a real bug", severity="error"),
        finding(12, body="a risk", severity="warning", source="deep"),
        finding(13, body="another risk", severity="warning"),
    ]
    draft = draft_review(HEAD, found, FILES, 2)
    assert [(c.line, c.body.split(":")[0]) for c in draft.comments] == [
        (11, "🔴 **error**"),
        (12, "🟠 **warning**"),
    ]
    assert "More findings (one review carries only the most serious inline)" in draft.body
    assert "`app.py` line 13: 🟠 **warning**: another risk" in draft.body
    assert "`app.py` line 10: 🔵 **info**: style remark" in draft.body
    assert len(draft.listed) == 4


def test_what_passes_githubs_size_limit_is_left_for_the_next_run() -> None:
    long = [finding(1000 + n * 100, body=f"remark {n} " + "x" * 2000) for n in range(40)]
    draft = draft_review(HEAD, long, FILES, 25)
    assert len(draft.body) < MAX_BODY
    assert 0 < len(draft.listed) < 40
    assert "more finding(s) past GitHub's size limit; the next run posts them" in draft.body


def test_the_marker_carries_what_was_not_reviewed() -> None:
    outcome = ReviewOutcome(
        summary="s",
        skipped=[
            SkippedItem(path="big.py", reason="cut", retry=True),
            SkippedItem(path="uv.lock", reason="lock file"),
            SkippedItem(path="gone.py", reason="failed", retry=True),
        ],
    )
    state = next_state(ReviewState(), HEAD, outcome, [finding(11)], {"big.py", "uv.lock"})
    assert (state.head_sha, state.pending) == (HEAD, ["big.py"])
    assert state.fingerprints == [finding(11).fingerprint()]
    # No model ran at all: the head stays where it was.
    earlier = ReviewState(head_sha="b" * 40, pending=["x.py"])
    assert next_state(earlier, HEAD, None, [], set()).model_dump() == earlier.model_dump()


def test_too_many_unreviewed_paths_keep_the_old_head() -> None:
    paths = [f"src/module_{n:05}/file.py" for n in range(2000)]
    earlier = ReviewState(head_sha="b" * 40, pending=["x.py"])
    after = earlier.with_run(HEAD, [], paths)
    assert (after.head_sha, after.pending) == ("b" * 40, ["x.py"])
