"""Secrets in text, found by detect-secrets' plugins, run in memory on one string at a time.

We call the plugins' `analyze_string` directly rather than `detect_secrets.core.scan`: that API
goes through process-wide settings (swapped with `transient_settings`, which rebuilds every
plugin per call and is not thread-safe) and can call out to verify a secret over the network.
The plugins are built once; the heuristic filters are detect-secrets' own defaults.

Tuning, so ordinary code stays cloud-eligible:
- `HexHighEntropyString` is left out. Quoted hex is what commit ids, digests and checksums look
  like; a hex-only key is indistinguishable from them, and one next to a secret-sounding name is
  still caught by `KeywordDetector`.
- `Base64HighEntropyString` keeps its default limit of 4.5 bits a character on quoted strings only.
  Shannon entropy cannot exceed log2(length), so this also means at least 23 characters; hex and
  UUIDs (16 symbols, at most 4.0) never reach it.
- `IPPublicDetector` is left out: an address is not a credential, and code is full of them.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.filters import heuristic
from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector
from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
from detect_secrets.plugins.keyword import DENYLIST, KeywordDetector

from orchestrate.config.schema import DEFAULT_ENTROPY_LIMIT
from orchestrate.privacy.credentials import CREDENTIAL_RULES
from orchestrate.privacy.prefilter import Run, Text

_LEFT_OUT = frozenset({"HexHighEntropyString", "IPPublicDetector"})
# Cheap test for the keyword detector's per-line regexes: most lines have none of its words.
_KEYWORDS = re.compile("|".join(DENYLIST), re.IGNORECASE)
# `.env` and shell style: an upper-case variable named like a credential, `=` with no space
# before it (Python code puts spaces there), and a literal value (not `$VAR`, `${..}`, `<..>`).
# Not anchored to the line start: in diffs and tool output such lines carry a prefix.
_ENV_ASSIGNMENT = re.compile(
    r"(?<![\w.$-])[A-Z][A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|PWD|CREDENTIALS?|AUTH)"
    r"[A-Z0-9_]*=[ \t]*[\"']?([^\s\"'$<{][^\s\"']{3,})"
)
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_PROSE = re.compile(r"[A-Za-z]+(?: [A-Za-z]+)+")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----")


class AnthropicKeyDetector(RegexBasedDetector):
    """Anthropic API and admin keys."""

    secret_type = "Anthropic API Key"
    denylist = (re.compile(r"sk-ant-[A-Za-z0-9_\-]{16,}"),)


class ProviderKeyDetector(RegexBasedDetector):
    """Model-provider keys detect-secrets does not know yet (OpenAI project, service, admin keys)."""

    secret_type = "Provider API Key"
    denylist = (
        re.compile(r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}"),
        re.compile(r"AIza[0-9A-Za-z_\-]{35}"),
        re.compile(r"hf_[A-Za-z0-9]{30,}"),
        re.compile(r"gsk_[A-Za-z0-9]{40,}"),
    )


class GitHubFineGrainedTokenDetector(RegexBasedDetector):
    """GitHub fine-grained personal access tokens (`github_pat_...`)."""

    secret_type = "GitHub Token"
    denylist = (re.compile(r"github_pat_[A-Za-z0-9_]{22,}"),)


@dataclass(frozen=True)
class Hit:
    """A secret's position in a text: its rule and character span."""

    rule: str
    start: int
    end: int


@lru_cache(maxsize=64)
def rule_name(secret_type: str) -> str:
    """A plugin's secret type as a rule name: `GitHub Token` -> `github_token`."""
    return re.sub(r"[^a-z0-9]+", "_", secret_type.lower()).strip("_")


