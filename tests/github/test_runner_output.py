"""What a review writes to the Actions runner: masked, and unable to run workflow commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrate.github.runner_output import RunnerOutput, command_data, inert_console

TOKEN = "ghs_" + "S3cr3tT0k3n" * 3


def runner(tmp_path: Path) -> RunnerOutput:
    return RunnerOutput(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
            "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
        }
    )


def test_the_job_summary_is_masked_before_it_is_written(tmp_path: Path) -> None:
    out = runner(tmp_path)
    assert out.job_summary(f"## Review\nthe model echoed {TOKEN}")
    written = (tmp_path / "summary.md").read_text()
    assert TOKEN not in written and "echoed [GITHUB_TOKEN]" in written


def test_without_a_job_summary_nothing_is_written(tmp_path: Path) -> None:
    assert not RunnerOutput({}).job_summary("text")


def test_warnings_are_masked_and_stay_one_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runner(tmp_path).warning(f"50% done\n::error::forged {TOKEN}")
    printed = capsys.readouterr().out
    assert printed == "::warning::50%25 done%0A::error::forged [GITHUB_TOKEN]\n"


def test_console_text_cannot_start_a_workflow_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runner(tmp_path).say(f"review body\n::add-mask::x\n  ::stop-commands::y\n{TOKEN}")
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["review body", " ::add-mask::x", "   ::stop-commands::y", "[GITHUB_TOKEN]"]


def test_outputs_are_single_masked_lines(tmp_path: Path) -> None:
    runner(tmp_path).outputs({"review-url": f"https://x/{TOKEN}\nforged=1", "savings": "0.1"})
    assert (tmp_path / "output.txt").read_text() == (
        "review-url=https://x/[GITHUB_TOKEN] forged=1\nsavings=0.1\n"
    )


def test_escaping_matches_the_toolkit() -> None:
    assert command_data("a%b\r\nc") == "a%25b%0D%0Ac"
    assert inert_console("x::y") == "x::y"  # only a line start is a command
