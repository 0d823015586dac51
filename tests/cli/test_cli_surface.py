"""The command line as people meet it: help, version, exit codes, no TUI without a terminal,
`--json` everywhere, and tables that never cut a name or an amount (on a real terminal of 80
columns, and piped)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from importlib.metadata import version
from pathlib import Path

import pytest

from orchestrate.ledger.store import AttemptRecord, Ledger, default_ledger_path

LONG_MODEL = "ollama:qwen2.5-coder:32b-instruct-q4_K_M"
CLOUD_MODEL = "anthropic:claude-sonnet-5-5"


def orchestrate(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The command with pipes for stdin, stdout and stderr (no terminal anywhere)."""
    return subprocess.run(
        [sys.executable, "-m", "orchestrate", *args],
        cwd=cwd,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def on_terminal(*args: str, cwd: Path, columns: int = 80) -> tuple[int, str]:
    """The command on a real pseudo-terminal `columns` wide: (exit status, what it showed)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "xterm-256color", "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestrate", *args],
        cwd=cwd,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break  # the terminal closed: the command ended
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return proc.wait(timeout=120), b"".join(chunks).decode().replace("\r\n", "\n")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for args in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "i"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root, check=True
        )
    return root


def _ledger(repo: Path) -> None:
    with Ledger(default_ledger_path(repo)) as ledger:
        ledger.record(
            AttemptRecord(
                run_id="r1",
                agent="planner",
                provider="anthropic",
                model=CLOUD_MODEL,
                tier="cloud",
                input_tokens=123_456,
                output_tokens=23_456,
                cost_usd=0.721236,
            )
        )
        ledger.record(
            AttemptRecord(
                run_id="r1",
                agent="routine-reviewer",
                provider="ollama",
                model=LONG_MODEL,
                tier="local",
                input_tokens=1_234_567,
                output_tokens=234_567,
            )
        )


# --- help, version, exit codes -----------------------------------------------------------------


def test_version_and_short_help(tmp_path: Path) -> None:
    done = orchestrate("--version", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, f"orchestrate {version('orchestrate')}\n")
    short, long = orchestrate("-h", cwd=tmp_path), orchestrate("--help", cwd=tmp_path)
    assert short.returncode == 0 and short.stdout == long.stdout
    assert orchestrate("run", "-h", cwd=tmp_path).stdout.startswith("Usage: ")


def test_help_lists_the_exit_codes(tmp_path: Path) -> None:
    text = " ".join(orchestrate("--help", cwd=tmp_path).stdout.split())
    for said in (
        "Exit status: 0 done;",
        "1 done but not approved",
        "2 bad command line",
        "3 could not be done now",
        "4 doctor",
        "130 interrupted",
    ):
        assert said in text


def test_bare_orchestrate_without_a_terminal_says_how_to_use_it(repo: Path) -> None:
    done = orchestrate(cwd=repo)
    assert done.returncode == 2
    assert done.stdout.startswith("Usage: ") and "run" in done.stdout and "doctor" in done.stdout
    assert done.stderr.splitlines() == [
        "",
        "error: no terminal to open the interactive app in: run a command "
        "(e.g. `orchestrate run plan.md`), or `orchestrate` in a terminal",
    ]


def test_usage_errors_exit_2_and_runtime_failures_exit_3(repo: Path, tmp_path: Path) -> None:
    usage = orchestrate("run", cwd=repo)
    assert usage.returncode == 2
    assert usage.stderr.splitlines() == [
        "error: give a plan.md to run (or --plan FILE a dry run saved, or --resume ID)"
    ]
    # A planner with no model that can answer: nothing wrong with the input, it cannot be done now.
    agents = tmp_path / "agents"
    agents.mkdir()
    for name in ("planner", "reviewer", "coder", "tester", "formatter"):
        (agents / f"{name}.yaml").write_text(f"model: ollama:nothing\nsystem_prompt: {name}\n")
    (tmp_path / "plan.md").write_text("# P\n\n## Do it\n\nSomething.\n")
    failed = orchestrate(
        "run",
        str(tmp_path / "plan.md"),
        "--agents",
        str(agents),
        "--budget",
        "0.001",
        cwd=repo,
        env={"OLLAMA_HOST": "127.0.0.1:9"},
    )
    assert failed.returncode == 3, failed.stderr
    assert failed.stderr.splitlines()[-1].startswith("error: agent 'planner' has no usable model")
    # The cap is said as it was set, not rounded to $0.00.
    assert "cloud budget $0.001 (--budget)" in failed.stderr


def test_resume_needs_no_plan_argument(repo: Path) -> None:
    done = orchestrate("run", "--resume", "20261201-120000-1-gone", cwd=repo)
    # Past the command line (no "Missing argument"): the run is looked for, and is not there.
    assert "Missing argument" not in done.stderr
    [line] = done.stderr.splitlines()[-1:]
    assert line.startswith("error: ") and "20261201-120000-1-gone" in line


# --- --json --------------------------------------------------------------------------------------


def test_config_check_and_prune_speak_json(repo: Path) -> None:
    config = json.loads(orchestrate("config", "check", "--json", cwd=repo).stdout)
    planner = next(agent for agent in config["agents"] if agent["agent"] == "planner")
    assert planner["chain"][0] == {"model": CLOUD_MODEL, "tier": "cloud", "endpoint": "anthropic"}
    pruned = orchestrate("prune", "--json", cwd=repo)
    assert pruned.returncode == 0, pruned.stderr
    assert json.loads(pruned.stdout) == {"removed": [], "kept_dirty": [], "unfinished": []}


def test_config_check_lists_the_quick_reviewer_and_a_repo_override_of_it(repo: Path) -> None:
    shipped = json.loads(orchestrate("config", "check", "--json", cwd=repo).stdout)
    quick = next(agent for agent in shipped["agents"] if agent["agent"] == "quick-reviewer")
    assert quick["chain"][0]["model"] == "anthropic:claude-haiku-5-5"
    (repo / "agents").mkdir()
    (repo / "agents" / "quick-reviewer.yaml").write_text(
        "model: openai:gpt-6-luna\nsystem_prompt: mine\n"
    )
    overridden = json.loads(orchestrate("config", "check", "--json", cwd=repo).stdout)
    quick = next(agent for agent in overridden["agents"] if agent["agent"] == "quick-reviewer")
    assert [step["model"] for step in quick["chain"]] == ["openai:gpt-6-luna"]


# --- tables never cut ----------------------------------------------------------------------------


def test_cost_on_an_80_column_terminal_shows_every_name_and_amount_whole(repo: Path) -> None:
    _ledger(repo)
    status, shown = on_terminal("cost", "--repo", str(repo), cwd=repo)
    assert status == 0, shown
    assert "…" not in shown
    for whole in ("routine-reviewer", LONG_MODEL, CLOUD_MODEL, "$0.7212", "1,234,567"):
        assert whole in shown
    assert max(len(line) for line in shown.splitlines()) <= 80


def test_cost_on_a_wide_terminal_is_a_table(repo: Path) -> None:
    _ledger(repo)
    status, shown = on_terminal("cost", "--repo", str(repo), cwd=repo, columns=200)
    assert status == 0, shown
    row = next(line for line in shown.splitlines() if LONG_MODEL in line)
    assert [cell.strip() for cell in row.split("│")[1:4]] == [
        "routine-reviewer",
        LONG_MODEL,
        "local",
    ]


def test_piped_cost_is_plain_lines(repo: Path) -> None:
    _ledger(repo)
    done = orchestrate("cost", "--repo", str(repo), cwd=repo, env={"COLUMNS": "40"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert f"agent: planner · model: {CLOUD_MODEL} · tier: cloud · calls: 1" in lines[1]
    assert lines[1].endswith("cost: $0.7212")
    assert "cloud spend: $0.7212" in lines


def test_config_check_on_an_80_column_terminal_cuts_nothing(repo: Path) -> None:
    status, shown = on_terminal("config", "check", cwd=repo)
    assert status == 0, shown
    assert "…" not in shown
    assert "agent: routine-reviewer" in shown or "routine-reviewer" in shown
    assert "vllm:Qwen/Qwen2.5-Coder-32B-Instruct" in shown
