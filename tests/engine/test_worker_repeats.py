"""A model that continues a document is not shown its reply or the feedback, so after an edit
that changed nothing, its next round would be the very request it just answered: at a
near-greedy temperature it is passed over instead of paying for the same reply again."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from orchestrate.engine.worker import Worker
from orchestrate.events import Escalated, SubtaskStatus
from orchestrate.models.scripted import ScriptedModel, Step

from .test_worker import GOOD, ORIGINAL, Harness, repo, scripted, sub_task, whole

__all__ = ["repo", "scripted"]  # the fixtures, used by name


async def test_a_document_model_is_not_asked_the_same_request_twice(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    copier = scripted("base-copier", [whole("calc.py", ORIGINAL)] * 3)  # copies, changes nothing
    strong = scripted("strong", [whole("calc.py", GOOD)])
    harness = Harness(repo, ["scripted:base-copier", "scripted:strong"])
    agent = harness.agent.model_copy(update={"temperature": 0.1})

    result = await Worker(harness.ctx, agent, sub_task()).run()

    assert result.status == "done"
    assert len(copier.requests) == 1  # not 3 identical requests
    assert copier.requests[0].system == ""  # it was sent a document, not chat turns
    assert len(strong.requests) == 1
    assert [(e.from_model, e.to_model) for e in harness.of(Escalated)] == [
        ("scripted:base-copier", "scripted:strong")
    ]
    said = [e.detail for e in harness.of(SubtaskStatus)]
    assert "scripted:base-copier is not asked again: it would get the same request" in said


async def test_a_changed_file_or_a_sampling_temperature_keeps_the_rounds(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    broken = ORIGINAL + "\n\ndef sub(a, b):\n    return a + b\n"
    # Round 1 changes the file (so round 2's document differs); round 2 copies it back.
    copier = scripted("base-editor", [whole("calc.py", broken), whole("calc.py", ORIGINAL)])
    harness = Harness(repo, ["scripted:base-editor"])
    harness.ctx.max_fix_rounds = 2
    agent = harness.agent.model_copy(update={"temperature": 0.1})
    await Worker(harness.ctx, agent, sub_task()).run()
    assert len(copier.requests) == 2

    sampler = scripted("base-sampler", [whole("calc.py", ORIGINAL)] * 2)
    harness = Harness(repo, ["scripted:base-sampler"], run_id="run-sampled")
    harness.ctx.max_fix_rounds = 2
    agent = harness.agent.model_copy(update={"temperature": 0.8})  # a repeat may differ
    await Worker(harness.ctx, agent, sub_task()).run()
    assert len(sampler.requests) == 2
