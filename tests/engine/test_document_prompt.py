"""A model that follows no instructions (a pretrained model) gets a document it continues."""

from __future__ import annotations

from orchestrate.config.schema import AgentConfig
from orchestrate.engine.plan import Subtask
from orchestrate.engine.worker_prompt import WorkerPrompt, shape_worker
from orchestrate.routing.capabilities import capabilities_of
from orchestrate.routing.chain import Target

AGENT = AgentConfig(name="coder", model="llamacpp:gemma3-270m", system_prompt="You write code.")
TASK = Subtask(
    id="s",
    title="Fix add",
    kind="code",
    spec="`add(a, b)` must return the sum.",
    edit_files=["calc.py"],
    checks=["python -m pytest -q"],
)
CALC = '"""Arithmetic."""\n\n\ndef add(a, b):\n    return a - b\n'
BASE = Target("llamacpp:gemma3-270m", None, 4096, instruct=False)


def shaped(target: Target, previous: tuple[str, str] | None = None) -> WorkerPrompt:
    prompt = shape_worker(
        AGENT, TASK, ({"calc.py": CALC}, {}, previous), target, "whole", blocks_ok=True
    )
    assert isinstance(prompt, WorkerPrompt)
    return prompt


def test_the_packaged_model_is_known_to_follow_no_chat_turns() -> None:
    assert capabilities_of("llamacpp", "gemma3-270m").instruct is False
    assert capabilities_of("llamacpp", "/models/other.gguf").instruct is True


def test_it_gets_one_document_that_ends_where_its_file_starts() -> None:
    request = shaped(BASE).request

    assert request.system == ""
    assert len(request.messages) == 1
    text = request.messages[0].content
    # The file once, with its language, right before the heading its new content follows.
    assert text.count("def add(a, b):") == 1
    assert "```python\n" + CALC in text
    assert text.endswith("## calc.py, with the change made\n\n")
    assert text.index("`add(a, b)` must return the sum.") < text.index("```python")
    # No answer-format lines after the file for it to carry on with.
    assert "How to answer" not in text
    assert "You may change only" not in text
    assert "<<<UNTRUSTED file calc.py" in text  # the repository's text is still marked as data
    assert request.file_paths == ("calc.py",)


def test_a_model_that_follows_instructions_keeps_the_usual_request() -> None:
    request = shaped(Target("llamacpp:gemma3-270m", None, 4096)).request

    assert request.system == "You write code."
    assert "How to answer" in request.messages[0].content


def test_its_fix_round_leaves_out_the_earlier_turns_and_says_so() -> None:
    prompt = shaped(BASE, ("calc.py\n```python\nbroken\n```\n", "Check failed: ..."))

    assert len(prompt.request.messages) == 1
    assert "broken" not in prompt.request.messages[0].content
    assert prompt.omitted == (
        "the previous reply and its feedback: left out "
        "(llamacpp:gemma3-270m follows no instructions)",
    )
