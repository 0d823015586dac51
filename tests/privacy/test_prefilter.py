"""The gated scan (`prefilter.Text`) finds exactly what searching the whole text finds: the
same findings, and the same matches of every pattern the scan uses, on the corpora and on a few
hundred KB of real code; and it searches only where a match can be."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from detect_secrets.plugins.base import RegexBasedDetector

from orchestrate.config.schema import DEFAULT_ENTROPY_LIMIT
from orchestrate.privacy import credentials, detectors, pii
from orchestrate.privacy.literals import needs
from orchestrate.privacy.prefilter import Text
from orchestrate.privacy.reach import line_reach
from orchestrate.privacy.scanner import scan_text

from .hiding_corpus import AWS_DOC_SECRET
from .scan_texts import code_texts, corpus_texts


def shipped_patterns() -> list[re.Pattern[str]]:
    """Every pattern the scan searches with: detect-secrets' plugins, ours, the keyword gate."""
    specific, generic = detectors.plugins(DEFAULT_ENTROPY_LIMIT)
    found = [
        regex
        for plugin in (*specific, *generic)
        if isinstance(plugin, RegexBasedDetector)
        for regex in plugin.denylist
    ]
    rules = (*credentials.CREDENTIAL_RULES, *pii.PII_RULES)
    return [
        *found,
        *(rule.pattern for rule in rules),
        detectors._ENV_ASSIGNMENT,
        detectors._KEYWORDS,
    ]


def _matches(found: Iterator[re.Match[str]]) -> list[tuple[tuple[int, int], ...]]:
    return [tuple(match.span(group) for group in range(match.re.groups + 1)) for match in found]


def test_gated_scan_has_the_plain_scans_findings_on_corpora_and_real_code() -> None:
    texts = [*corpus_texts(), *code_texts()]
    for text in texts:
        plain = scan_text(Text(text, gated=False), DEFAULT_ENTROPY_LIMIT, True)
        assert scan_text(Text(text), DEFAULT_ENTROPY_LIMIT, True) == plain
    # The corpora are found at all (the comparison is not between two empty scans).
    assert sum(bool(scan_text(Text(text), DEFAULT_ENTROPY_LIMIT, True)) for text in texts) > 50


@pytest.mark.parametrize("text_set", ["corpora", "code"])
def test_every_pattern_matches_alike_gated_and_plain(text_set: str) -> None:
    texts = corpus_texts() if text_set == "corpora" else list(code_texts())
    for text in texts:
        view = Text(text)  # one view for all patterns, as the scan shares it
        for pattern in shipped_patterns():
            plain = _matches(pattern.finditer(text))
            assert _matches(view.finditer(pattern)) == plain, pattern.pattern


EDGES = [
    # Artifactory's pattern takes the whitespace around a token, newlines included: in the whole
    # text the second token's leading newline is already taken, so only the first one matches.
    "x AKCp5abcdefghijkl\nAKCp5abcdefghijkl\n",
    # A `.netrc` entry over several lines, and an SSN whose name and number are on two lines.
    "machine example.org\n  login me\n  password s3cr3t-Pass\n",
    "her social security\nnumber is 536-22-8145\n",
    # detect-secrets' assignment patterns look behind the line start (`(?<=\W)`).
    "\nibm_api_key = 'aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6kL9nP2rS'\n",
    'x="cloudant_password": "abcdefghijklmnopqrstuvwx"',
    # Digits of another script: a run of `\d` stands past Latin-1, where the skeleton has `?`.
    "id \u0661\u0662\u0663-\u0664\u0665-\u0666\u0667\u0668\u0669 and 12345678:" + "a" * 35 + "\n",
    # Folded literals in non-ASCII text: `İ` lower-cases to two characters, `ſ` matches `s`.
    "İİİ password is Winter2026!xx\npaſsword is Summer2027!yy\n",
    "K\u212aEY_PASSWORD=hunter2-xyz\n",
    # A card number in another script's digits (`\d` matches them), and `?` among digits.
    "x = 1\ncard \u0664\u0665\u0663\u0669" + "\u0661" * 9 + "\u0664\u0666\u0667 ok\n??12?34\n",
]
"""Matches at line edges, across lines, and after characters folding has to get right."""


@pytest.mark.parametrize("text", EDGES)
def test_matches_across_and_at_the_edges_of_lines_are_kept(text: str) -> None:
    view = Text(text)
    found = 0
    for pattern in shipped_patterns():
        plain = _matches(pattern.finditer(text))
        assert _matches(view.finditer(pattern)) == plain, pattern.pattern
        found += len(plain)
    assert found


def test_anchors_and_lookaheads_read_past_a_line_as_in_the_whole_text() -> None:
    padding = "nothing to see here\n" * 20  # so the lines holding `foo` are few: searched alone
    text = f"a foo\nfoo\n{padding}foo bar\nfoo\n{padding}baz foo"
    for pattern in (
        # `\b` first: a pattern that starts with its literal is left to `re` (see below).
        re.compile(r"\bfoo$"),  # end of the text only, not of each line
        re.compile(r"(?m)\bfoo$"),
        re.compile(r"\bfoo(?=\nfoo)"),  # a lookahead that reads into the next line
        re.compile(r"(?m)^foo"),
        re.compile(r"\bfoo\b"),
    ):
        recording: Any = _Recording(pattern)
        found = _matches(Text(text).finditer(recording))
        assert found == _matches(pattern.finditer(text)) and found, pattern.pattern
        assert len(recording.windows) == 5  # line by line, not the whole text