@lru_cache(maxsize=4)
def plugins(
    entropy_limit: float = DEFAULT_ENTROPY_LIMIT,
) -> tuple[tuple[BasePlugin, ...], tuple[BasePlugin, ...]]:
    """The plugin instances: format-specific detectors, then the generic keyword and entropy ones."""
    found: list[BasePlugin] = [
        AnthropicKeyDetector(),
        ProviderKeyDetector(),
        GitHubFineGrainedTokenDetector(),
    ]
    generic: list[BasePlugin] = []
    classes: list[type[BasePlugin]] = list(get_mapping_from_secret_type_to_class().values())
    for plugin_class in classes:
        name = plugin_class.__name__
        if name in _LEFT_OUT:
            continue
        if issubclass(plugin_class, HighEntropyStringsPlugin):
            generic.append(plugin_class(limit=entropy_limit))  # type: ignore[call-arg]
        elif issubclass(plugin_class, KeywordDetector):
            generic.insert(0, plugin_class())
        else:
            found.append(plugin_class())
    return tuple(found), tuple(generic)


def find_secrets(
    text: str, entropy_limit: float = DEFAULT_ENTROPY_LIMIT, view: Text | None = None
) -> Iterator[Hit]:
    """Every secret detect-secrets (and our additions) sees in `text`, most specific rules first.
    `view`: `text` as a `prefilter.Text`, to share its literal look-ups with other rules."""
    view = view or Text(text)
    lines = _Lines(text)
    specific, generic = plugins(entropy_limit)
    yield from _hits(specific, view, lines)
    for match in view.finditer(_ENV_ASSIGNMENT):
        yield Hit("env_assignment", *match.span(1))
    for rule in CREDENTIAL_RULES:
        yield from (Hit(rule.rule, start, end) for start, end in rule.spans(text, view))
    yield from _hits(generic, view, lines)


def _hits(chosen: tuple[BasePlugin, ...], view: Text, lines: _Lines) -> Iterator[Hit]:
    for plugin in chosen:
        rule = rule_name(str(plugin.secret_type))
        for span in _plugin_spans(plugin, view, lines):
            yield Hit(rule, *(_pem_block(view.text, *span) if rule == "private_key" else span))


def _plugin_spans(plugin: BasePlugin, view: Text, lines: _Lines) -> Iterator[tuple[int, int]]:
    if isinstance(plugin, KeywordDetector):
        yield from _keyword_spans(plugin, view, lines)
    elif isinstance(plugin, RegexBasedDetector):
        yield from _regex_spans(plugin, view, lines)
    else:
        yield from _value_spans(plugin, view, lines)


def _regex_spans(
    plugin: RegexBasedDetector, view: Text, lines: _Lines
) -> Iterator[tuple[int, int]]:
    """Whole matches: detect-secrets reports a pattern's groups, which may be only a prefix."""
    for regex in plugin.denylist:
        for match in view.finditer(regex):
            values = [group for group in match.groups() if group] or [match.group()]
            line = lines.at(match.start())
            if not all(_filtered(plugin, value, line) for value in values):
                yield match.span()


def _value_spans(plugin: BasePlugin, view: Text, lines: _Lines) -> Iterator[tuple[int, int]]:
    text = view.text
    for value in _values(plugin, view):
        # Entropy depends on the value alone: judged once per value, not once per occurrence.
        if isinstance(plugin, HighEntropyStringsPlugin) and not _high_entropy(plugin, value):
            continue
        for start in _occurrences(text, value):
            if not _filtered(plugin, value, lines.at(start)):
                yield start, start + len(value)


def _values(plugin: BasePlugin, view: Text) -> set[str]:
    """What the plugin finds in the text; for an entropy plugin, at least every value that can
    pass its limit. Such a value has more than 2**limit distinct characters (entropy is at most
    log2 of their number: see `_high_entropy`), so as many of the plugin's class in a row: its
    quoted-string pattern, which never spans lines, finds the same values on just the lines
    holding such a run (a shorter value is all another line can hold, and it cannot pass)."""
    if not (view.gated and isinstance(plugin, HighEntropyStringsPlugin)):
        return set(plugin.analyze_string(view.text))
    shortest = max(1, math.floor(2**plugin.entropy_limit))  # one short, against rounding
    lines = view.lines_with_run(Run(_class_table(plugin.charset), shortest))
    if lines is None:
        return set(plugin.analyze_string(view.text))
    return {
        value
        for start, end in lines.items()
        for value in plugin.analyze_string(view.text[start:end])
    }


