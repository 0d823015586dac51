"""`orchestrate run` in-process: dry runs, pre-flight messages, progress, report and usage errors."""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from orchestrate.cli.event_log import JsonLog
from orchestrate.cli.preflight import Route, Skipped, announce, host_port, preflight
from orchestrate.cli.progress import LiveProgress, PlainLog
from orchestrate.cli.run_cmd import RunArgs, run
from orchestrate.config.loader import load_config
from orchestrate.engine.checks import CheckResult
from orchestrate.engine.plan import Plan
from orchestrate.engine.report import batch_report, run_report
from orchestrate.engine.report_markdown import render_markdown
from orchestrate.engine.result import RunResult, SubtaskResult
from orchestrate.engine.review import Review
from orchestrate.events import (
    EVENT_ADAPTER,
    AttemptFinished,
    CheckFailed,
    Escalated,
    Event,
    ModelSkipped,
    PlanReady,
    ReviewVerdict,
    RunFinished,
    SubtaskFinished,
    SubtaskStarted,
    SubtaskStatus,
)
from orchestrate.exceptions import ConfigError, NoModelAvailableError, PlanError, RepoError
from orchestrate.ledger.pricing import Pricer
from orchestrate.ledger.report import CostReport
from orchestrate.ledger.store import AttemptRecord, Ledger, default_ledger_path
from orchestrate.models.base import Usage
from orchestrate.testing.fake_anthropic import FakeAnthropic
from orchestrate.testing.fake_openai import FakeOpenAI
from orchestrate.testing.fake_server import Reply, free_port

CLAUDE = "anthropic:claude-sonnet-4-6"
GEMMA = "llamacpp:gemma3-270m"
HAS_LLAMA = importlib.util.find_spec("llama_cpp") is not None
PLAN = {
    "summary": "Fix greet's punctuation.",
    "subtasks": [
        {
            "id": "fix-greet",
            "title": "Fix the greeting",
            "kind": "code",
            "spec": "Return 'Hello, <name>!'.",
            "read_files": [],
            "edit_files": ["greet.py"],
            "depends_on": [],
            "checks": ["python -c 'import greet'"],
        }
    ],
}
PLAN_MD = "# Hello\n\n## Fix the greeting\n\nMake greet say 'Hello, <name>!'.\n\nfiles: greet.py\n"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "greet.py").write_text("def greet(name):\n    return 'Hello ' + name\n" * 20)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    return root


@pytest.fixture
def vllm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def write_agents(root: Path, chains: dict[str, list[str]], endpoints: dict[str, str]) -> Path:
    agents = root / "agents"
    agents.mkdir(exist_ok=True)
    lines = ["endpoints:"]
    for name, url in endpoints.items():
        lines.append(f"  {name}: {{kind: openai, tier: local, base_url: '{url}'}}")
    if endpoints:
        (agents / "providers.yaml").write_text("\n".join(lines) + "\n")
    for name, chain in chains.items():
        fallbacks = ", ".join(f"'{ref}'" for ref in chain[1:])
        (agents / f"{name}.yaml").write_text(
            f"model: '{chain[0]}'\nfallbacks: [{fallbacks}]\nretries: 0\nsystem_prompt: You are the {name}.\n"
        )
    return agents


def routes_of(
    repo: Path, agents: Path, names: list[str], local_only: bool = False
) -> dict[str, Route]:
    import asyncio

    config = load_config(repo, agents)
    found = asyncio.run(preflight(config, local_only=local_only, names=names))
    return {route.agent: route for route in found}


# --- pre-flight -------------------------------------------------------------------------------


