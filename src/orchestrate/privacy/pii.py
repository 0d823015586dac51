"""Personal data in text: emails, phone numbers, payment cards, bank accounts and national ID
numbers.

Each detector is a pattern plus an optional validator; patterns are deliberately narrow (formats
with their usual separators), because numbers fill ordinary code and every false positive keeps a
request off the cloud.
"""

from __future__ import annotations

import re

from orchestrate.privacy.iban import IBAN_RULE
from orchestrate.privacy.rules import PiiRule

# RFC 2606/6761 names reserved for documentation and tests: addresses there belong to nobody.
_RESERVED_DOMAINS = re.compile(
    r"(?:^|\.)(?:example\.(?:com|org|net)|example|test|invalid|localhost)$", re.IGNORECASE
)

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})\b"
)
# International numbers with a leading +, or North American numbers written with separators.
# Patterns start with a character class and check what stands before it after it (`\d(?<!X\d)`
# for `(?<!X)\d`): `re` skips ahead quickly only to where such a first character stands; a leading
# lookbehind makes it try a match at every position.
_PHONE = re.compile(
    r"[+(\d](?<![\w+][+(\d])"
    r"(?:(?<=\+)\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}"
    r"|(?<=\()\d{3}\)[ .-]?\d{3}[ .-]\d{4}|(?<=\d)\d{2}[.-]\d{3}[.-]\d{4})(?![\w-])"
)
# Bounded by anything but letters, digits and dashes: `_` and `.` too, as in file names
# (`refund_4539148803436467.pdf`, `w2_536-22-8145.pdf`).
_CARD = re.compile(r"\d(?<![A-Za-z0-9-]\d)(?:[ -]?\d){12,18}(?![A-Za-z0-9-])")
# US social security numbers, written with dashes; areas 000, 666 and 900+ are never issued.
_SSN_DIGITS = r"(?!000|666|9\d\d)\d{3}SEP(?!00)\d{2}SEP(?!0000)\d{4}"
_US_SSN = re.compile(
    r"\d(?<![A-Za-z0-9-]\d)(?<=(?!000|666|9\d\d)\d)\d\d-(?!00)\d{2}-(?!0000)\d{4}(?![A-Za-z0-9-])"
)
# In prose an SSN is also written with spaces or none at all, after its name.
_US_SSN_NAMED = re.compile(
    r"(?i)\b(?:ssn|ss#|social\s+security(?:\s+(?:number|no\.?|#))?)\s*(?:is|was|:|#|=)?\s*"
    r"(?P<v>" + _SSN_DIGITS.replace("SEP", "[ -]?") + r")(?!\d)"
)
# UK National Insurance numbers: two letters (some never used), six digits, a suffix A-D.
_UK_NINO = re.compile(
    r"[A-CEGHJ-PR-TW-Z](?<!\w[A-CEGHJ-PR-TW-Z])(?<=(?!BG|GB|NK|KN|TN|NT|ZZ)[A-Z])[A-CEGHJ-NPR-TW-Z]"
    r" ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"
)
# Issuer prefixes and lengths (Visa, Mastercard, Amex, Discover, JCB, Diners); with the Luhn
# check they keep millisecond timestamps and other long integers out.
_CARD_ISSUERS = re.compile(
    r"4\d{12}(?:\d{3}){0,2}|5[1-5]\d{14}|2(?:2[2-9]\d|[3-6]\d\d|7[01]\d|720)\d{12}"
    r"|3[47]\d{13}|6(?:011|5\d\d|4[4-9]\d)\d{12,15}|35(?:2[89]|[3-8]\d)\d{12,15}"
    r"|3(?:0[0-5]|[689]\d)\d{11}"
)


def luhn_ok(digits: str) -> bool:
    """Whether a digit string passes the Luhn checksum that every payment card number carries."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> bool:
    digits = re.sub(r"[ -]", "", match.group())
    return _CARD_ISSUERS.fullmatch(digits) is not None and luhn_ok(digits)


def _email(match: re.Match[str]) -> bool:
    return _RESERVED_DOMAINS.search(match.group(1)) is None


def _phone(match: re.Match[str]) -> bool:
    digits = sum(char.isdigit() for char in match.group())
    return 10 <= digits <= 15


PII_RULES: tuple[PiiRule, ...] = (
    PiiRule("email", _EMAIL, _email),
    PiiRule("card_number", _CARD, _card),
    IBAN_RULE,
    PiiRule("us_ssn", _US_SSN),
    PiiRule("us_ssn", _US_SSN_NAMED, group="v"),
    PiiRule("uk_ni_number", _UK_NINO),
    PiiRule("phone_number", _PHONE, _phone),
)
"""Checked in this order; when spans overlap, the earlier rule names the finding."""
