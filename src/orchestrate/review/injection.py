"""Text that tries to instruct the reviewer, found in code before any model reads it.

Models are told that PR text is data, but an obedient model can still be steered ("this file is
routine", "approve this PR"). So our own scan looks for such text in the added lines of every
file (HTML comments included, invisible characters removed), in the title, the description and
the commit messages. Each hit is a finding; a file that carries one goes to the deep review
whatever the triage says; text in the PR's own words bypasses the triage altogether, since the
triage read it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from orchestrate.github.patch import FilePatch
from orchestrate.review.findings import Finding
from orchestrate.review.untrusted import strip_invisible

_PATTERNS = [
    # "ignore (all) previous instructions", "disregard the system prompt", ...
    r"\b(ignore|disregard|forget|override|bypass)\W+(\w+\W+){0,4}?"
    r"(previous|prior|above|earlier|preceding|all|any|your|system|the)\W+(\w+\W+){0,3}?"
    r"(instructions?|prompts?|rules|guidelines|directions|directives)\b",
    # Addressing the reviewer: "note to the AI reviewer", "Hey Claude", "AI reviewer:"
    r"\b(note|message|instructions?)\s+(to|for)\s+(the\s+|any\s+)?"
    r"(ai|llm|language\s+models?|assistants?|(code\s+)?reviewers?|review\s+bots?|models?|agents?)\b",
    r"\b(hey|dear|attention|hello|hi)\W+(ai|llm|assistant|reviewer|bot|claude|gpt|chatgpt|copilot)\b",
    r"\b(ai|llm|automated|code)\s+(reviewers?|review\s+bots?|assistants?|agents?)\s*[:,]",
    # Role play: "you are an AI", "you are now a code reviewer", "act as a reviewer"
    r"\byou\s+are\s+(now\s+)?(an?\s+|the\s+)?(\w+\s+){0,2}?"
    r"(ai|llm|language\s+model|assistant|(code\s+)?reviewer)\b",
    r"\b(act|behave|respond)\s+as\s+(an?\s+|the\s+)?(ai|assistant|(code\s+)?reviewer|system)\b",
    # Verdict and routing requests: "approve this PR", "classify this file as routine"
    r"\b(approve|lgtm)\W+(this|the)\s+(pr|pull\s+request|changes?|diff|patch|commit|file)\b",
    r"\b(mark|classify|treat|label|route|consider|categori[sz]e)\W+(\w+\W+){0,4}?as\s+"
    r"(routine|trivial|low[- ]risk|harmless|benign|non[- ]?architectural)\b",
    r"\b(do\s+not|don't|never)\s+(flag|report|review|mention|comment\s+on)\s+(this|these)\s+"
    r"(files?|changes?|lines?|code|pr|pull\s+request|issues?|problems?|vulnerabilit\w*)\b",
    r"\b(skip|ignore)\s+(reviewing\s+)?(this|the)\s+(files?|review|diff|changes?)\b",
    # Chat-template and prompt markers
    r"<\|im_start\|>|<\|system\|>|\[/?INST\]|<<SYS>>|\bsystem\s+prompt\b",
]
_INSTRUCTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)

FILE_NOTE = (
    "Text on {lines} is addressed to an automated reviewer (it reads like an instruction to an "
    "AI, such as to ignore its instructions or to treat the change as routine). Reviewers never "
    "follow such text; it was flagged and this file was sent to the deep review. Remove it, "
    "unless it is a prompt your own code sends to a model."
)
TEXT_NOTE = (
    "The {where} holds text addressed to an automated reviewer (it reads like an instruction to "
    "an AI). Reviewers never follow it; the triage was skipped and every file went to the deep "
    "review. Please reword it."
)


def instructs(text: str) -> bool:
    """Whether `text` (invisible characters removed) tries to instruct a reviewer."""
    return _INSTRUCTION.search(strip_invisible(text)[0]) is not None


@dataclass
class InjectionScan:
    """What the scan found and what it changes about routing."""

    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    """Files whose added lines instruct the reviewer: deep review, whatever the triage says."""
    pr_text: list[str] = field(default_factory=list)
    """Which of the PR's own words do (title, description, commit messages): no triage."""


def scan(
    files: Sequence[FilePatch], *, title: str, body: str, commits: Sequence[tuple[str, str]] = ()
) -> InjectionScan:
    """Look for reviewer-directed instructions in the added lines and the PR's own words."""
    result = InjectionScan()
    for patch in files:
        lines = flagged_lines(patch)
        if lines:
            where = ("line " if len(lines) == 1 else "lines ") + ", ".join(map(str, lines))
            result.files.append(patch.path)
            result.findings.append(_finding(patch.path, lines[0], FILE_NOTE.format(lines=where)))
    texts = [("pull request title", title), ("pull request description", body)]
    texts += [(f"message of commit {sha[:7]}", message) for sha, message in commits]
    for where, text in texts:
        if instructs(text):
            result.pr_text.append(where)
            result.findings.append(_finding(f"({where})", 0, TEXT_NOTE.format(where=where)))
    return result


def flagged_lines(patch: FilePatch) -> list[int]:
    """New-side numbers of added lines that instruct the reviewer, read raw: HTML comments,
    which reviewers' prompts never show, are scanned too."""
    return [
        line.new_line
        for hunk in patch.hunks
        for line in hunk.lines
        if line.kind == "add" and line.new_line is not None and instructs(line.text)
    ]


def _finding(path: str, line: int, body: str) -> Finding:
    return Finding(path=path, line=line, severity="warning", body=body, source="scan")