@pytest.mark.skipif(not HAS_LLAMA, reason="needs the 'local' extra (llama-cpp-python)")
def test_preflight_says_which_models_are_skipped_and_why(
    tmp_path: Path, repo: Path, vllm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = free_port()
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{refused}")
    down = f"http://127.0.0.1:{free_port()}/v1"
    agents = write_agents(
        tmp_path,
        {
            "planner": [CLAUDE, "openai:gpt-4.1", "ollama:qwen2.5-coder:14b", GEMMA],
            "coder": ["down:m", "vllm:m", GEMMA],
        },
        {"vllm": vllm.base_url, "down": down},
    )

    routes = routes_of(repo, agents, ["planner", "coder"])

    assert routes["planner"].describe() == (
        f"planner: {CLAUDE} skipped (ANTHROPIC_API_KEY not set), "
        "openai:gpt-4.1 skipped (OPENAI_API_KEY not set), "
        f"ollama:qwen2.5-coder:14b skipped (Ollama at 127.0.0.1:{refused} unreachable), "
        f"{GEMMA} skipped (gemma3-270m cannot plan (model facts)) → NO usable model "
        "(run `orchestrate doctor`)"
    )
    assert (
        "planner: no model fit to plan is usable: a task that names its files runs as written"
        in announce(list(routes.values()))
    )
    port = host_port(down, 0)[1]
    assert (
        routes["coder"].describe()
        == f"coder: down:m skipped (server at 127.0.0.1:{port} unreachable) → vllm:m"
    )
    assert vllm.requests == []  # a TCP connect only: nothing was asked of the server


def test_preflight_takes_the_primary_when_its_key_is_set(
    tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    agents = write_agents(tmp_path, {"planner": [CLAUDE, "llamacpp:/nowhere/model.gguf"]}, {})

    primary = routes_of(repo, agents, ["planner"])["planner"]
    private = routes_of(repo, agents, ["planner"], local_only=True)["planner"]

    assert primary.model == CLAUDE and not primary.falls_back
    assert announce([primary]) == ["models: every agent will use its primary model"]
    assert private.model is None
    assert private.skipped[0].reason == "--local-only"
    if HAS_LLAMA:
        assert private.skipped[1].reason == "no GGUF file at /nowhere/model.gguf"
    assert "NO usable model" in private.describe()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("127.0.0.1:5000", ("127.0.0.1", 5000)),
        (":7000", ("127.0.0.1", 7000)),
        ("ollama.lan", ("ollama.lan", 11434)),
        ("http://ollama.lan", ("ollama.lan", 80)),
        ("https://gpu.lan/v1", ("gpu.lan", 443)),
        ("http://127.0.0.1:8000/v1", ("127.0.0.1", 8000)),
    ],
)
def test_host_port_reads_server_addresses_as_the_sdks_do(
    url: str, expected: tuple[str, int]
) -> None:
    assert host_port(url, 11434) == expected


def test_announce_lists_only_agents_that_fall_back() -> None:
    routes = [
        Route(
            agent="planner",
            skipped=[Skipped(ref=CLAUDE, reason="ANTHROPIC_API_KEY not set")],
            model=GEMMA,
        ),
        Route(agent="coder", skipped=[], model="ollama:qwen2.5-coder:7b"),
    ]

    lines = announce(routes)

    assert lines[1] == f"planner: {CLAUDE} skipped (ANTHROPIC_API_KEY not set) → {GEMMA}"
    assert len(lines) == 3 and lines[2].startswith("note: gemma3-270m runs on this machine's CPU")


# --- dry run ----------------------------------------------------------------------------------


