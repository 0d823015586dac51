"""Re-planning as a user meets it: `orchestrate run` in a subprocess, the real SDKs, loopback fakes.

The coder's whole chain (Ollama, then vLLM) fails a subtask that asks for two functions at once;
the planner (the fake Anthropic, through the SDK's structured output) splits it, and the parts
pass. The decision is a line of the run's output, a line of the report and a ledger row.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_run_e2e import (
    CALC,
    CALC_SUB,
    CLAUDE,
    OLLAMA,
    PY,
    VLLM,
    Fakes,
    fakes,
    orchestrate,
    repo,
    step,
    whole,
    write_agents,
)

from orchestrate.ledger.store import Ledger, default_ledger_path
from orchestrate.testing.fake_server import Reply

__all__ = ["fakes", "repo"]  # fixtures, imported to be found by pytest

BOTH = f"{PY} -c 'import calc; assert calc.sub(5, 3) == 2 and calc.mul(5, 3) == 15'"
SUB = f"{PY} -c 'import calc; assert calc.sub(5, 3) == 2'"
MUL = f"{PY} -c 'import calc; assert calc.mul(5, 3) == 15'"
WRONG = CALC + "\n\ndef sub(a, b):\n    return b - a\n\n\ndef mul(a, b):\n    return a + b\n"
CALC_SUB_MUL = CALC_SUB + "\n\ndef mul(a, b):\n    return a * b\n"
PLAN = {"summary": "both", "subtasks": [step("arith", "code", ["calc.py"], [BOTH])]}
SPLIT = {
    "decision": "split",
    "reason": "One function per worker.",
    "subtasks": [
        step("add-sub", "code", ["calc.py"], [SUB]),
        step("add-mul", "code", ["calc.py"], [MUL], deps=["add-sub"]),
    ],
}
APPROVE = {"verdict": "approve", "summary": "Good.", "comments": [], "follow_ups": []}
PLAN_MD = f"# Calc\n\n## Add sub and mul\n\ncalc needs sub and mul.\n\ncheck: {BOTH}\n"


def test_a_subtask_every_worker_failed_is_split_by_the_planner_and_done(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    replan = Reply(text=json.dumps(SPLIT), input_tokens=1700, output_tokens=300)
    fakes.claude.push(
        Reply(text=json.dumps(PLAN), input_tokens=1500, output_tokens=200),
        replan,
        Reply(text=json.dumps(APPROVE), input_tokens=2000, output_tokens=50),
    )
    wrong = Reply(text=whole("calc.py", WRONG), input_tokens=300, output_tokens=40)
    fakes.ollama.push(
        wrong,
        wrong,
        wrong,
        Reply(text=whole("calc.py", CALC_SUB), input_tokens=310, output_tokens=41),
        Reply(text=whole("calc.py", CALC_SUB_MUL), input_tokens=320, output_tokens=42),
    )
    fakes.vllm.push(wrong, wrong, wrong)
    agents = write_agents(tmp_path, fakes)
    plan = tmp_path / "plan.md"
    plan.write_text(PLAN_MD)
    report_file = tmp_path / "report.md"

    result = orchestrate(
        repo,
        fakes,
        str(plan),
        *("--agents", str(agents), "--json", "--report", str(report_file)),
        "--trust-model-checks",
    )

    assert result.returncode == 0, result.stderr
    fakes.drained()
    task = json.loads(result.stdout)["tasks"][0]
    assert task["status"] == "approved"
    subtasks = {s["id"]: s for s in task["subtasks"]}
    assert subtasks["add-sub"]["status"] == subtasks["add-mul"]["status"] == "done"
    said = f"split into add-sub, add-mul by {CLAUDE}: One function per worker."
    assert subtasks["arith"]["replans"] == [said]
    # The parts' checks are the planner's, approved as any model-written command, and ran.
    commands = {c["command"]: c for c in task["commands"]}
    for check in (SUB, MUL):
        assert commands[check]["proposed_by"] == "planner"
        assert commands[check]["approved_by"] == "--trust-model-checks"
        assert commands[check]["runs"] >= 1
    assert f"arith: re-planned by {CLAUDE}: split into add-sub, add-mul" in result.stderr
    assert f"- re-planned arith: {said}" in report_file.read_text()
    # Asked through the SDK's structured output (`output_config`), with each attempt's errors.
    body = fakes.claude.requests[1].json()
    answer_format = body["output_config"]["format"]
    assert answer_format["type"] == "json_schema"
    assert {"decision", "reason", "subtasks"} <= set(answer_format["schema"]["properties"])
    asked = body["messages"][0]["content"]
    asked = asked if isinstance(asked, str) else asked[0]["text"]
    assert f"### Attempt 6, by {VLLM}" in asked and f"### Attempt 1, by {OLLAMA}" in asked
    with Ledger(default_ledger_path(repo)) as ledger:
        rows = [r for r in ledger.attempts(task["run_id"]) if r.agent == "replanner"]
    assert [(r.model, r.input_tokens, r.output_tokens) for r in rows] == [(CLAUDE, 1700, 300)]
    assert rows[0].cost_usd > 0
