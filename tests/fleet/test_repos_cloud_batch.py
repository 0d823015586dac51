"""`orchestrate run plan.md --repos repos.txt --cloud-batch`: every repository planned first, in
one Message Batch at half price, reviews through batches too; killed while the batch runs, the
resumed run polls that same batch instead of submitting the plans again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.fleet.fleet_rig import APPROVE, PLAN, Fleet, fleet, report_of, wait_for

from orchestrate.cli.run_cmd import RunArgs, run
from orchestrate.exceptions import ConfigError
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.pricing import Pricer
from orchestrate.ledger.store import Ledger
from orchestrate.models.base import Usage
from orchestrate.testing.fake_anthropic import FakeAnthropic

__all__ = ["fleet"]  # a fixture, imported to be found by pytest

PLANNER = "anthropic:claude-sonnet-5-5"
REVIEWER = "review:claude-sonnet-5-5"


@pytest.fixture
def reviews() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        fake.default = APPROVE
        yield fake


def batch_agents(fleet: Fleet, reviews: FakeAnthropic) -> Path:
    folder = fleet.agents()
    (folder / "providers.yaml").write_text(
        "endpoints:\n"
        f"  review:\n    kind: anthropic\n    tier: cloud\n    base_url: '{reviews.url}'\n"
        "prices:\n"
        "  review:claude-sonnet-5-5: {input: 2.0, output: 10.0, batch: 0.5}\n"
        "cloud_batch:\n  gather_s: 2.0\n  first_poll_s: 0.05\n  max_poll_s: 0.2\n"
    )
    for name, model in (("planner", PLANNER), ("reviewer", REVIEWER)):
        text = (folder / f"{name}.yaml").read_text().splitlines()
        (folder / f"{name}.yaml").write_text("\n".join([f"model: {model}", *text[1:]]) + "\n")
    return folder


def batched(fake: FakeAnthropic) -> int:
    return sum(len(batch.items) for batch in list(fake.batches.batches.values()))


def creates(fake: FakeAnthropic) -> int:
    return sum(r.method == "POST" and r.path == "/v1/messages/batches" for r in fake.requests)


def test_every_repository_is_planned_in_one_batch_at_half_price(
    fleet: Fleet, reviews: FakeAnthropic
) -> None:
    for name in ("a", "b", "c"):
        fleet.local_repo(name)
    repos = fleet.root / "repos.txt"
    repos.write_text("a\nb\nc\n")
    ledger = fleet.root / "ledger.sqlite"

    done = fleet.run(
        str(fleet.plan()), "--repos", str(repos), "--agents", str(batch_agents(fleet, reviews)),
        "--max-repos", "1", "--cloud-batch", "--ledger", str(ledger), "--json",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert [row["status"] for row in report_of(done)["rows"]] == ["approved"] * 3
    # One batch planned all three, though only one repository works at a time.
    assert creates(fleet.planner) == 1
    [batch] = fleet.planner.batches.batches.values()
    assert len(batch.items) == 3
    assert not any(r.path == "/v1/messages" for r in fleet.planner.requests)
    assert creates(reviews) >= 1 and not any(r.path == "/v1/messages" for r in reviews.requests)
    with Ledger(ledger) as book:
        planned = [row for row in book.attempts() if row.agent == "planner"]
    assert len(planned) == 3 and all(row.batch for row in planned)
    pricer = Pricer(packaged_prices().prices, PLANNER)
    usage = Usage(input_tokens=PLAN.input_tokens, output_tokens=PLAN.output_tokens)
    half = pricer.cost(PLANNER, "cloud", usage) / 2
    assert [row.cost_usd for row in planned] == [pytest.approx(half)] * 3
    assert "sent to Anthropic's Message Batches API as batch" in done.stderr


def test_a_run_killed_while_its_batch_runs_polls_that_batch_after_resuming(
    fleet: Fleet, reviews: FakeAnthropic
) -> None:
    for name in ("a", "b"):
        fleet.local_repo(name)
    repos = fleet.root / "repos.txt"
    repos.write_text("a\nb\n")
    fleet.planner.batches.polls_to_end = 10_000  # the plans are still being made at the kill
    args = (str(fleet.plan()), "--repos", str(repos), "--cloud-batch",
            "--agents", str(batch_agents(fleet, reviews)))  # fmt: skip
    process = fleet.start(*args)
    try:
        # Both plans submitted, and the batch's id kept on disk by the process.
        kept = Path(os.environ["XDG_STATE_HOME"]) / "orchestrate" / "cloud-batches"
        wait_for(
            "both plans in a batch, its id kept",
            lambda: batched(fleet.planner) == 2 and any(kept.glob("*.json")),
            process,
        )
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    submitted = creates(fleet.planner)
    [record] = (Path(os.environ["XDG_STATE_HOME"]) / "orchestrate" / "fleets").glob("*.json")

    for batch in fleet.planner.batches.batches.values():
        batch.polls_left = 0  # the batch ends while no process watches it
    fleet.planner.batches.polls_to_end = 0
    done = fleet.run(*args, "--resume", record.stem, "--json")

    assert done.returncode == 0, done.stderr
    assert [row["status"] for row in report_of(done)["rows"]] == ["approved"] * 2
    assert creates(fleet.planner) == submitted  # polled again: nothing submitted twice
    assert "submitted before a restart" in done.stderr


def test_one_repository_plans_through_the_batch_api_too(
    fleet: Fleet, reviews: FakeAnthropic
) -> None:
    repo = fleet.local_repo("solo")
    agents = batch_agents(fleet, reviews)
    done = subprocess.run(
        [sys.executable, "-m", "orchestrate", "run", str(fleet.plan()), "--agents", str(agents),
         "--cloud-batch", "--dry-run", "--json"],
        cwd=repo, capture_output=True, text=True, env=fleet.env(), timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert creates(fleet.planner) == 1
    assert not any(r.path == "/v1/messages" for r in fleet.planner.requests)


def test_cloud_batch_and_local_only_do_not_go_together(tmp_path: Path) -> None:
    plan = tmp_path / "plan.md"
    plan.write_text("# x\n\n## a\n\ndo a\n")
    args = RunArgs(plan=plan, repo=tmp_path, cloud_batch=True, local_only=True)
    with pytest.raises(ConfigError, match="--cloud-batch sends calls to cloud models"):
        run(args)