def test_dry_run_prints_the_plan_and_an_estimate_and_makes_no_branch(
    tmp_path: Path,
    repo: Path,
    vllm: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    chains = {name: ["vllm:coder-model"] for name in ("coder", "tester", "formatter")}
    agents = write_agents(
        tmp_path, {"planner": [CLAUDE], "reviewer": [CLAUDE], **chains}, {"vllm": vllm.base_url}
    )
    plan_file = tmp_path / "plan.md"
    plan_file.write_text(PLAN_MD)
    markdown = tmp_path / "report.md"
    planner_reply = Reply(text=json.dumps(PLAN), input_tokens=900, output_tokens=200)
    status_before = git(repo, "status", "--porcelain")
    with FakeAnthropic() as claude:
        claude.push(planner_reply)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", claude.url)
        log = tmp_path / "events.jsonl"
        args = RunArgs(
            plan=plan_file,
            repo=repo,
            agents=agents,
            dry_run=True,
            as_json=True,
            report=markdown,
            log=log,
        )

        code = run(args)

        claude.assert_drained()
    assert code == 0
    out = capsys.readouterr()
    report = json.loads(out.out)
    task = report["tasks"][0]
    assert report["dry_run"] is True
    assert task["status"] == "planned"
    # The dry run's plan event carries the dry run's id, like every other event of it.
    ready = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["run_id"] for e in ready if e["type"] == "plan_ready"] == [task["run_id"]]
    assert Plan.model_validate(task["plan"]) == Plan.model_validate(PLAN)
    # Nothing was edited and no branch or worktree was made.
    assert git(repo, "branch", "--list", "orchestrate/*") == ""
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    assert git(repo, "status", "--porcelain") == status_before
    assert vllm.requests == []
    # What planning cost is what the planner's reply cost; the rest is an estimate.
    pricer = Pricer.from_config(load_config(repo, agents))
    spent = pricer.cost(CLAUDE, "cloud", Usage(input_tokens=900, output_tokens=200))
    assert task["cost"]["cloud_usd"] == pytest.approx(spent)
    estimate = task["estimate"]
    assert estimate["cloud_usd"] > 0  # the review, on Claude
    assert estimate["local_tokens"] > 0  # the worker, on the local vLLM
    assert estimate["counterfactual_usd"] > estimate["cloud_usd"]
    assert report["totals"]["estimated_cloud_usd"] == pytest.approx(estimate["cloud_usd"])
    text = markdown.read_text()
    assert "## 1. Fix the greeting: planned" in text
    assert "| fix-greet | code | coder | greet.py |" in text
    assert "estimated run: cloud $" in text
    with Ledger(default_ledger_path(repo)) as ledger:
        assert [row.model for row in ledger.attempts(task["run_id"])] == [CLAUDE]