@lru_cache(maxsize=8)
def _class_table(charset: str) -> bytes:
    """A skeleton table (`prefilter.skeleton`) marking the characters of `charset`, ASCII only
    (`?`, which stands for any character past Latin-1, is marked only if `charset` holds it)."""
    return bytes(int(chr(code) in charset) for code in range(256))


def _high_entropy(plugin: HighEntropyStringsPlugin, value: str) -> bool:
    """Whether `value` passes the plugin's entropy limit. Shannon entropy is at most log2 of the
    number of distinct characters, so most values (words, short strings) are settled without
    computing it."""
    if math.log2(max(len(set(value)), 1)) <= plugin.entropy_limit or _listing(value):
        return False
    return bool(plugin.calculate_shannon_entropy(value) > plugin.entropy_limit)


def _listing(value: str) -> bool:
    """A character-set listing (`'abcdfeghij...xyz'`, `'ABC...Z0123456789_'`, as in shlex's
    `wordchars`): its characters rise in code-point order with at most one fall in 8. Distinct
    characters make it look random, but a random string of the length this limit needs (23+)
    has about half its steps falling: ≤ 2 falls in 22 steps is under one chance in 10^11."""
    falls = sum(after <= before for before, after in itertools.pairwise(value))
    return falls * 8 <= len(value)


def _keyword_spans(plugin: KeywordDetector, view: Text, lines: _Lines) -> Iterator[tuple[int, int]]:
    seen: set[int] = set()
    for match in view.finditer(_KEYWORDS):
        line_start = lines.start_of(match.start())
        if line_start in seen:
            continue
        seen.add(line_start)
        line = lines.at(match.start())
        if heuristic.is_indirect_reference(line):
            continue
        for value in plugin.analyze_string(line):
            # Words and spaces only is a label (`secret_type = "GitHub Token"`), not a credential.
            if value and not _PROSE.fullmatch(value) and not _filtered(plugin, value, line):
                offset = line.find(value)
                yield line_start + offset, line_start + offset + len(value)


def _filtered(plugin: BasePlugin, value: str, line: str) -> bool:
    """detect-secrets' default heuristic filters (sequences, UUIDs, ids, templates, `$refs`), and
    ours: a value spelled like an environment variable name (`api_key_env="OPENAI_API_KEY"`)."""
    return (
        _ENV_NAME.fullmatch(value) is not None
        or heuristic.is_sequential_string(value)
        or heuristic.is_potential_uuid(value)
        or heuristic.is_likely_id_string(value, line, plugin)
        or heuristic.is_templated_secret(value)
        or heuristic.is_prefixed_with_dollar_sign(value)
        or heuristic.is_not_alphanumeric_string(value)
    )


def _occurrences(text: str, value: str) -> Iterator[int]:
    start = text.find(value)
    while start >= 0 and value:
        yield start
        start = text.find(value, start + len(value))


def _pem_block(text: str, start: int, end: int) -> tuple[int, int]:
    """A private key's span is its whole block: header dashes to END line, or to the end of text."""
    if text.endswith("-----", 0, start):
        start -= len("-----")
    match = _PEM_END.search(text, end)
    return start, match.end() if match else len(text)


class _Lines:
    """Maps character offsets to the line they are on (searching back and forth from the offset,
    which is cheaper than indexing every line when most texts have no finding)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def start_of(self, offset: int) -> int:
        return self.text.rfind("\n", 0, offset) + 1

    def at(self, offset: int) -> str:
        start = self.start_of(offset)
        end = self.text.find("\n", start)
        return self.text[start : end if end >= 0 else len(self.text)]
