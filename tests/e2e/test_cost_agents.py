"""`orchestrate cost --agents` prices runs with the same config as the run did, so its savings
are the run report's (a repo whose agents name another reference model, e.g.)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from orchestrate.testing.fake_anthropic import FakeAnthropic
from orchestrate.testing.fake_ollama import FakeOllama
from orchestrate.testing.fake_server import Reply

PY = shlex.quote(sys.executable)
CALC = "def add(a, b):\n    return a + b\n"
CALC_SUB = CALC + "\n\ndef sub(a, b):\n    return a - b\n"
CHECK = f"{PY} -c 'import calc; assert calc.sub(5, 3) == 2'"
PLAN = {
    "summary": "Add sub.",
    "subtasks": [
        {
            "id": "sub",
            "title": "Add sub",
            "kind": "code",
            "spec": "Add sub(a, b).",
            "read_files": [],
            "edit_files": ["calc.py"],
            "depends_on": [],
            "checks": [CHECK],
        }
    ],
}
APPROVE = {"verdict": "approve", "summary": "Good.", "comments": [], "follow_ups": []}


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def _orchestrate(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


def test_cost_with_the_runs_agents_agrees_with_the_run_report(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "calc.py").write_text(CALC)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "init")
    agents = tmp_path / "agents"
    agents.mkdir()
    # Savings measured against a cheaper reference than the packaged default.
    (agents / "providers.yaml").write_text("reference_model: anthropic:claude-haiku-4-5\n")
    chains = {"planner": "anthropic:claude-sonnet-4-6", "reviewer": "anthropic:claude-sonnet-4-6"}
    for name in ("planner", "reviewer", "coder", "tester", "formatter"):
        model = chains.get(name, "ollama:qwen2.5-coder:7b")
        (agents / f"{name}.yaml").write_text(
            f"model: {model}\nfallbacks: []\nretries: 0\nsystem_prompt: You are the {name}.\n"
        )
    (tmp_path / "plan.md").write_text(f"# Calc\n\n## Add sub\n\nAdd sub.\n\ncheck: {CHECK}\n")
    ledger = tmp_path / "ledger.sqlite"
    with FakeAnthropic() as claude, FakeOllama() as ollama:
        claude.push(
            Reply(text=json.dumps(PLAN), input_tokens=900, output_tokens=300),
            Reply(text=json.dumps(APPROVE), input_tokens=1200, output_tokens=80),
        )
        ollama.push(
            Reply(text=f"calc.py\n```python\n{CALC_SUB}```\n", input_tokens=700, output_tokens=60)
        )
        env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
        env |= {
            "ANTHROPIC_API_KEY": "sk-ant-test",
            "ANTHROPIC_BASE_URL": claude.url,
            "OLLAMA_HOST": ollama.url,
        }
        common = ["--agents", str(agents), "--ledger", str(ledger)]
        # The fake answers the full reviewer (no quick review): the costs are what is compared.
        run = ("run", str(tmp_path / "plan.md"), "--full-review")
        done = _orchestrate(repo, env, *run, *common, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)["totals"]["cost"]

    same = json.loads(_orchestrate(repo, env, "cost", *common, "--json").stdout)["totals"]
    default = json.loads(_orchestrate(repo, env, "cost", "--ledger", str(ledger), "--json").stdout)

    assert same == report
    assert same["savings_usd"] > 0
    # Without the run's agents the counterfactual is priced at another model: it disagrees.
    assert default["totals"]["counterfactual_usd"] != report["counterfactual_usd"]
