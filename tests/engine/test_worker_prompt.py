"""A worker's request shaped for one model: what goes first when the prompt does not fit."""

from __future__ import annotations

from orchestrate.config.schema import AgentConfig
from orchestrate.engine.plan import Subtask
from orchestrate.engine.prompts import OMITTED, Files
from orchestrate.engine.worker_prompt import WorkerPrompt, shape_worker, whole_reply_tokens
from orchestrate.routing.chain import Target
from orchestrate.routing.fit import estimate_request

from .big_module import big_module

AGENT = AgentConfig(name="coder", model="scripted:w", system_prompt="You write code.")
TASK = Subtask(
    id="s",
    title="Fix func_010",
    kind="code",
    spec="Make `func_010` return total + 1.",
    edit_files=["pipeline.py"],
    read_files=["lib.py"],
)
BIG = big_module()
View = tuple[Files, Files, tuple[str, str] | None]
"""What a worker sees: the files it edits, the files it reads, its previous reply."""
SMALL = "def add(a, b):\n    return a + b\n"
PREVIOUS = ("pipeline.py\n```python\n" + "x = 1\n" * 3000 + "```\n", "Check failed: ...")


def shaped(
    edit: str, reference: str, room: int | None, *, output: int = 4096, blocks_ok: bool = True
) -> WorkerPrompt | str:
    files = ({"pipeline.py": edit}, {"lib.py": reference}, None)
    return shape_worker(
        AGENT, TASK, files, Target("scripted:w", room, output), "whole", blocks_ok=blocks_ok
    )


def test_with_room_to_spare_everything_is_shown_and_nothing_is_said() -> None:
    prompt = shaped(SMALL, BIG, None)
    assert isinstance(prompt, WorkerPrompt)
    assert prompt.fmt == "whole" and prompt.omitted == ()
    assert BIG.rstrip("\n") in prompt.request.messages[0].content


def test_a_reference_file_whose_outline_does_not_fit_is_left_out_and_said() -> None:
    bare = shaped(SMALL, OMITTED, None)
    assert isinstance(bare, WorkerPrompt)
    room = estimate_request(bare.request)  # room for the prompt with the reference left out

    prompt = shaped(SMALL, BIG, room)

    assert isinstance(prompt, WorkerPrompt)
    assert prompt.omitted == ("lib.py: left out (it does not fit the window)",)
    assert OMITTED in prompt.request.messages[0].content


def test_the_previous_reply_goes_before_the_files_being_edited() -> None:
    files: View = ({"pipeline.py": SMALL}, {}, PREVIOUS)
    task = TASK.model_copy(update={"read_files": []})
    full = shape_worker(
        AGENT, task, files, Target("scripted:w", None, 4096), "whole", blocks_ok=True
    )
    assert isinstance(full, WorkerPrompt)
    room = estimate_request(full.request) - 3000  # all but most of the previous reply

    prompt = shape_worker(
        AGENT, task, files, Target("scripted:w", room, 4096), "whole", blocks_ok=True
    )

    assert isinstance(prompt, WorkerPrompt)
    assert prompt.omitted == ("the previous reply: left out for space (its feedback is kept)",)
    assert SMALL in prompt.request.messages[0].content
    assert prompt.request.messages[2].content == PREVIOUS[1]


def test_a_whole_file_reply_is_never_asked_of_a_file_shown_in_part() -> None:
    # No room for the file whole, but room for its output: still whole-file, so not cut.
    prompt = shaped(BIG, SMALL, 2_000, output=60_000)
    assert isinstance(prompt, WorkerPrompt)
    assert prompt.fmt == "whole" and BIG.rstrip("\n") in prompt.request.messages[0].content
    assert estimate_request(prompt.request) > 2_000  # the chain walk passes this model over


def test_a_file_that_cannot_come_back_whole_is_asked_as_blocks_or_refused_with_the_reason() -> None:
    assert whole_reply_tokens({"pipeline.py": BIG}) > 4096
    prompt = shaped(BIG, SMALL, 12_000)
    assert isinstance(prompt, WorkerPrompt) and prompt.fmt == "search_replace"
    assert prompt.omitted[0].endswith(
        "cannot fit scripted:w's 4,096 output tokens: asked for SEARCH/REPLACE"
    )
    assert "around func_010" in prompt.omitted[-1]

    refused = shaped(BIG, SMALL, 12_000, blocks_ok=False)
    assert isinstance(refused, str)
    assert "cannot fit its 4,096 output tokens, and it keeps botching SEARCH/REPLACE" in refused


def test_files_are_shown_under_a_fence_naming_their_language() -> None:
    # gemma3-270m, shown greet.py in a bare fence, dropped its docstring's first line; under
    # ```python it copied the file intact.
    files: View = ({"pipeline.py": SMALL, "conf.yaml": "a: 1\n", "NOTES": "x\n"}, {}, None)
    task = TASK.model_copy(update={"read_files": [], "edit_files": ["pipeline.py", "conf.yaml"]})
    prompt = shape_worker(
        AGENT, task, files, Target("scripted:w", None, 4096), "whole", blocks_ok=True
    )

    assert isinstance(prompt, WorkerPrompt)
    text = prompt.request.messages[0].content
    assert "```python\n" + SMALL in text
    assert "```yaml\na: 1\n" in text
    assert "```\nx\n```" in text  # no language known: a bare fence
