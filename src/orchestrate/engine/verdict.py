"""What a run's state amounts to: settled or not, its status, and its one-line summary."""

from __future__ import annotations

from typing import Literal

from orchestrate.engine.result import SubtaskResult
from orchestrate.engine.run_state import RunState

Status = Literal["approved", "changes_requested", "unchecked", "failed"]


def checked_subtasks(results: list[SubtaskResult]) -> bool:
    """Whether checks verified every subtask that was done (and at least one was)."""
    done = [result for result in results if result.status == "done"]
    return bool(done) and all(result.checks for result in done)


def settled(state: RunState, max_reviews: int) -> bool:
    """No more work: the last review approved, asked for nothing, or was the last allowed."""
    review = state.review
    if review is None:
        return False
    return review.verdict == "approve" or not review.follow_ups or state.reviews >= max_reviews


def run_status(state: RunState, accept_unchecked: bool) -> Status:
    """Approved only on the reviewer's word AND every subtask done AND passing checks; the
    reviewer's word alone (no check verified the work) counts only if the user accepted that
    (`accept_unchecked`). When no model fit to review was usable, the checks alone decide, on
    the same terms."""
    review = state.review
    reviewed_ok = review is not None and review.verdict == "approve"
    if not (reviewed_ok or state.not_reviewed):
        return "changes_requested"
    if any(result.status != "done" for result in state.results):
        return "changes_requested"  # the reviewer's word does not cover work never done
    checks = state.task_checks
    if checks:
        return "approved" if all(check.ok for check in checks) else "changes_requested"
    if checked_subtasks(state.results) or accept_unchecked:
        return "approved"
    return "unchecked"


def run_summary(state: RunState) -> str:
    """`3/3 subtasks done; task checks pass; reviewer: approve`: the run in one line."""
    results = state.results
    done = sum(result.status == "done" for result in results)
    checks = state.task_checks
    if checks:
        said = "task checks pass" if all(c.ok for c in checks) else "task checks FAIL"
    elif checked_subtasks(results):
        said = "no task checks; every subtask's own checks passed"
    else:
        said = "no checks ran"
    verdict: str = state.review.verdict if state.review else "no review"
    if state.not_reviewed:
        verdict = "not reviewed"
    return f"{done}/{len(results)} subtasks done; {said}; reviewer: {verdict}"
