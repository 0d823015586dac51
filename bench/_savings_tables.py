"""The savings benchmark's tables: what each mode cost, by lever, by task and by suite.

Every figure is read from the ledger rows of the runs (`TaskRun.attempts`); "without the cache"
re-prices those same measured calls with every prompt token at the input rate, which is what the
vendor bills when nothing is marked or the prefix is under its minimum.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from _common import Table, load_average
from _prompt_cache import TTL_S, PromptCache
from _prompt_tokens import TOKENIZER

from orchestrate.engine.result import RunResult
from orchestrate.ledger.pricing import Pricer
from orchestrate.ledger.store import AttemptRecord
from orchestrate.models.base import Usage

GROUPS = ("tiny", "real-size", "all")
"""The suite's parts: the 11 tiny tasks, the real-size ones (real code), and both."""


@dataclass(frozen=True)
class TaskRun:
    """One task run in one mode."""

    result: RunResult
    attempts: list[AttemptRecord]
    name: str = ""
    """The task's directory name under bench/tasks/."""
    real: bool = False
    """A real-size task (its repo is real code under tasks/_projects/)."""

    @property
    def passed(self) -> bool:
        return self.result.status == "approved"


Runs = dict[tuple[str, bool], list[TaskRun]]
"""(mode, planner asked for every task) → each task's run, in suite order."""
Caches = dict[tuple[str, bool], dict[str, PromptCache]]
"""The same sessions → each cloud model's prompt cache."""


def _named(runs: Sequence[TaskRun], name: str) -> list[TaskRun]:
    return [r for r in runs if r.name == name]


def in_group(runs: Sequence[TaskRun], group: str) -> list[TaskRun]:
    return [r for r in runs if group == "all" or r.real == (group == "real-size")]


def passes(runs: Sequence[TaskRun]) -> str:
    return f"{sum(run.passed for run in runs)}/{len(runs)}"


def usd(runs: Sequence[TaskRun]) -> float:
    return sum(run.result.cloud_usd for run in runs)


def uncached_usd(runs: Sequence[TaskRun], pricer: Pricer) -> float:
    """The same calls with no prompt cache: every prompt token at the input rate."""
    total = 0.0
    for attempt in (a for run in runs for a in run.attempts if a.tier == "cloud"):
        prompt = attempt.input_tokens + attempt.cache_read_tokens + attempt.cache_write_tokens
        usage = Usage(input_tokens=prompt, output_tokens=attempt.output_tokens)
        total += pricer.cost(attempt.model, "cloud", usage)
    return total


def ratio(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def lever_table(runs: Runs, pricer: Pricer) -> Table:
    """Totals per suite part, mode and planning lever, with and without the prompt cache,
    against all-frontier with the planner asked (the old default) in the same part."""
    table = Table(
        "Savings by lever (SCRIPTED answers; prompts and answers counted): totals per suite part",
        ["part", "mode", "planner", "cloud $", "no cache $", "vs all-frontier", "pass", "load"],
    )
    for group in GROUPS:
        for (mode, planned), done in runs.items():
            part = in_group(done, group)
            if not part:
                continue
            reference = in_group(
                runs.get(("all-frontier", True), runs[("all-frontier", planned)]), group
            )
            table.add(
                group,
                mode,
                "asked for every task" if planned else "not for tasks naming files+checks",
                f"{usd(part):.4f}",
                f"{uncached_usd(part, pricer):.4f}",
                ratio(usd(part), usd(reference)),
                passes(part),
                load_average(),
            )
    table.notes += notes()
    return table


def task_table(runs: Runs, planned: bool, modes: Sequence[str]) -> Table:
    """Per task and per suite part: hybrid cloud spend against (a) and (b), with pass rates."""
    frontier, cheap, hybrid = (runs[(mode, planned)] for mode in modes)
    table = Table(
        "Savings per task (SCRIPTED answers; prompts and answers counted): hybrid vs "
        f"(a) all-frontier and (b) frontier + haiku workers; planner {_asked(planned)}",
        ["task", "(a) $", "(b) $", "hybrid $", "hybrid/(a)", "hybrid/(b)", "pass a/b/h"],
    )
    rows: list[tuple[str, Callable[[Sequence[TaskRun]], list[TaskRun]]]] = [
        (run.name, functools.partial(_named, name=run.name)) for run in hybrid
    ]
    rows += [(f"TOTAL {group}", functools.partial(in_group, group=group)) for group in GROUPS]
    for name, pick in rows:
        a, b, h = pick(frontier), pick(cheap), pick(hybrid)
        if not h:
            continue
        table.add(
            name,
            f"{usd(a):.4f}",
            f"{usd(b):.4f}",
            f"{usd(h):.4f}",
            ratio(usd(h), usd(a)),
            ratio(usd(h), usd(b)),
            " ".join(passes(x) for x in (a, b, h)),
        )
    table.notes += notes()
    return table


def _asked(planned: bool) -> str:
    return "asked for every task" if planned else "not asked for tasks naming files+checks"


def cache_table(runs: Runs, caches: Caches) -> Table:
    """What the prompt cache did in each session (a mode's tasks run one after another)."""
    table = Table(
        f"Prompt cache per session (Anthropic's rules, {TTL_S / 60:.0f}-minute TTL; "
        "the marked prefix of the request body our backend sends)",
        [
            "mode",
            "planner",
            "model",
            "minimum",
            "marked calls",
            "under minimum",
            "longest",
            "written",
            "read",
        ],
    )
    for (mode, planned), by_model in caches.items():
        for model, cache in by_model.items():
            table.add(
                mode,
                "asked" if planned else "as written",
                model,
                cache.minimum,
                cache.marked_calls,
                cache.short_calls,
                cache.longest,
                cache.written,
                cache.read,
            )
    table.notes += [
        "minimum: each 5.5 model takes its family's newest documented minimum (unconfirmed "
        "for 5.5; see bench/_prompt_cache.py)",
    ]
    return table


def notes() -> list[str]:
    return [
        "SCRIPTED: the answers (plans, edits, reviews) come from bench/tasks/*/script.yaml",
        f"measured: tokens of the prompts the engine sent (with the JSON schema of structured "
        f"answers) and of the answers, counted by {TOKENIZER}'s tokenizer (a proxy for the "
        "vendors' own)",
        "no mode has hidden thinking tokens (scripted answers have none): a thinking model "
        "bills more output in every mode, most in all-frontier",
        "priced by the engine's ledger at the packaged prices, prompt-cache writes and reads "
        "included; local tokens free",
        "pass = run approved with its task checks passing",
        "quick reviewer SCRIPTED from each task's reviewer verdict (approve -> approve, "
        "request_changes -> escalate): the quality of a cheap model's approval is NOT measured; "
        "it runs only on changes checks verified, so it cannot change a check verdict",
    ]
