"""Test and lint commands an instructions file names, offered as the task's checks.

AGENTS.md is free Markdown; its suggested sections include build and test commands, and tools
"will attempt to execute relevant programmatic checks" it lists (https://agents.md). Taken from
it: each inline code span and each line of a fenced block under a heading about testing,
linting or checking, when it reads as one command that tests or lints (a placeholder such as
`<project>`, a bare path or a command that does neither is left alone: a dev server or an
install would never be a check). A nested file's commands run in its own folder.
"""

from __future__ import annotations

import re
import shlex

from orchestrate.repo_rules.files import RuleFile

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*)$")
_CHECK_HEADING = re.compile(r"test|lint|check|verif|validat|\bci\b|type", re.IGNORECASE)
_CHECK_WORD = re.compile(
    r"\b(test|tests|pytest|lint|check|mypy|ruff|eslint|tsc|vet|clippy|typecheck|flake8|pylint)\b",
    re.IGNORECASE,
)
_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


def _command(text: str) -> str | None:
    """`text` as a check command, or None when it is not one."""
    command = text.strip().removeprefix("$ ").strip()
    if not command or re.search(r"<[^>]*>|\{\{|\.\.\.|…", command):
        return None
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if not words or words[0].endswith("/") or words[0].startswith("#"):
        return None
    return command if _CHECK_WORD.search(command) else None


def _candidates(text: str) -> list[str]:
    """Code spans and fenced lines under headings about checks."""
    found: list[str] = []
    wanted = fenced = False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            if wanted:
                found.append(line)
            continue
        heading = _HEADING.match(line)
        if heading:
            wanted = bool(_CHECK_HEADING.search(heading.group(1)))
        elif wanted:
            found += _SPAN.findall(line)
    return found


def named_checks(rule: RuleFile) -> list[str]:
    """The commands `rule` names as checks, each once, run from the repository's root."""
    commands: list[str] = []
    for candidate in _candidates(rule.text):
        command = _command(candidate)
        if command is None:
            continue
        if rule.folder:
            command = f"cd {shlex.quote(rule.folder)} && {command}"
        if command not in commands:
            commands.append(command)
    return commands