def test_a_pattern_with_no_literal_to_look_for_still_runs() -> None:
    # Our AWS secret rule is 40 base64 characters: no literal derives, so it runs on everything.
    assert needs(credentials._AWS_SECRET) is None
    text = f"x = 1\nkey = {AWS_DOC_SECRET}\n"
    assert [m.group("v") for m in Text(text).finditer(credentials._AWS_SECRET)] == [AWS_DOC_SECRET]
    free = re.compile(r"[a-z]{3}\d{3}")
    assert needs(free) is None
    assert [m.group() for m in Text("x abc123\n").finditer(free)] == ["abc123"]


class _Recording:
    """A compiled pattern that records where it was asked to search (the real one searches)."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.real = pattern
        self.pattern = pattern.pattern
        self.flags = pattern.flags
        self.groups = pattern.groups
        self.windows: list[tuple[int, int]] = []

    def finditer(self, text: str, pos: int = 0, endpos: int = 2**62) -> Iterator[re.Match[str]]:
        self.windows.append((pos, min(endpos, len(text))))
        return self.real.finditer(text, pos, endpos)

    def __hash__(self) -> int:
        return id(self)


def test_a_pattern_is_searched_only_on_the_lines_that_hold_its_literals_and_run() -> None:
    ibm = next(
        next(iter(plugin.denylist))
        for plugin in detectors.plugins(DEFAULT_ENTROPY_LIMIT)[0]
        if isinstance(plugin, RegexBasedDetector) and type(plugin).__name__ == "IbmCloudIamDetector"
    )
    assert line_reach(ibm) is not None
    key = "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6kL9nP2rS"
    secret_line = f"ibm_api_key = '{key}'"
    # The code holds `token`, `password` ... on many lines, and one a 44-character run alone.
    text = "\n".join([code_texts()[0], f"x = '{key}'", secret_line, "token = 'short'"])
    recording: Any = _Recording(ibm)
    assert len(list(Text(text).finditer(recording))) == 1
    searched = [text[start:end].split("\n")[0] for start, end in recording.windows]
    assert searched == [secret_line]
    holding = [line for line in text.split("\n") if re.search("key|pass|pwd|token", line, re.I)]
    assert len(holding) > 20  # the literals alone would have searched all of these


def test_a_digit_pattern_is_searched_only_on_the_lines_holding_as_many_digits() -> None:
    # The card pattern starts with a digit and holds no literal: `re` would try it at every
    # digit; every match holds 13 digits on one line.
    card_line = "refund to 4539 1488 0343 6467 today"
    text = "\n".join([code_texts()[0], "version = (3, 11, 7), 2026", card_line, "x = 12"])
    recording: Any = _Recording(pii._CARD)
    assert [m.group() for m in Text(text).finditer(recording)] == ["4539 1488 0343 6467"]
    assert [text[start:end].split("\n")[0] for start, end in recording.windows] == [card_line]
    assert sum(any(c.isdigit() for c in line) for line in text.split("\n")) > 20


@pytest.mark.parametrize(
    ("source", "left_to_re"),
    [
        (r"sk-ant-[A-Za-z0-9_\-]{16,}", True),
        (r"(ghp|gho|ghu)_[A-Za-z0-9_]{36}", True),  # the group's alternatives share `gh`
        (r"(?i)xox[ab]-\d+", False),  # `re` cannot skip ahead to a case-folded literal
        (r"(?:r|s)k_live_[0-9a-zA-Z]{24}", False),  # a class first
        (r"\bsecret_key\b", False),
    ],
)
def test_a_pattern_that_starts_with_a_literal_is_left_to_re(source: str, left_to_re: bool) -> None:
    # `re` skips to a leading literal itself (~10 µs per 20 KB), cheaper than our look-ups.
    text = code_texts()[1]
    recording: Any = _Recording(re.compile(source))
    list(Text(text).finditer(recording))
    assert (recording.windows == [(0, len(text))]) == left_to_re


@pytest.mark.parametrize("limit", [2.5, 3.7, DEFAULT_ENTROPY_LIMIT])
def test_the_entropy_plugin_finds_alike_gated_and_plain_at_any_limit(limit: float) -> None:
    texts = [*corpus_texts(), *code_texts()[:8]]
    found = 0
    for text in texts:
        plain = scan_text(Text(text, gated=False), limit, False)
        assert scan_text(Text(text), limit, False) == plain
        found += sum(rule == "base64_high_entropy_string" for rule, *_ in plain)
    assert found  # the plugin fired at all


def test_the_entropy_plugin_reads_only_lines_holding_a_value_long_enough_to_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A value passes 4.5 bits a character only with 23 distinct characters: 23 in a row.
    plugin = next(
        one
        for one in detectors.plugins(DEFAULT_ENTROPY_LIMIT)[1]
        if type(one).__name__ == "Base64HighEntropyString"
    )
    secret_line = "token = 'q8ZtY2vK0pLm4RxW7nB1cD5fGh9J'"
    text = "\n".join([code_texts()[0], "x = 'short'", secret_line, "y = 1"])
    read: list[str] = []
    real = plugin.analyze_string

    def recording(string: str) -> Iterator[str]:
        read.append(string)
        return real(string)

    monkeypatch.setattr(plugin, "analyze_string", recording)
    found = scan_text(Text(text), DEFAULT_ENTROPY_LIMIT, False)
    assert [rule for rule, *_ in found] == ["base64_high_entropy_string"]
    assert read == [secret_line]
    assert text.count("'") > 40  # the code's quoted strings were not read
