"""What a pattern's matches must hold, derived from its parse tree (`literals`, `reach`, `runs`), is
sound: on every pattern the scan ships, every match holds what was derived, whether drawn from
the corpora and real code or generated from the pattern itself (hypothesis)."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrate.privacy import pii
from orchestrate.privacy.digits import DIGIT_MARKS, least_digits
from orchestrate.privacy.literals import Literal, needs
from orchestrate.privacy.prefilter import fold, skeleton
from orchestrate.privacy.reach import anchor, line_reach
from orchestrate.privacy.runs import run

from .scan_texts import code_texts, corpus_texts
from .test_prefilter import shipped_patterns


def _holds(match: re.Match[str], literal: Literal, within: tuple[int, int]) -> bool:
    text, folded = literal
    found = fold(match.group()) if folded else match.group()
    at = found.find(text)
    return at >= 0 and within[0] <= at <= within[1]


def _check(match: re.Match[str]) -> None:
    """Everything derived for `match.re` holds for this match."""
    pattern = match.re
    anywhere = (0, len(match.group()))
    for literals in needs(pattern) or ():
        assert any(_holds(match, one, anywhere) for one in literals), (pattern.pattern, literals)
    found = anchor(pattern)
    if found is not None:
        literals, offset = found
        assert any(_holds(match, one, (0, offset)) for one in literals), pattern.pattern
    if line_reach(pattern) is not None:
        assert "\n" not in match.group(), pattern.pattern
    needed = run(pattern)
    if needed is not None:
        assert b"\x01" * needed.length in skeleton(match.group(), needed.table), pattern.pattern
    assert _digits(match.group()) >= least_digits(pattern), pattern.pattern


def _digits(text: str) -> int:
    """Characters the digit skeleton counts: ASCII digits and `?`, which stands for any
    character past Latin-1."""
    encoded = text.encode("latin-1", "replace")
    return sum(encoded.count(mark) for mark in DIGIT_MARKS)


def test_every_match_in_the_corpora_and_real_code_holds_what_was_derived() -> None:
    matched: set[str] = set()
    for text in [*corpus_texts(), *code_texts()]:
        for pattern in shipped_patterns():
            for match in pattern.finditer(text):
                _check(match)
                matched.add(pattern.pattern)
    assert len(matched) > 25  # not a check of a handful of patterns


# Hypothesis draws from a pattern's structure and keeps what `search` accepts; the UK NI
# number's lookarounds (`(?<=(?!BG|...)[A-Z])`) reject all it draws.
# The phone pattern's take seconds to satisfy. The corpora cover both above.
_GENERATED = [p for p in shipped_patterns() if p not in (pii._UK_NINO, pii._PHONE)]


@pytest.mark.parametrize("pattern", _GENERATED, ids=lambda p: p.pattern[:40])
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_generated_match_holds_what_was_derived(
    pattern: re.Pattern[str], data: st.DataObject
) -> None:
    text = data.draw(st.from_regex(pattern))
    matches = list(pattern.finditer(text))
    assert matches
    for match in matches:
        _check(match)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Alternatives and optional parts multiply out into whole literals.
        (r"(?:ab|cd)_?x", {("abx", False), ("ab_x", False), ("cdx", False), ("cd_x", False)}),
        (r"BEGIN [A-Z]+ KEY", {("BEGIN ", False)}),
        # One part shared by several literals is looked up once for all of them.
        (r"(?:sk|rk)_live_\w+", {("k_live_", False)}),
        (r"(?i)api_?key", {("api", True)}),
        (r"(?i)secret_?key", {("secret", True)}),
    ],
)
def test_literals_derive_from_runs_branches_and_optional_parts(
    source: str, expected: set[Literal]
) -> None:
    found = needs(re.compile(source))
    assert found is not None and found[0] == frozenset(expected)


@pytest.mark.parametrize(
    "source",
    [
        r"(?=secret)\w+",  # a lookahead reads, the match need not hold it
        r"(?:key)?\d{4}",  # an optional part may be absent
        r"(?:key|\d+)x",  # one alternative has no literal
        r"[A-Z]{4}\d{2}",
        r"(.)\1",
    ],
)
def test_nothing_derives_where_a_match_need_not_hold_a_literal(source: str) -> None:
    assert needs(re.compile(source)) is None


@pytest.mark.parametrize(
    ("source", "reach"),
    [
        (r"key=\S+", 0),
        (r'key="[^"\n]*"', 0),
        (r"[^\s\"']{4}(?=ab)", 2),
        (r"key\s*=", None),  # `\s` takes newlines
        (r'key="[^"]*"', None),  # so does a negated class without `\n`
        (r"(?s)key.+", None),
        (r"x*", None),  # may match empty
    ],
)
def test_line_reach_knows_which_matches_may_hold_a_newline(source: str, reach: int | None) -> None:
    assert line_reach(re.compile(source)) == reach


def test_fold_maps_every_character_ignorecase_matches_to_an_ascii_letter() -> None:
    everything = "".join(map(chr, range(128, sys.maxunicode + 1)))
    matching = set(re.findall("[a-z]", everything, re.IGNORECASE))
    assert matching  # e.g. the Kelvin sign and the long s
    for char in matching:
        folded = fold(char)
        assert len(folded) == 1 and re.fullmatch(folded, char, re.IGNORECASE), hex(ord(char))
    text = "İ x ſ K"
    assert len(fold(text)) == len(text) and fold(text) == "i x s k"


@pytest.mark.parametrize(
    ("source", "length", "members"),
    [
        (r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}", 40, "/+AZaz09"),
        (r"\d{8,10}:[0-9A-Za-z_-]{35}", 9, "0123456789:"),
        (r"\d{3}-\d{2}-\d{4}", 11, "-0123456789"),
    ],
)
def test_a_run_of_one_class_derives_where_no_literal_does(
    source: str, length: int, members: str
) -> None:
    needed = run(re.compile(source))
    assert needed is not None and needed.length == length
    assert all(needed.table[ord(char)] for char in members)
    assert not needed.table[ord(" ")] and not needed.table[ord("\n")]


@pytest.mark.parametrize("source", [r"(\w)\1{20}", r"x\s{20}", r"[a-z ]{3}"])
def test_no_run_derives_from_back_references_newlines_or_common_characters(source: str) -> None:
    assert run(re.compile(source)) is None


@pytest.mark.parametrize(
    ("source", "least"),
    [
        (r"\d(?<![A-Za-z0-9-]\d)(?:[ -]?\d){12,18}(?![A-Za-z0-9-])", 13),  # the card pattern
        (r"[+(\d](?:\d{3}\)[ .-]?\d{3}|\d{2}[.-]\d{3})", 5),  # the fewest of the branches
        (r"(?:\d\d){3,}|x\d{9}", 6),
        (r"[0-9]{2}(?i:[0-9])", 3),
        ("[\u0660-\u0669]{4}", 4),  # past Latin-1: `?` in the skeleton, counted
        (r"\d?\d*(?=\d{5})", 0),  # optional, and a lookahead consumes nothing
        (r"[\d ]{8}|\w{5}|[0-9a]{3}", 0),  # classes that take more than digits
    ],
)
def test_the_digits_every_match_holds_are_counted_through_branches_and_repeats(
    source: str, least: int
) -> None:
    assert least_digits(re.compile(source)) == least
