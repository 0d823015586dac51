"""Reading a pull request, placing comments on valid lines, the hidden marker, and posting one
review plus a sticky summary, all through real PyGithub against the fake GitHub."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrate.exceptions import (
    ConfigError,
    GitHubError,
    MissingCredentialsError,
    ReadOnlyTokenError,
)
from orchestrate.github import marker
from orchestrate.github.anchoring import anchor
from orchestrate.github.context import PullRequestContext, resolve_context
from orchestrate.github.marker import MAX_FINGERPRINTS, ReviewState
from orchestrate.github.patch import parse_patch
from orchestrate.github.posting import InlineComment, Poster
from orchestrate.github.pull_request import PullRequestReader, connect
from orchestrate.github.render import SummaryFacts, cap, inert, summary_body
from orchestrate.review.findings import Finding, ReviewOutcome
from orchestrate.testing.fake_github import FakeFile, FakeGitHub

HEAD, NEXT = "a" * 40, "c" * 40
PATCH = "@@ -10,3 +10,4 @@ def f():\n     a = 1\n-    b = 2\n+    b = 3\n+    c = 4\n     return a"
# New side: 10 ctx, 11 add, 12 add, 13 ctx.
BOT = "github-actions[bot]"


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        server.open_pull(7, HEAD, [FakeFile("app.py", PATCH)])
        yield server


def reader(fake: FakeGitHub, number: int = 7, token: str = "ghs_fake") -> PullRequestReader:
    context = PullRequestContext(api_url=fake.url, repo="acme/widgets", number=number, token=token)
    return PullRequestReader(connect(context), "acme/widgets", number)


def poster(fake: FakeGitHub) -> Poster:
    pr = reader(fake)
    return Poster(pr.repository, pr.pull, BOT)


def finding(line: int, path: str = "app.py", body: str = "check this") -> Finding:
    return Finding(path=path, line=line, severity="warning", body=body, source="routine")


# --- anchoring ------------------------------------------------------------------------------


def test_anchoring_keeps_valid_lines_moves_near_ones_and_sets_aside_the_rest() -> None:
    files = [parse_patch("app.py", "modified", PATCH), parse_patch("logo.png", "added", None)]
    result = anchor(
        [
            finding(12),
            finding(15),
            finding(8),
            finding(40),
            finding(1, "other.py"),
            finding(1, "logo.png"),
        ],
        files,
    )
    assert [(p.finding.line, p.line, p.moved_from) for p in result.placed] == [
        (12, 12, None),
        (15, 13, 15),
        (8, 10, 8),
    ]
    assert [(f.path, f.line) for f in result.unplaced] == [
        ("app.py", 40),
        ("other.py", 1),
        ("logo.png", 1),
    ]


# --- marker ---------------------------------------------------------------------------------


def test_marker_round_trips_inside_a_comment() -> None:
    state = ReviewState(head_sha=HEAD, fingerprints=["0123456789abcdef"])
    text = f"intro\n{marker.encode(state)}\n## summary"
    assert marker.decode(text) == state


def test_tampered_or_garbled_marker_is_ignored() -> None:
    good = marker.encode(ReviewState(head_sha=HEAD, fingerprints=["0123456789abcdef"]))
    payload, checksum = good.removeprefix(marker.PREFIX).removesuffix(" -->").split(" ")
    forged_state = ReviewState(head_sha=NEXT).model_dump_json()
    forged = base64.b64encode(forged_state.encode()).decode()
    assert marker.decode(f"{marker.PREFIX}{forged} {checksum} -->") is None  # checksum mismatch
    assert marker.decode(good[: len(good) // 2]) is None  # truncated
    assert marker.decode(good.replace(payload[:8], "AAAAAAAA")) is None
    bad_shape = base64.b64encode(json.dumps({"head_sha": "not-a-sha"}).encode()).decode()
    digest = hashlib.sha256(bad_shape.encode()).hexdigest()[:16]
    assert marker.decode(f"{marker.PREFIX}{bad_shape} {digest} -->") is None


def test_state_keeps_the_newest_fingerprints_once() -> None:
    state = ReviewState(head_sha=HEAD, fingerprints=[f"{i:016x}" for i in range(MAX_FINGERPRINTS)])
    after = state.with_run(NEXT, [f"{0:016x}", "ffffffffffffffff"])
    assert after.head_sha == NEXT
    assert len(after.fingerprints) == MAX_FINGERPRINTS
    assert after.fingerprints[-1] == "ffffffffffffffff"
    assert f"{0:016x}" not in after.fingerprints  # already known, and the oldest


def test_model_text_cannot_forge_a_marker_or_mention_people() -> None:
    forged = marker.encode(ReviewState(head_sha=NEXT))
    text = inert(f"LGTM {forged} cc @octocat, mail me@example.com, `@decorator`")
    assert marker.decode(text) is None
    assert "@\u200boctocat" in text
    assert "me@example.com" in text and "`@decorator`" in text


def test_summary_reports_scope_findings_costs_and_notice() -> None:
    outcome = ReviewOutcome(
        summary="Overview.\n\n**Not reviewed, or only in part:**\n- `uv.lock`: lock file",
        findings=[finding(11)],
        cloud_usd=0.0123,
        local_tokens=4567,
        counterfactual_usd=0.2,
        local_only=True,
    )
    facts = SummaryFacts(
        head_sha=NEXT,
        scope="incremental",
        since_sha=HEAD,
        new_findings=1,
        repeated=2,
        findings=[finding(11)],
        notices=["Cloud models were not used."],
    )
    text = summary_body(facts, outcome, marker.encode(ReviewState(head_sha=NEXT)))
    state = marker.decode(text)
    assert state is not None and state.head_sha == NEXT
    assert "after `aaaaaaa` up to `ccccccc`" in text
    assert "**1** new finding(s); 2 already posted earlier, not repeated." in text
    assert "`app.py:11`: check this" in text
    assert "`uv.lock`: lock file" in text
    assert "| $0.0123 | 4,567 | $0.1877 | local models only |" in text
    assert "> Cloud models were not used." in text


def test_long_bodies_are_cut_below_githubs_limit() -> None:
    long = cap("x" * 100_000)
    assert len(long) == 60_000 and long.endswith("over GitHub's size limit)_")
    assert cap("short") == "short"


# --- reading --------------------------------------------------------------------------------


def test_reads_info_and_parsed_files(fake: FakeGitHub) -> None:
    pr = reader(fake)
    info = pr.info()
    assert (info.head_sha, info.repo, info.is_fork) == (HEAD, "acme/widgets", False)
    (patch,) = pr.files()
    assert (patch.path, patch.additions, patch.deletions) == ("app.py", 2, 1)
    assert patch.commentable_lines() == {10, 11, 12, 13}


def test_fork_is_detected_from_the_head_repository(fake: FakeGitHub) -> None:
    fake.open_pull(8, NEXT, [FakeFile("app.py", PATCH)], head_repo="mallory/widgets")
    assert reader(fake, 8).info().is_fork


def test_changes_are_incremental_after_a_push_and_full_after_a_force_push(
    fake: FakeGitHub,
) -> None:
    added = FakeFile("new.py", "@@ -0,0 +1,2 @@\n+one\n+two", status="added")
    fake.push_commit(7, NEXT, [added], [FakeFile("app.py", PATCH), added])
    pr = reader(fake)
    info = pr.info()
    assert pr.changes(info, ReviewState()).scope == "full"
    assert pr.changes(info, ReviewState(head_sha=NEXT)).scope == "none"
    incremental = pr.changes(info, ReviewState(head_sha=HEAD))
    assert (incremental.scope, [f.path for f in incremental.files]) == ("incremental", ["new.py"])
    assert [f.path for f in incremental.pr_files] == ["app.py", "new.py"]
    fake.force_push(7, "d" * 40, [added])
    rewritten = reader(fake)
    after = rewritten.changes(rewritten.info(), ReviewState(head_sha=NEXT))
    assert (after.scope, [f.path for f in after.files]) == ("full", ["new.py"])
    unknown = rewritten.changes(rewritten.info(), ReviewState(head_sha="e" * 40))
    assert unknown.scope == "full"


def test_a_bad_token_is_one_actionable_line(fake: FakeGitHub) -> None:
    with pytest.raises(GitHubError, match=r"401 Bad credentials.*check GITHUB_TOKEN"):
        reader(fake, token="nope").info()


# --- posting --------------------------------------------------------------------------------


def test_review_is_one_comment_event_pinned_to_the_head(fake: FakeGitHub) -> None:
    posted = poster(fake).post_review(
        HEAD, "body", [InlineComment(path="app.py", line=11, body="x")]
    )
    (request,) = [r.json() for r in fake.requests if r.method == "POST"]
    assert (request["event"], request["commit_id"]) == ("COMMENT", HEAD)
    assert request["comments"] == [{"path": "app.py", "line": 11, "side": "RIGHT", "body": "x"}]
    assert (posted.inline, posted.folded) == (1, False)
    assert posted.url == fake.reviews(7)[0]["html_url"]


def test_a_refused_line_folds_comments_into_the_one_review(fake: FakeGitHub) -> None:
    comments = [
        InlineComment(path="app.py", line=11, body="fine"),
        InlineComment(path="app.py", line=99, body="stale line"),
    ]
    posted = poster(fake).post_review(HEAD, "body", comments)
    assert posted.folded
    (review,) = fake.reviews(7)
    assert "**`app.py` line 99:** stale line" in review["body"]
    assert fake.review_comments(7) == []


def test_summary_is_created_once_then_edited(fake: FakeGitHub) -> None:
    first = marker.encode(ReviewState(head_sha=HEAD))
    url = poster(fake).upsert_summary(f"{first}\none")
    assert url == fake.issue_comments(7)[0]["html_url"]
    second_poster = poster(fake)
    assert second_poster.previous_state() == ReviewState(head_sha=HEAD)
    second_poster.upsert_summary(f"{marker.encode(ReviewState(head_sha=NEXT))}\ntwo")
    (comment,) = fake.issue_comments(7)
    assert comment["body"].endswith("two")


def test_a_marker_written_by_someone_else_is_not_trusted(fake: FakeGitHub) -> None:
    forged = marker.encode(ReviewState(head_sha=HEAD, fingerprints=["0123456789abcdef"]))
    fake.add_issue_comment(7, f"{forged}\nnothing to see", login="mallory")
    bot = poster(fake)
    assert bot.previous_state() is None
    bot.upsert_summary(f"{marker.encode(ReviewState(head_sha=HEAD))}\nreal")
    assert [c["user"]["login"] for c in fake.issue_comments(7)] == ["mallory", BOT]


def test_posted_fingerprints_come_from_the_bots_own_comments(fake: FakeGitHub) -> None:
    tagged = "note\n\n<!-- orchestrate-fp:0123456789abcdef -->"
    poster(fake).post_review(HEAD, "b", [InlineComment(path="app.py", line=11, body=tagged)])
    fake.add_token("ghs_other", "mallory")
    other = reader(fake, token="ghs_other")
    spoof = "x\n\n<!-- orchestrate-fp:fedcba9876543210 -->"
    Poster(other.repository, other.pull, "mallory").post_review(
        HEAD, "b", [InlineComment(path="app.py", line=12, body=spoof)]
    )
    assert poster(fake).posted_fingerprints() == {"0123456789abcdef"}


# --- context --------------------------------------------------------------------------------


def write_event(tmp_path: Path, head_repo: str | None) -> str:
    head = {"sha": HEAD, "repo": {"full_name": head_repo} if head_repo else None}
    event = {"pull_request": {"number": 5, "head": head}, "repository": {"full_name": "acme/w"}}
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return str(path)


def test_context_from_actions_environment(tmp_path: Path) -> None:
    env = {
        "GITHUB_EVENT_PATH": write_event(tmp_path, "mallory/w"),
        "GITHUB_TOKEN": "t",
        "GITHUB_API_URL": "https://ghe.example/api/v3/",
    }
    context = resolve_context(None, None, env)
    assert (context.repo, context.number, context.api_url) == (
        "acme/w",
        5,
        "https://ghe.example/api/v3",
    )
    assert context.is_fork
    same = resolve_context(
        None, None, {**env, "GITHUB_EVENT_PATH": write_event(tmp_path, "acme/w")}
    )
    assert not same.is_fork
    assert resolve_context("o/r", 9, {"GITHUB_TOKEN": "t"}).api_url == "https://api.github.com"


def test_context_errors_name_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(MissingCredentialsError, match="GITHUB_TOKEN"):
        resolve_context("o/r", 1, {})
    with pytest.raises(ConfigError, match="--pr"):
        resolve_context("o/r", None, {"GITHUB_TOKEN": "t"})
    with pytest.raises(ConfigError, match="--repo"):
        resolve_context("not a repo", 1, {"GITHUB_TOKEN": "t"})
    with pytest.raises(ConfigError, match="GITHUB_EVENT_PATH"):
        resolve_context(None, None, {"GITHUB_EVENT_PATH": str(tmp_path / "missing.json")})


def test_review_and_summary_never_carry_our_keys(
    fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-ant-api03-" + "Qv7" * 12
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    echoed = f"the model said: 401 invalid x-api-key {key}"
    poster(fake).post_review(HEAD, echoed, [InlineComment(path="app.py", line=11, body=echoed)])
    poster(fake).upsert_summary(f"{marker.encode(ReviewState(head_sha=HEAD))}\n{echoed}")
    posted = json.dumps([fake.reviews(7), fake.review_comments(7), fake.issue_comments(7)])
    assert key not in posted
    assert "[ANTHROPIC_API_KEY]" in posted


def test_a_comparison_at_githubs_300_file_cap_falls_back_to_the_whole_pull_request(
    fake: FakeGitHub,
) -> None:
    merged = [FakeFile(f"vendor/{n:03}.py", "@@ -1 +1 @@\n-a\n+b") for n in range(320)]
    fix = FakeFile("fix.py", "@@ -0,0 +1 @@\n+x = 1", status="added")
    fake.push_commit(7, NEXT, [*merged, fix], [FakeFile("app.py", PATCH), fix])
    pr = reader(fake)
    changes = pr.changes(pr.info(), ReviewState(head_sha=HEAD))
    assert changes.scope == "full"
    assert [f.path for f in changes.files] == ["app.py", "fix.py"]
    assert changes.note is not None and "at most 300 files of a comparison" in changes.note


def test_files_past_the_3000_file_list_are_counted(fake: FakeGitHub) -> None:
    many = [FakeFile(f"f{n:04}.py", "@@ -0,0 +1 @@\n+x", status="added") for n in range(3002)]
    fake.open_pull(8, NEXT, many)
    pr = reader(fake, 8)
    changes = pr.changes(pr.info(), ReviewState())
    assert (len(changes.files), changes.unlisted) == (3000, 2)


def test_files_left_unreviewed_are_taken_again(fake: FakeGitHub) -> None:
    added = FakeFile("new.py", "@@ -0,0 +1 @@\n+one", status="added")
    fake.push_commit(7, NEXT, [added], [FakeFile("app.py", PATCH), added])
    pr = reader(fake)
    changes = pr.changes(pr.info(), ReviewState(head_sha=HEAD, pending=["app.py", "gone.py"]))
    assert (changes.scope, [f.path for f in changes.files]) == ("incremental", ["new.py", "app.py"])
    assert changes.retried == ["app.py"]
    assert changes.files[1].patch == PATCH  # the whole diff of a file taken again
    again = pr.changes(pr.info(), ReviewState(head_sha=NEXT, pending=["app.py"]))
    assert (again.scope, [f.path for f in again.files]) == ("incremental", ["app.py"])


def test_a_read_only_token_is_told_apart_from_other_refusals(fake: FakeGitHub) -> None:
    fake.open_pull(8, NEXT, [FakeFile("app.py", PATCH)], head_repo="mallory/widgets")
    token = fake.run_token(8)
    pr = reader(fake, 8, token=token)
    bot = Poster(pr.repository, pr.pull, BOT)
    with pytest.raises(ReadOnlyTokenError, match=r"403 Resource not accessible by integration"):
        bot.upsert_summary("hello")
    with pytest.raises(ReadOnlyTokenError):
        bot.post_review(NEXT, "body", [InlineComment(path="app.py", line=11, body="x")])
    assert fake.reviews(8) == [] and fake.issue_comments(8) == []


def test_a_forks_pull_request_run_is_known_read_only_before_any_write(tmp_path: Path) -> None:
    event = write_event(tmp_path, "mallory/w")
    base = {"GITHUB_EVENT_PATH": event, "GITHUB_TOKEN": "t"}
    fork_run = resolve_context(None, None, {**base, "GITHUB_EVENT_NAME": "pull_request"})
    assert fork_run.read_only
    target = resolve_context(None, None, {**base, "GITHUB_EVENT_NAME": "pull_request_target"})
    assert target.is_fork and not target.read_only  # the base's workflow gets a write token
    own = {**base, "GITHUB_EVENT_PATH": write_event(tmp_path, "acme/w")}
    assert not resolve_context(None, None, {**own, "GITHUB_EVENT_NAME": "pull_request"}).read_only
