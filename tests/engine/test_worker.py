"""One subtask through real scripted models, a real git worktree and real check commands."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import pytest

from orchestrate.config.schema import (
    BUILTIN_ENDPOINTS,
    AgentConfig,
    EditFormat,
    EndpointConfig,
    OrchestrateConfig,
    PriceEntry,
)
from orchestrate.engine.commands import CommandBook, refuse_all
from orchestrate.engine.plan import Subtask
from orchestrate.engine.worker import RunContext, Worker
from orchestrate.engine.workspace import Workspace
from orchestrate.events import (
    CheckFailed,
    ContentOmitted,
    EditApplied,
    EditRefused,
    Escalated,
    Event,
    EventBus,
    ModelSkipped,
    SubtaskFinished,
    SubtaskStatus,
)
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import Ledger
from orchestrate.models.scripted import (
    ScriptedFailure,
    ScriptedModel,
    Step,
    register_scripted,
    unregister_scripted,
)
from orchestrate.routing.failures import Failure, FailureKind
from orchestrate.routing.router import Router
from orchestrate.sandbox.setup import CheckSetup

from .big_module import big_module, function

E = TypeVar("E")
CHECK = (
    f"{shlex.quote(sys.executable)} -c 'import calc; assert calc.sub(5, 3) == 2, calc.sub(5, 3)'"
)
ORIGINAL = "def add(a, b):\n    return a + b\n"
GOOD = ORIGINAL + "\n\ndef sub(a, b):\n    return a - b\n"
BAD = ORIGINAL + "\n\ndef sub(a, b):\n    return a + b\n"


def whole(path: str, text: str) -> str:
    return f"Here you go.\n\n{path}\n```python\n{text}```\n"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "calc.py").write_text(ORIGINAL)
    (root / "README.md").write_text("calc\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    return root


@pytest.fixture
def scripted() -> Iterator[Callable[[str, Sequence[Step]], ScriptedModel]]:
    names: list[str] = []

    def make(name: str, steps: Sequence[Step]) -> ScriptedModel:
        model = ScriptedModel(steps, name=name)
        register_scripted(name, model)
        names.append(name)
        return model

    yield make
    for name in names:
        unregister_scripted(name)


class Harness:
    def __init__(
        self,
        repo: Path,
        chain: list[str],
        edit_format: EditFormat = "whole",
        *,
        num_ctx: int = 8192,
        max_tokens: int = 4096,
        cloud: dict[str, PriceEntry] | None = None,
        run_id: str = "run-w",
    ) -> None:
        self.agent = AgentConfig(
            name="coder",
            model=chain[0],
            fallbacks=chain[1:],
            system_prompt="You write code.",
            retries=0,
            edit_format=edit_format,
            num_ctx=num_ctx,
            max_tokens=max_tokens,
        )
        # `scloud:<name>` models named in `cloud` are scripted cloud models at those prices.
        endpoints = {**BUILTIN_ENDPOINTS, "scloud": EndpointConfig(kind="scripted", tier="cloud")}
        config = OrchestrateConfig(
            agents={"coder": self.agent},
            endpoints=endpoints,
            prices={**packaged_prices().prices, **(cloud or {})},
            reference_model="anthropic:claude-sonnet-4-6",
        )
        self.events: list[Event] = []
        bus = EventBus()
        bus.subscribe(self.events.append)
        self.workspace = Workspace.create(repo, run_id)
        router = Router(config, Ledger(None), events=bus, run_id=run_id)
        environment = CheckSetup(config.checks, repo).environment(self.workspace.files)
        # The subtasks' check is the user's own here (as a plan.md `check:` line would be).
        commands = CommandBook([], [CHECK], refuse_all, run_id, bus.emit)
        self.ctx = RunContext(
            config, router, self.workspace, environment, commands, bus, run_id, check_timeout=30
        )

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]


def sub_task(**overrides: object) -> Subtask:
    data: dict[str, object] = {
        "id": "add-sub",
        "title": "Add sub to calc",
        "kind": "code",
        "spec": "Add `sub(a, b)` returning a - b to calc.py.",
        "edit_files": ["calc.py"],
        "read_files": ["README.md"],
        "checks": [CHECK],
    }
    return Subtask.model_validate(data | overrides)


async def test_failed_check_goes_back_with_its_output_then_the_fix_is_committed(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    model = scripted("w1", [whole("calc.py", BAD), whole("calc.py", GOOD)])
    harness = Harness(repo, ["scripted:w1"])

    result = await Worker(harness.ctx, harness.agent, sub_task()).run()

    assert result.status == "done"
    assert result.rounds == 2
    assert result.model == "scripted:w1"
    first, second = model.requests
    assert "Add `sub(a, b)`" in first.messages[0].content
    assert first.settings.num_ctx == harness.agent.num_ctx
    assert "COMPLETE new content" in first.messages[0].content
    # Round two: the previous reply, then the failing check's real output (8 != 2).
    assert second.messages[1].content == whole("calc.py", BAD)
    assert "AssertionError: 8" in second.messages[2].content
    assert CHECK in second.messages[2].content
    # Both rounds name one conversation, so a pooled endpoint keeps them on one host.
    assert first.conversation == second.conversation == f"{harness.ctx.run_id}/add-sub"
    failed = harness.of(CheckFailed)
    assert len(failed) == 1 and "AssertionError: 8" in failed[0].output
    commits = harness.workspace.commits()
    assert [c.title for c in commits] == ["Add sub to calc"]
    assert commits[0].sha == result.commit
    assert commits[0].trailers == {
        "Orchestrate-Run": "run-w",
        "Orchestrate-Subtask": "add-sub",
        "Orchestrate-Agent": "coder",
        "Orchestrate-Model": "scripted:w1",
        # The check that passed, so a resume after a kill right after this commit knows it.
        "Orchestrate-Checks-Passed": json.dumps([CHECK]),
    }
    assert (harness.workspace.path / "calc.py").read_text() == GOOD
    assert (repo / "calc.py").read_text() == ORIGINAL
    statuses = [e.status for e in harness.of(SubtaskStatus)]
    assert statuses == ["running", "checking", "running", "checking", "done"]


async def test_three_failed_rounds_escalate_to_the_fallback_from_the_original_files(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    weak = scripted("weak", [whole("calc.py", BAD)] * 3)
    strong = scripted("strong", [whole("calc.py", GOOD)])
    harness = Harness(repo, ["scripted:weak", "scripted:strong"])

    result = await Worker(harness.ctx, harness.agent, sub_task()).run()

    assert result.status == "done"
    assert result.rounds == 4
    assert result.escalations == ["scripted:weak -> scripted:strong"]
    assert len(weak.requests) == 3
    escalated = harness.of(Escalated)
    assert [(e.from_model, e.to_model) for e in escalated] == [("scripted:weak", "scripted:strong")]
    # The stronger model starts from the subtask's original file, not the weak model's attempt.
    only = strong.requests[0]
    assert len(only.messages) == 1
    assert (
        "return a + b\n" in only.messages[0].content and "def sub" not in only.messages[0].content
    )
    assert harness.workspace.commits()[0].trailers["Orchestrate-Model"] == "scripted:strong"
    assert "escalated" in [e.status for e in harness.of(SubtaskStatus)]


async def test_all_models_failing_restores_the_files_and_reports_a_task_failure(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    scripted("only", [whole("calc.py", BAD)] * 2)
    harness = Harness(repo, ["scripted:only"])
    harness.ctx.max_fix_rounds = 2

    result = await Worker(harness.ctx, harness.agent, sub_task()).run()

    assert result.status == "failed"
    assert result.failure == "task"
    assert result.commit is None
    assert f"last problem: Check failed: `{CHECK}`" in result.detail
    assert (harness.workspace.path / "calc.py").read_text() == ORIGINAL
    assert harness.workspace.commits() == []
    assert git(harness.workspace.path, "status", "--porcelain") == ""
    finished = harness.of(SubtaskFinished)
    assert [e.ok for e in finished] == [False]


async def test_edit_outside_the_allowed_files_is_refused_and_sent_back(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    sneaky = whole("calc.py", GOOD) + "\n" + whole("README.md", "hacked\n")
    model = scripted("w", [sneaky, whole("calc.py", GOOD)])
    harness = Harness(repo, ["scripted:w"])

    result = await Worker(harness.ctx, harness.agent, sub_task()).run()

    assert result.status == "done"
    refused = harness.of(EditRefused)
    assert [e.path for e in refused] == ["README.md"]
    feedback = model.requests[1].messages[2].content
    assert (
        "refused" in feedback
        and "README.md" in feedback
        and "not one of this subtask's files" in feedback
    )
    assert (harness.workspace.path / "README.md").read_text() == "calc\n"
    assert (
        git(harness.workspace.path, "show", "--stat", "--format=", "HEAD").split()[0] == "calc.py"
    )


async def test_mismatched_search_block_gets_did_you_mean_feedback(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    wrong = (
        "calc.py\n<<<<<<< SEARCH\ndef add(x, y):\n    return a + b\n=======\nX\n>>>>>>> REPLACE\n"
    )
    right = (
        "calc.py\n<<<<<<< SEARCH\n    return a + b\n=======\n    return a + b\n\n\n"
        "def sub(a, b):\n    return a - b\n>>>>>>> REPLACE\n"
    )
    model = scripted("sr", [wrong, right])
    harness = Harness(repo, ["scripted:sr"], edit_format="search_replace")

    result = await Worker(harness.ctx, harness.agent, sub_task()).run()

    assert result.status == "done"
    assert "SEARCH/REPLACE blocks" in model.requests[0].messages[0].content
    feedback = model.requests[1].messages[2].content
    assert "Did you mean" in feedback and "def add(a, b):" in feedback
    assert harness.of(EditApplied)
    assert "def sub(a, b):\n    return a - b" in (harness.workspace.path / "calc.py").read_text()


async def test_model_that_keeps_botching_search_replace_is_asked_for_whole_files(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    model = scripted("sr2", [whole("calc.py", GOOD)])
    harness = Harness(repo, ["scripted:sr2"], edit_format="search_replace")
    for _ in range(3):
        harness.ctx.stats.record("scripted:sr2", "search_replace", well_formed=False)

    result = await Worker(harness.ctx, harness.agent, sub_task()).run()

    assert result.status == "done"
    assert "COMPLETE new content" in model.requests[0].messages[0].content


async def test_unreachable_models_are_an_infrastructure_failure(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    down = ScriptedFailure(Failure(FailureKind.MOVE_ON, "unreachable", "connection refused"))
    scripted("down", [down])
    harness = Harness(repo, ["scripted:down"])

    result = await Worker(harness.ctx, harness.agent, sub_task()).run()

    assert result.status == "failed"
    assert result.failure == "infrastructure"
    assert result.rounds == 0
    assert "no model could answer" in result.detail


async def test_prompt_too_large_for_num_ctx_fails_clearly_without_sending(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    (repo / "calc.py").write_text(ORIGINAL + "# padding\n" * 400)
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "big")
    model = scripted("small", [whole("calc.py", GOOD)])
    harness = Harness(repo, ["scripted:small"], num_ctx=512, max_tokens=256)

    result = await Worker(harness.ctx, harness.agent, sub_task()).run()

    assert result.status == "failed"
    assert result.failure == "task"
    assert "the prompt fits no model of its chain" in result.detail
    assert "do not fit the 512-token window (num_ctx 512)" in result.detail
    assert model.requests == []


async def test_reference_files_are_cut_before_giving_up_on_context(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    (repo / "README.md").write_text("lore\n" * 2000)
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "big readme")
    model = scripted("mid", [whole("calc.py", GOOD)])
    harness = Harness(repo, ["scripted:mid"], num_ctx=2048, max_tokens=512)

    result = await Worker(harness.ctx, harness.agent, sub_task()).run()

    assert result.status == "done"
    prompt = model.requests[0].messages[0].content
    assert "def add(a, b):" in prompt
    assert "⋯ lines 26-2,000 not shown" in prompt
    [note] = result.omissions
    assert note.startswith("README.md: 25 of 2,000 lines shown")
    assert "no symbol the task names was found" in note


async def test_a_subtask_touching_a_private_path_never_reaches_a_cloud_model(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    # The file's text is harmless: only its path (secrets/**) makes the request private.
    (repo / "secrets").mkdir()
    (repo / "secrets" / "notes.txt").write_text("rotate quarterly\n")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "notes")
    cloud = scripted("big", [])
    local = scripted("w1", [whole("calc.py", GOOD)])
    harness = Harness(
        repo, ["scloud:big", "scripted:w1"], cloud={"scloud:big": PriceEntry(input=3, output=15)}
    )

    task = sub_task(read_files=["README.md", "secrets/notes.txt"])
    result = await Worker(harness.ctx, harness.agent, task).run()

    assert result.status == "done"
    assert cloud.requests == []
    assert "rotate quarterly" in local.requests[0].messages[0].content


async def test_prose_written_as_python_goes_back_as_feedback_and_is_never_committed(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    prose = "Sure! To add subtraction, define a function sub that returns a minus b.\n"
    model = scripted("chatty", [whole("calc.py", prose), whole("calc.py", GOOD)])
    harness = Harness(repo, ["scripted:chatty"])

    # No checks at all: the parse check alone stands between the prose and a commit.
    result = await Worker(harness.ctx, harness.agent, sub_task(checks=[])).run()

    assert result.status == "done"
    assert result.detail == "no checks ran"
    assert "calc.py is not valid Python (line 1" in model.requests[1].messages[2].content
    [failed] = harness.of(CheckFailed)
    assert failed.output.startswith("calc.py is not valid Python")
    [commit] = harness.workspace.commits()
    assert git(harness.workspace.path, "show", f"{commit.sha}:calc.py") == GOOD


async def test_a_model_that_only_writes_unparseable_files_commits_nothing(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    scripted("broken", [whole("calc.py", "def sub(a, b:\n    return a - b\n")] * 2)
    harness = Harness(repo, ["scripted:broken"])
    harness.ctx.max_fix_rounds = 2

    result = await Worker(harness.ctx, harness.agent, sub_task(checks=[])).run()

    assert result.status == "failed"
    assert "not valid Python" in result.detail
    assert harness.workspace.commits() == []
    assert (harness.workspace.path / "calc.py").read_text() == ORIGINAL


async def test_a_prompt_too_big_for_the_first_model_goes_to_a_larger_one_in_the_chain(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    # A local model whose 4096-token window the output alone fills; the cloud model
    # after it in the chain (200K tokens) can. The subtask moves on instead of failing.
    padded = ORIGINAL + "# padding\n" * 400
    (repo / "calc.py").write_text(padded)
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "big")
    small = scripted("small", [])
    big = scripted("big", [whole("calc.py", padded + GOOD.removeprefix(ORIGINAL))])
    cloud = {"scloud:big": PriceEntry(input=3, output=15, context_window=200_000)}
    harness = Harness(
        repo, ["scripted:small", "scloud:big"], num_ctx=4096, max_tokens=4096, cloud=cloud
    )

    result = await Worker(harness.ctx, harness.agent, sub_task(read_files=[])).run()

    assert result.status == "done", result.detail
    assert result.model == "scloud:big"
    assert small.requests == []
    assert result.escalations == []  # not an escalation: the small model was never asked
    assert len(big.requests) == 1


BIG_SPEC = "In `func_123`, return total + 1 instead of total. Change nothing else."
BIG_CHECK = (
    f"{shlex.quote(sys.executable)} -c 'import pipeline; assert pipeline.func_123(0) == 4429'"
)
BIG_EDIT = (
    "pipeline.py\n<<<<<<< SEARCH\n    total += 123 * 8\n    return total\n=======\n"
    "    total += 123 * 8\n    return total + 1\n>>>>>>> REPLACE\n"
)


def big_repo(repo: Path) -> str:
    text = big_module()
    (repo / "pipeline.py").write_text(text)
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "pipeline")
    return text


def big_task(**overrides: object) -> Subtask:
    fields: dict[str, object] = {
        "spec": BIG_SPEC,
        "edit_files": ["pipeline.py"],
        "read_files": [],
        "checks": [BIG_CHECK],
    }
    return sub_task(**(fields | overrides))


async def test_a_file_too_large_to_come_back_whole_is_edited_in_place_around_what_the_spec_names(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    text = big_repo(repo)  # 5,590 lines: ~36K tokens whole, against 4,096 output tokens
    model = scripted("w", [BIG_EDIT])
    harness = Harness(repo, ["scripted:w"], num_ctx=16384, max_tokens=4096)

    result = await Worker(harness.ctx, harness.agent, big_task()).run()

    assert result.status == "done", result.detail
    [asked] = model.requests  # asked once, in a format its output can hold
    prompt = asked.messages[0].content
    assert "SEARCH/REPLACE blocks" in prompt and "COMPLETE new content" not in prompt
    assert function(123) in prompt  # the named function, byte for byte
    assert "⋯ lines" in prompt and "Copy SEARCH lines only from the lines shown" in prompt
    assert len(prompt) < len(text) // 4
    switched, shown = result.omissions
    assert "(~36," in switched and "cannot fit scripted:w's 4,096 output tokens" in switched
    assert shown.startswith("pipeline.py: ") and "of 5,590 lines shown (around func_123)" in shown
    said = [e.what for e in harness.of(ContentOmitted)]
    assert said == result.omissions
    committed = git(harness.workspace.path, "show", "HEAD:pipeline.py")
    assert committed == text.replace(
        "    total += 123 * 8\n    return total\n", "    total += 123 * 8\n    return total + 1\n"
    )


async def test_a_model_that_botches_blocks_is_passed_over_before_any_call_for_such_a_file(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    big_repo(repo)
    botcher = scripted("botcher", [])
    able = scripted("able", [BIG_EDIT])
    harness = Harness(repo, ["scripted:botcher", "scripted:able"], num_ctx=16384, max_tokens=4096)
    for _ in range(3):
        harness.ctx.stats.record("scripted:botcher", "search_replace", well_formed=False)

    result = await Worker(harness.ctx, harness.agent, big_task()).run()

    assert result.status == "done", result.detail
    assert botcher.requests == [] and len(able.requests) == 1
    [skip] = harness.of(ModelSkipped)
    assert skip.model == "scripted:botcher"
    assert "cannot fit its 4,096 output tokens, and it keeps botching SEARCH/REPLACE" in skip.reason


async def test_a_large_reference_file_is_shown_around_what_the_spec_names_and_that_is_said(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    big_repo(repo)
    model = scripted("w", [whole("calc.py", GOOD)])
    harness = Harness(repo, ["scripted:w"], num_ctx=8192, max_tokens=1024)
    spec = "Add `sub(a, b)` to calc.py, written the way `func_007` in pipeline.py is."

    result = await Worker(
        harness.ctx, harness.agent, sub_task(spec=spec, read_files=["pipeline.py"])
    ).run()

    assert result.status == "done", result.detail
    prompt = model.requests[0].messages[0].content
    assert function(7) in prompt and "COMPLETE new content" in prompt
    [note] = result.omissions
    assert "pipeline.py: " in note and "(around func_007)" in note
    assert [e.what for e in harness.of(ContentOmitted)] == [note]
