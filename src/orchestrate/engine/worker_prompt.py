"""A worker's request shaped for one model: an edit format its output can hold, and files that
fit its window.

A file whose whole-file reply cannot fit the model's output limit is asked for as SEARCH/REPLACE
(or the model is passed over, with the reason, when it keeps botching those blocks): it is never
sent to be cut. When the prompt does not fit, what the worker needs least goes first: reference
files are shown as the regions the subtask names (then left out), the previous reply is left
out, and last the editable files are shown in part (SEARCH/REPLACE only: a whole-file reply
needs the whole file). Every omission is a note the worker turns into an event and a report line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from orchestrate.config.schema import AgentConfig, EditFormat
from orchestrate.engine.document_prompt import PREVIOUS_LEFT_OUT, render_document
from orchestrate.engine.excerpts import excerpt
from orchestrate.engine.plan import Subtask
from orchestrate.engine.prompts import OMITTED, Files, render_worker
from orchestrate.models.base import Message, ModelRequest
from orchestrate.repo_rules.prompt import NO_SECTION, RulesSection
from orchestrate.routing.chain import Target
from orchestrate.routing.fit import CHARS_PER_TOKEN, estimate_request, estimate_tokens

FILE_BLOCK_CHARS = 40
"""A whole-file reply's characters around each file (its path line and fences)."""
PREVIOUS_OMITTED = "(your previous reply, omitted for space)"


@dataclass(frozen=True)
class WorkerPrompt:
    """A round's request for one model, the format it asks for, and what it leaves out."""

    request: ModelRequest
    fmt: EditFormat
    omitted: tuple[str, ...] = ()


@dataclass(frozen=True)
class _View:
    edit: Files
    reference: Files
    previous: tuple[str, str] | None
    partial: bool = False
    omitted: tuple[str, ...] = ()


def whole_reply_tokens(edit_files: Files) -> int:
    """Output tokens a reply holding every editable file whole would take."""
    chars = sum(len(text or "") + FILE_BLOCK_CHARS for text in edit_files.values())
    return estimate_tokens(chars)


def shape_worker(
    agent: AgentConfig,
    subtask: Subtask,
    view: tuple[Files, Files, tuple[str, str] | None],
    target: Target,
    fmt: EditFormat,
    *,
    blocks_ok: bool,
    rules: RulesSection = NO_SECTION,
) -> WorkerPrompt | str:
    """The request for `target`, or why this model cannot be asked (a string).

    `view` is the editable files, the reference files and the previous reply with its
    feedback; `fmt` the format the model would be asked for, `blocks_ok` whether it may be
    asked for SEARCH/REPLACE blocks; `rules` the instructions files applying to its files.
    """
    edit, reference, previous = view
    notes: list[str] = []
    if fmt == "whole" and target.output_tokens is not None:
        needed = whole_reply_tokens(edit)
        if needed > target.output_tokens:
            what = f"a whole-file reply to {', '.join(edit)} (~{needed:,} tokens)"
            limit = f"{target.output_tokens:,} output tokens"
            if not blocks_ok:
                return f"{what} cannot fit its {limit}, and it keeps botching SEARCH/REPLACE"
            fmt = "search_replace"
            notes.append(f"{what} cannot fit {target.ref}'s {limit}: asked for SEARCH/REPLACE")
    notes += rules.omitted
    document = not target.instruct and fmt == "whole"
    if document and previous is not None:
        notes.append(PREVIOUS_LEFT_OUT.format(ref=target.ref))
    build = _builder(agent, subtask, fmt, notes, rules.text, document=document)
    full = _View(edit, reference, previous)
    room = target.prompt_room
    if room is None:
        return build(full)
    shaped = build(full)
    for smaller in _ladder(subtask, fmt, room, lambda v: build(v).request.text_size()):
        shaped = build(smaller(full))
        if estimate_request(shaped.request) <= room:
            return shaped
    return shaped  # fits nowhere: the chain walk says so and passes this model over


