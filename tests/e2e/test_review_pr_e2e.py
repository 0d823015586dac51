"""`orchestrate review-pr` as GitHub Actions runs it: a subprocess with GITHUB_* variables and a
pull_request event, against a fake GitHub and loopback fake models."""

from __future__ import annotations

import pytest

from orchestrate.cli.review_pr_cmd import ReviewPrOptions, review_pr
from orchestrate.cli.review_pr_setup import with_step_models
from orchestrate.config.loader import load_config
from orchestrate.exceptions import ConfigError, GitHubError
from orchestrate.github import marker
from orchestrate.review.pipeline_config import load_pipeline
from orchestrate.testing.fake_github import FakeFile
from orchestrate.testing.fake_server import Reply, free_port

from .review_rig import (
    APP,
    FIRST,
    INJECTION,
    NEW_HUNK,
    REPO,
    SECOND,
    SUMMARY,
    UTIL,
    UTIL_HUNK,
    Rig,
    commentable,
    open_pull,
    pycache,
    remarks,
    rig,
    triage,
)

__all__ = ["pycache", "rig"]  # fixtures


def test_review_then_incremental_rerun_without_duplicates(rig: Rig) -> None:
    open_pull(rig, [APP, UTIL])
    shell = "shell=True runs the caller's text through a shell; pass an argument list"
    rig.claude.push(
        triage(app="architectural", util="routine"),
        remarks((7, shell), path="app.py"),
    )
    rig.ollama.push(remarks((11, "y is assigned but never used")), SUMMARY)

    first = rig.run()
    assert first.returncode == 0, first.stderr
    rig.claude.assert_drained()
    rig.ollama.assert_drained()
    (review,) = rig.github.reviews(42)
    assert review["state"] == "COMMENTED"
    valid = commentable([APP, UTIL])
    posted = rig.github.review_comments(42)
    # Line 5 carries text addressed to the reviewer (our scan); the deep reviewer's line 7 is one
    # past the diff, so it sits on line 6 and says so.
    assert sorted((c["path"], c["line"]) for c in posted) == [
        ("app.py", 5),
        ("app.py", 6),
        ("util.py", 11),
    ]
    assert all(c["line"] in valid[c["path"]] and c["side"] == "RIGHT" for c in posted)
    moved = next(c for c in posted if c["line"] == 6)
    assert "About line 7, which the diff does not show" in moved["body"]
    (summary,) = rig.github.issue_comments(42)
    state = marker.decode(summary["body"])
    assert state is not None
    assert state.head_sha == FIRST
    assert (len(state.fingerprints), state.pending) == (3, [])
    assert "Reviewed the whole pull request" in summary["body"]
    outputs = (rig.work / "output.txt").read_text()
    assert f"review-url={review['html_url']}\n" in outputs
    assert "cloud-cost=" in outputs and "savings=" in outputs
    assert "## orchestrate review" in (rig.work / "step_summary.md").read_text()

    # A new push touching util.py only: just that commit is reviewed.
    rig.github.push_commit(
        42,
        SECOND,
        [FakeFile("util.py", NEW_HUNK)],
        [APP, FakeFile("util.py", UTIL_HUNK + "\n" + NEW_HUNK)],
    )
    claude_before, ollama_before = len(rig.claude.requests), len(rig.ollama.requests)
    rig.claude.push(triage(util="routine"))
    discarded = "the value of b is computed and then discarded; return it or drop the line"
    rig.ollama.push(remarks((11, "y is assigned but never used"), (23, discarded)), SUMMARY)

    second = rig.run()
    assert second.returncode == 0, second.stderr
    rig.claude.assert_drained()
    rig.ollama.assert_drained()
    seen_by_models = " ".join(
        r.body.decode()
        for r in [*rig.claude.requests[claude_before:], *rig.ollama.requests[ollama_before:]]
    )
    assert "b = a + 1" in seen_by_models
    assert "y = 2" not in seen_by_models and "subprocess" not in seen_by_models
    reviews = rig.github.reviews(42)
    assert len(reviews) == 2
    new_comments = [
        c for c in rig.github.review_comments(42) if c["pull_request_review_id"] == reviews[1]["id"]
    ]
    assert [(c["path"], c["line"]) for c in new_comments] == [("util.py", 23)]
    assert "discarded" in new_comments[0]["body"]
    (edited,) = rig.github.issue_comments(42)
    assert edited["id"] == summary["id"]
    assert f"after `{FIRST[:7]}` up to `{SECOND[:7]}`" in edited["body"]
    assert "1 already posted earlier, not repeated" in edited["body"]
    state = marker.decode(edited["body"])
    assert state is not None
    assert (state.head_sha, len(state.fingerprints), state.pending) == (SECOND, 4, [])

    # Run again on the same head: nothing new, nothing sent, nothing posted.
    third = rig.run()
    assert third.returncode == 0, third.stderr
    assert "nothing new" in third.stdout
    assert len(rig.github.reviews(42)) == 2
    assert rig.github.issue_comments(42)[0]["body"] == edited["body"]


