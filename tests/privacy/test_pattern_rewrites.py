"""Our patterns rewritten to start with a character class (so `re` skips ahead to where one can
start) match exactly what they matched before, group for group: on the corpora, on real code,
and on each sample with every kind of neighbour on either side."""

from __future__ import annotations

import re

import pytest

from orchestrate.privacy import credentials, iban, pii

from .scan_texts import code_texts, corpus_texts

_SSN = r"(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}"
BEFORE = {
    # The patterns as they were (main at 7d7500b), leading lookbehind first.
    "phone": (
        pii._PHONE,
        r"(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}"
        r"|\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4})(?![\w-])",
    ),
    "card": (pii._CARD, r"(?<![A-Za-z0-9-])\d(?:[ -]?\d){12,18}(?![A-Za-z0-9-])"),
    "ssn": (pii._US_SSN, r"(?<![A-Za-z0-9-])" + _SSN + r"(?![A-Za-z0-9-])"),
    "nino": (
        pii._UK_NINO,
        r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
        r" ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
    ),
    "iban": (
        iban._IBAN,
        r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)"
        r"(?![A-Za-z0-9])",
    ),
    "aws_secret": (
        credentials._AWS_SECRET,
        r"(?<![A-Za-z0-9/+=_.-])(?P<v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=_.-])",
    ),
}
SAMPLES = [
    "+44 20 7946 0958",
    "+1 (415) 555-2671",
    "(415) 555-2671",
    "415.555.2671",
    "4539 1488 0343 6467",
    "4539-1488-0343-6467",
    "378282246310005",
    "536-22-8145",
    "900-22-8145",
    "JG 10 37 42 B",
    "JG103742B",
    "GB 10 37 42 B",
    "DE89 3704 0044 0532 0130 00",
    "DE89370400440532013000",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
]
NEIGHBOURS = ["", "a", "Z", "7", "-", "_", ".", "+", "/", "=", "(", " ", "\n", "\u0661", "é"]
"""What may stand before or after a sample: letters, digits (an Arabic-Indic one too), the
characters the lookarounds test, space and newline."""


def _matches(pattern: re.Pattern[str], text: str) -> list[tuple[tuple[int, int], ...]]:
    found = pattern.finditer(text)
    return [tuple(m.span(group) for group in range(pattern.groups + 1)) for m in found]


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_the_rewritten_pattern_matches_what_the_old_one_did(name: str) -> None:
    now, source = BEFORE[name]
    before = re.compile(source)
    assert now.pattern != before.pattern and now.groupindex == before.groupindex
    texts = [*corpus_texts(), *code_texts()]
    texts += [f"{a}{sample}{b}" for sample in SAMPLES for a in NEIGHBOURS for b in NEIGHBOURS]
    texts += [f"{a}{a}{sample}{b}{b}" for sample in SAMPLES for a in NEIGHBOURS for b in "a7-"]
    matched = 0
    for text in texts:
        old = _matches(before, text)
        assert _matches(now, text) == old, repr(text[:80])
        matched += len(old)
    assert matched
