"""A worker's request for a model that follows no instructions: a document it continues.

A pretrained (base) model, such as the packaged gemma3-270m, was never taught chat turns or
instructions; it continues the text it is given. Sent the usual request (a system prompt, then the
spec, the files and "How to answer"), it carried on the prompt itself and wrote its last lines
("You may change only these files: ...") into the file (measured on the hello example). So it gets
a document that ends where its answer starts: the task, what is left of the repository's text
(delimited as data, as for every model), and each file it may edit shown once, with its language,
right before the heading under which it writes that file. No answer-format instructions follow the
files, so there is nothing after them to echo; the grammar (`llamacpp_grammar`) holds the reply to
one path line and fenced block per file. Its previous reply and the feedback on it are left out
(said as an omission): chat turns mean nothing to such a model.
"""

from __future__ import annotations

from orchestrate.engine.plan import Subtask
from orchestrate.engine.prompts import REPO_TEXT_NOTE, Files, fence_language, fenced
from orchestrate.untrusted import delimit, untrusted

PREVIOUS_LEFT_OUT = "the previous reply and its feedback: left out ({ref} follows no instructions)"
"""The omission a fix round of such a model notes (`{ref}`: the model)."""


def _shown(path: str, text: str | None) -> str:
    if text is None:
        return f"{path} does not exist yet."
    return f"{path}\n{delimit(f'file {path}', fenced(text, fence_language(path)))}"


def render_document(subtask: Subtask, edit_files: Files, read_files: Files, rules: str = "") -> str:
    """The document: the task, the reference files, the instructions files, each file to edit as
    it is now, then the heading its new content follows."""
    parts = [f"# {subtask.title}\n\n{subtask.spec}"]
    if edit_files or read_files:
        parts.append(REPO_TEXT_NOTE)
    for path, text in read_files.items():
        parts.append(f"{path} (for reference)\n{untrusted(f'file {path}', text or '')}")
    parts.append(rules)
    parts += [
        f"## {path}, as it is now\n\n{_shown(path, text)}" for path, text in edit_files.items()
    ]
    changed = ", ".join(edit_files)
    parts.append(f"## {changed}, with the change made")
    return "\n\n".join(part for part in parts if part) + "\n\n"