def test_injected_instructions_do_not_change_the_review(rig: Rig) -> None:
    open_pull(rig, [APP, UTIL], body=f"Please {INJECTION}.")
    rig.claude.push(remarks((7, "shell=True is unsafe"), path="app.py"))
    rig.ollama.push(SUMMARY)

    # The GitHub Action's command line.
    action_args = ("--github-repo", REPO, "--pr", "42", "--max-files", "50")
    result = rig.run(*action_args, "--max-cloud-tokens", "60000", "--budget", "0.50")
    assert result.returncode == 0, result.stderr
    rig.claude.assert_drained()
    # The description addresses the reviewer, so the triage (which reads it) was never asked:
    # one cloud call, the deep review, with both files.
    (deep_request,) = rig.claude.requests
    deep = deep_request.body.decode()
    assert "app.py" in deep and "util.py" in deep
    posts = [
        r.json() for r in rig.github.requests if r.method == "POST" and r.path.endswith("/reviews")
    ]
    assert [p["event"] for p in posts] == ["COMMENT"]
    assert all(r["state"] == "COMMENTED" for r in rig.github.reviews(42))
    body = posts[0]["body"]
    assert body.startswith(f"**orchestrate review** of `{FIRST[:7]}`: 2 inline comment(s)")
    assert "(pull request description): 🟠 **warning**: The pull request description holds" in body
    inline = {(c["path"], c["line"]): c["body"] for c in posts[0]["comments"]}
    assert set(inline) == {("app.py", 5), ("app.py", 6)}
    assert "addressed to an automated reviewer" in inline["app.py", 5]
    # The instruction reached the model only as delimited data.
    before, _, after = deep.partition(INJECTION)
    assert after and before.rfind("<<<UNTRUSTED") > before.rfind("<<<END UNTRUSTED")
    summary = rig.github.issue_comments(42)[0]["body"]
    assert "so the triage (which reads it) was skipped" in summary


def test_missing_key_fails_loudly_when_asked(rig: Rig) -> None:
    open_pull(rig, [UTIL])
    result = rig.run("--fail-on-missing-key", key=False)
    assert result.returncode == 2
    assert "ANTHROPIC_API_KEY" in result.stderr
    assert rig.github.reviews(42) == [] and rig.github.issue_comments(42) == []
    assert rig.claude.requests == [] and rig.ollama.requests == []


def test_missing_key_on_a_fork_degrades_to_local_models_with_a_notice(rig: Rig) -> None:
    open_pull(rig, [UTIL], fork="mallory/widgets")
    rig.ollama.push(triage(util="routine"), remarks((11, "y is never used")), SUMMARY)

    result = rig.run("--routine-model", "ollama:qwen2.5-coder:14b", key=False)
    assert result.returncode == 0, result.stderr
    rig.ollama.assert_drained()
    assert rig.claude.requests == []
    models = [r.json()["model"] for r in rig.ollama.requests if r.path == "/api/chat"]
    assert models == ["qwen2.5-coder:7b", "qwen2.5-coder:14b", "qwen2.5-coder:7b"]
    assert len(rig.github.reviews(42)) == 1
    (summary,) = rig.github.issue_comments(42)
    assert "ANTHROPIC_API_KEY is not set (this pull request comes from a fork" in summary["body"]
    assert "local models only" in summary["body"]


def test_no_working_model_posts_a_neutral_notice_not_a_clean_review(rig: Rig) -> None:
    open_pull(rig, [UTIL])
    rig.ollama.default = Reply(status=500, error="model runner crashed")

    result = rig.run(key=False)
    assert result.returncode == 0, result.stderr
    assert rig.github.reviews(42) == []
    (summary,) = rig.github.issue_comments(42)
    assert "Every file was skipped or only partly reviewed" in summary["body"]
    assert "`util.py`" in summary["body"]
    state = marker.decode(summary["body"])
    assert state is not None and state.pending == ["util.py"]  # the next run reviews it again
    assert "Every file was skipped" in (rig.work / "step_summary.md").read_text()


def test_dry_run_prints_the_review_and_posts_nothing(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    open_pull(rig, [UTIL])
    rig.claude.push(triage(util="routine"))
    rig.ollama.push(remarks((11, "y is assigned but never used")), SUMMARY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    env = {"GITHUB_API_URL": rig.github.url, "GITHUB_TOKEN": "ghs_fake", "ANTHROPIC_API_KEY": "k"}
    options = ReviewPrOptions(
        repo=REPO, pr=42, agents=rig.work / "agents", workdir=rig.work, dry_run=True
    )

    assert review_pr(options, env) == 0
    printed = capsys.readouterr().out
    assert "--- util.py:11" in printed and "y is assigned but never used" in printed
    assert "## orchestrate review" in printed
    writes = [r for r in rig.github.requests if r.method != "GET" and r.path != "/graphql"]
    assert writes == []  # the GraphQL query only asks whom the token posts as


def test_unreachable_github_is_one_clear_error(rig: Rig) -> None:
    env = {"GITHUB_API_URL": f"http://127.0.0.1:{free_port()}", "GITHUB_TOKEN": "ghs_fake"}
    options = ReviewPrOptions(repo=REPO, pr=42, agents=rig.work / "agents", workdir=rig.work)
    with pytest.raises(GitHubError, match=r"cannot reach GitHub at http://127\.0\.0\.1"):
        review_pr(options, {**env, "ANTHROPIC_API_KEY": "k"})


def test_step_model_overrides_are_checked(rig: Rig) -> None:
    config = load_config(rig.work, rig.work / "agents")
    pipeline = load_pipeline(rig.work)
    changed = with_step_models(config, pipeline, {"deep": "ollama:llama3"})
    assert changed.agents["deep-reviewer"].chain[:2] == ["ollama:llama3", "ollama:qwen2.5-coder:7b"]
    with pytest.raises(ConfigError, match="unknown provider 'nope'"):
        with_step_models(config, pipeline, {"triage": "nope:model"})
    with pytest.raises(ConfigError, match="no price for this cloud model"):
        with_step_models(config, pipeline, {"deep": "anthropic:claude-unpriced-9"})