def test_budget_caps_cloud_calls_and_the_report_says_so(
    tmp_path: Path,
    repo: Path,
    vllm: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    chains = {name: ["vllm:coder-model"] for name in ("coder", "tester", "formatter")}
    agents = write_agents(
        tmp_path, {"planner": [CLAUDE], "reviewer": [CLAUDE], **chains}, {"vllm": vllm.base_url}
    )
    plan_file = tmp_path / "plan.md"
    # No `files:` line, so without a planner there is nothing to run the task as written with.
    plan_file.write_text("## Fix the greeting\n\nMake greet say 'Hello, <name>!'.\n")
    with FakeAnthropic() as claude:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", claude.url)

        code = run(RunArgs(plan=plan_file, repo=repo, agents=agents, budget=0.0, as_json=True))

        assert claude.requests == []  # no call fits a zero budget, so none was sent
    task = json.loads(capsys.readouterr().out)["tasks"][0]
    assert code == 1
    assert task["status"] == "failed"
    assert task["detail"].startswith("planning failed")
    assert task["budget_note"].startswith("cloud budget of $0.00 (--budget) reached")


# --- usage errors (main() turns each into `error: ...` and exit 2) -----------------------------


def test_usage_errors_raise_before_anything_runs(tmp_path: Path, repo: Path) -> None:
    plan_file = tmp_path / "plan.md"
    plan_file.write_text(PLAN_MD)
    plain = tmp_path / "plain"
    plain.mkdir()

    with pytest.raises(ConfigError, match="--concurrency must be 1 or more"):
        run(RunArgs(plan=plan_file, repo=repo, concurrency=0))
    with pytest.raises(ConfigError, match=r"--trust-repo-config goes with --repos; .* trust`"):
        run(RunArgs(plan=plan_file, repo=repo, trust_repo_config=True))
    with pytest.raises(ConfigError, match=r"--log: folder .* does not exist"):
        run(RunArgs(plan=plan_file, repo=repo, log=tmp_path / "nowhere" / "events.jsonl"))
    with pytest.raises(PlanError, match="file not found"):
        run(RunArgs(plan=tmp_path / "missing.md", repo=repo))
    with pytest.raises(RepoError, match="is not a git repository"):
        run(RunArgs(plan=plan_file, repo=plain))
    saved = tmp_path / "plans.json"
    with pytest.raises(ConfigError, match=r"give plan.md or --plan FILE, not both"):
        run(RunArgs(plan=plan_file, repo=repo, saved=saved))
    with pytest.raises(ConfigError, match=r"give a plan.md to run \(or --plan FILE"):
        run(RunArgs(plan=None, repo=repo))
    with pytest.raises(ConfigError, match=r"--dry-run plans a plan.md"):
        run(RunArgs(plan=None, repo=repo, dry_run=True, saved=saved))
    with pytest.raises(PlanError, match=r"plans.json: file not found \(write one with"):
        run(RunArgs(plan=None, repo=repo, saved=saved))
    saved.write_text('{"version": 1, "tasks": "nope"}')
    with pytest.raises(PlanError, match=r"not a plan file a dry run wrote \(plan_file: Field"):
        run(RunArgs(plan=None, repo=repo, saved=saved))


def test_a_planner_without_any_usable_model_stops_before_branching(
    tmp_path: Path, repo: Path
) -> None:
    # A task that names its files would run as written; this one names none.
    agents = write_agents(tmp_path, {"planner": [CLAUDE]}, {})
    plan_file = tmp_path / "plan.md"
    plan_file.write_text(PLAN_MD.replace("\nfiles: greet.py\n", "\n"))

    with pytest.raises(NoModelAvailableError, match=r"ANTHROPIC_API_KEY not set.*names no files"):
        run(RunArgs(plan=plan_file, repo=repo, agents=agents))

    assert git(repo, "branch", "--list", "orchestrate/*") == ""


# --- report -----------------------------------------------------------------------------------


def record(run_id: str, model: str, tier: str, usage: Usage) -> AttemptRecord:
    return AttemptRecord(
        run_id=run_id,
        agent="x",
        provider=model.partition(":")[0],
        model=model,
        tier=tier,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_tokens,
    )


def result(run_id: str, status: str, verdict: str) -> RunResult:
    subtask = SubtaskResult(
        id="fix",
        title="Fix it",
        kind="code",
        agent="coder",
        status="done",
        commit="a" * 40,
        model="ollama:qwen2.5-coder:7b",
        rounds=2,
        escalations=["ollama:a -> vllm:b"],
        detail="checks passed | really",
    )
    check = CheckResult(
        command="pytest -q",
        ok=status == "approved",
        exit_code=0 if status == "approved" else 1,
        output="",
        duration_s=0.1,
    )
    return RunResult(
        run_id=run_id,
        task=f"Task {run_id}",
        branch=f"orchestrate/{run_id}",
        worktree=f"/tmp/wt/{run_id}",
        base_sha="b" * 40,
        status=status,
        plan=None,
        subtasks=[subtask],
        review=Review(verdict=verdict, summary="Fine | mostly."),
        commits=["a" * 40, "c" * 40],
        cloud_usd=0.0,
        local_tokens=0,
        counterfactual_usd=0.0,
        detail="1/1 subtasks done",
        task_checks=[check],
    )


def test_report_prices_each_run_from_the_ledger_and_totals_the_batch() -> None:
    pricer = Pricer.packaged()
    cloud = Usage(input_tokens=1000, output_tokens=100, cache_read_tokens=500)
    local = Usage(input_tokens=4000, output_tokens=800)
    with Ledger(None) as ledger:
        for run_id in ("r1", "r2"):
            ledger.record(record(run_id, CLAUDE, "cloud", cloud))
            ledger.record(record(run_id, "ollama:q", "local", local))
        first = run_report(result("r1", "approved", "approve"), ledger.attempts("r1"), pricer)
        second = run_report(
            result("r2", "changes_requested", "request_changes"), ledger.attempts("r2"), pricer
        )
        report = batch_report("plan.md", [first, second], ledger.attempts(), pricer, dry_run=False)

    one = CostReport.from_attempts(
        [record("r", CLAUDE, "cloud", cloud), record("r", "ollama:q", "local", local)], pricer
    ).totals
    assert first.cost == one
    assert report.totals.cost.cloud_usd == pytest.approx(2 * one.cloud_usd)
    assert report.totals.cost.local_tokens == 2 * one.local_tokens
    assert report.totals.approved == 1 and not report.ok
    text = render_markdown(report)
    assert "## 1. Task r1: approved" in text
    assert "## 2. Task r2: NOT approved (changes requested)" in text
    assert "- branch: `orchestrate/r1` (2 commits)" in text
    assert "- review: **approve**: Fine \\| mostly." in text
    assert "- check `pytest -q`: FAILS (exit 1)" in text
    assert (
        "| fix | coder | ollama:qwen2.5-coder:7b (escalated from ollama:a) | done | 2 | aaaaaaaaaa "
        "| checks passed \\| really |" in text
    )
    assert f"saved ${one.savings_usd:.4f}" in text
    assert pricer.reference_model in text
    assert type(report).model_validate_json(report.model_dump_json()) == report


# --- progress ---------------------------------------------------------------------------------


EVENTS: list[Event] = [
    PlanReady(run_id="r", task="T", subtask_ids=["a", "b"]),
    ModelSkipped(run_id="r", agent="planner", model=CLAUDE, reason="no key"),
    ModelSkipped(run_id="r", agent="planner", model=CLAUDE, reason="no key"),
    SubtaskStatus(run_id="r", subtask_id="a", status="queued"),
    SubtaskStatus(run_id="r", subtask_id="b", status="queued", detail="planner failed; as written"),
    SubtaskStarted(run_id="r", subtask_id="a", agent="coder"),
    AttemptFinished(
        run_id="r",
        agent="coder",
        model="ollama:x",
        tier="local",
        outcome="ok",
        input_tokens=1200,
        output_tokens=80,
        latency_s=2.25,
    ),
    CheckFailed(
        run_id="r", subtask_id="a", command="pytest", output="lots\nE   AssertionError: 1 != 2\n"
    ),
    Escalated(run_id="r", subtask_id="a", from_model="ollama:x", to_model="vllm:y"),
    SubtaskStatus(run_id="r", subtask_id="a", status="running"),
    SubtaskFinished(run_id="r", subtask_id="a", ok=True, commit="0123456789abcdef"),
    SubtaskFinished(run_id="r", subtask_id="b", ok=False, detail="no model got it right"),
    ReviewVerdict(run_id="r", verdict="approve", comments=0),
    RunFinished(run_id="r", ok=True, branch="orchestrate/r", detail="all good"),
]


def test_plain_log_prints_one_line_per_notable_event() -> None:
    out = io.StringIO()
    log = PlainLog(Console(file=out, width=200))
    log.begin_task(1, 2, "Fix it", "r")
    for event in EVENTS:
        log(event)

    assert out.getvalue().splitlines() == [
        "[task 1/2] Fix it (run r)",
        "[task 1/2] plan ready: 2 subtasks (a, b)",
        f"[task 1/2] planner: skipped {CLAUDE} (no key)",
        "[task 1/2] b: planner failed; as written",
        "[task 1/2] a: started (coder)",
        "[task 1/2] coder: ollama:x answered (1,200 in, 80 out, 2.2s)",
        "[task 1/2] a: check failed: pytest: E   AssertionError: 1 != 2",
        "[task 1/2] a: escalated ollama:x → vllm:y",
        "[task 1/2] a: done (commit 0123456789)",
        "[task 1/2] b: FAILED: no model got it right",
        "[task 1/2] review: approve (0 comments)",
        "[task 1/2] run approved: all good",
    ]


def test_live_progress_shows_tasks_and_subtasks(tmp_path: Path) -> None:
    out = io.StringIO()
    console = Console(file=out, width=160, force_terminal=True, color_system=None)
    with LiveProgress(console) as live:
        live.begin_task(1, 1, "Fix it", "r")
        for event in EVENTS:
            live(event)

    screen = out.getvalue()
    assert "1/1 Fix it" in screen
    assert "approved" in screen
    assert "✓ done" in screen and "✗ failed" in screen
    assert "a: escalated ollama:x → vllm:y" in screen  # notable events print above the table


def test_json_log_writes_every_event_back_parseable(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with JsonLog(path) as log:
        for event in EVENTS:
            log(event)

    assert [EVENT_ADAPTER.validate_json(line) for line in path.read_text().splitlines()] == EVENTS


def test_live_progress_on_80_columns_never_cuts_a_name(tmp_path: Path) -> None:
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True, color_system=None)
    title = "Rename every helper of the configuration loader to say what it loads"
    with LiveProgress(console) as live:
        live.begin_task(1, 1, title, "r")
        live(PlanReady(run_id="r", task=title, subtask_ids=["rename-config-loader-helpers-a"]))
        live(SubtaskStarted(run_id="r", subtask_id="rename-config-loader-helpers-a", agent="coder"))

    table = out.getvalue().split("task / subtask")[-1]
    assert "…" not in table  # the title wraps inside its column rather than losing its end
    words = table.split()
    assert all(word in words for word in title.split())
    assert "rename-config-loader-helpers-a" in words