def _builder(
    agent: AgentConfig,
    subtask: Subtask,
    fmt: EditFormat,
    notes: list[str],
    rules: str,
    *,
    document: bool = False,
) -> Callable[[_View], WorkerPrompt]:
    """Builds the request for a view; `document`: for a model that follows no instructions,
    one document it continues (`document_prompt`), no system prompt, no earlier turns."""

    def build(view: _View) -> WorkerPrompt:
        if document:
            body = render_document(subtask, view.edit, view.reference, rules)
        else:
            body = render_worker(
                subtask, view.edit, view.reference, fmt, partial=view.partial, rules=rules
            )
        turns = [Message(role="user", content=body)]
        if view.previous is not None and not document:
            turns.append(Message(role="assistant", content=view.previous[0]))
            turns.append(Message(role="user", content=view.previous[1]))
        request = ModelRequest(
            system="" if document else agent.system_prompt,
            messages=tuple(turns),
            settings=agent.settings(),
            # Whole-file replies name only these files and end with their last block where
            # decoding can be constrained.
            file_paths=tuple(subtask.edit_files) if fmt == "whole" else (),
        )
        return WorkerPrompt(request, fmt, (*notes, *view.omitted))

    return build


def _ladder(
    subtask: Subtask, fmt: EditFormat, room: int, size: Callable[[_View], int]
) -> list[Callable[[_View], _View]]:
    """Ever smaller views of the round, in the order they are tried; `size` measures a view's
    request in characters."""
    room_chars = room * CHARS_PER_TOKEN

    def wanted(view: _View) -> str:
        return f"{subtask.title}\n{subtask.spec}\n{view.previous[1] if view.previous else ''}"

    def excerpted_reference(view: _View) -> _View:
        blank = _View(view.edit, dict.fromkeys(view.reference, ""), view.previous)
        shown, notes = _excerpts(view.reference, wanted(view), room_chars - size(blank))
        return _View(view.edit, shown, view.previous, bool(notes), (*view.omitted, *notes))

    def no_reference(view: _View) -> _View:
        left = [f"{path}: left out (it does not fit the window)" for path in view.reference]
        shown = dict.fromkeys(view.reference, OMITTED)
        return _View(view.edit, shown, view.previous, view.partial, (*view.omitted, *left))

    def no_previous(view: _View) -> _View:
        view = no_reference(view)
        if view.previous is None:
            return view
        said = (*view.omitted, "the previous reply: left out for space (its feedback is kept)")
        shorter = (PREVIOUS_OMITTED, view.previous[1])
        return _View(view.edit, view.reference, shorter, view.partial, said)

    def excerpted_edit(view: _View) -> _View:
        view = no_previous(view)
        blank = _View(dict.fromkeys(view.edit, ""), view.reference, view.previous)
        shown, notes = _excerpts(view.edit, wanted(view), room_chars - size(blank))
        partial = view.partial or bool(notes)
        return _View(shown, view.reference, view.previous, partial, (*view.omitted, *notes))

    steps: list[Callable[[_View], _View]] = [excerpted_reference, no_reference, no_previous]
    # A whole-file reply needs the whole file: only SEARCH/REPLACE may see a part of it.
    return [*steps, excerpted_edit] if fmt == "search_replace" else steps


def _excerpts(files: Files, wanted: str, room: int) -> tuple[dict[str, str | None], list[str]]:
    """Each file cut to its share of `room` characters, and a note for each one cut."""
    large = [path for path, text in files.items() if text is not None]
    share = max(0, room) // max(1, len(large))
    shown: dict[str, str | None] = {}
    notes: list[str] = []
    for path, text in files.items():
        if text is None:
            shown[path] = None
            continue
        part = excerpt(path, text, wanted, share)
        shown[path] = part.text
        if part.note:
            notes.append(part.note)
    return shown, notes
