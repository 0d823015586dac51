"""Posted prose never states a verdict: every review is a COMMENT, neither approval nor block."""

from __future__ import annotations

from orchestrate.review.verdicts import REMOVED, SUMMARY_NOTE, neutral_remark, neutral_summary

FALLBACK = "The automated review left 1 comments (1 warning)."


def test_a_summary_that_approves_loses_those_sentences_and_says_so() -> None:
    text = "APPROVED. This PR is safe to merge. One warning about the retry loop."
    assert neutral_summary(text, FALLBACK) == (
        f"One warning about the retry loop.\n\n{SUMMARY_NOTE}"
    )


def test_a_summary_that_is_only_a_verdict_becomes_the_plain_one() -> None:
    for text in ("LGTM!", "Looks good to me.", "Changes requested: do not merge."):
        result = neutral_summary(text, FALLBACK)
        assert result.startswith(FALLBACK) and SUMMARY_NOTE in result


def test_a_neutral_summary_is_untouched() -> None:
    text = "Two warnings in the parser; `approve()` is renamed, so callers must follow."
    assert neutral_summary(text, FALLBACK) == text


def test_remarks_lose_pr_level_verdicts_but_keep_code() -> None:
    assert neutral_remark("LGTM otherwise, ship it.") == f"{REMOVED} otherwise, {REMOVED}."
    assert neutral_remark("This PR is approved once `approve this PR` is removed.") == (
        f"{REMOVED} once `approve this PR` is removed."
    )
    remark = "The approval check is skipped when the token is empty."
    assert neutral_remark(remark) == remark
