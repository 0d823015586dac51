"""International bank account numbers (IBANs), checked as banks check them.

An IBAN is a country code, two check digits and the country's fixed-length account number
(ISO 13616); moving the first four characters to the end, letters as 10..35, gives a number whose
remainder modulo 97 is 1. Lengths per country are those of SWIFT's IBAN registry
(https://www.swift.com/standards/data-standards/iban-international-bank-account-number). The
length and the check keep ordinary upper-case identifiers out; written in groups of four or whole.
"""

from __future__ import annotations

import re

from orchestrate.privacy.rules import PiiRule

_LENGTHS = {
    **dict.fromkeys(("NO",), 15),
    **dict.fromkeys(("BE",), 16),
    **dict.fromkeys(("DK", "FI", "FO", "GL", "NL"), 18),
    **dict.fromkeys(("MK", "SI"), 19),
    **dict.fromkeys(("AT", "BA", "EE", "KZ", "LT", "LU", "XK"), 20),
    **dict.fromkeys(("CH", "HR", "LI", "LV"), 21),
    **dict.fromkeys(("BG", "BH", "CR", "DE", "GB", "GE", "IE", "ME", "RS", "VA"), 22),
    **dict.fromkeys(("AE", "GI", "IL", "IQ", "TL"), 23),
    **dict.fromkeys(("AD", "CZ", "ES", "MD", "PK", "RO", "SA", "SE", "SK", "TN", "VG"), 24),
    **dict.fromkeys(("PT", "ST"), 25),
    **dict.fromkeys(("IS", "TR"), 26),
    **dict.fromkeys(("FR", "GR", "IT", "MC", "MR", "SM"), 27),
    **dict.fromkeys(("AL", "AZ", "BY", "CY", "DO", "GT", "HU", "LB", "PL", "SV"), 28),
    **dict.fromkeys(("BR", "EG", "PS", "QA", "UA"), 29),
    **dict.fromkeys(("JO", "KW", "MU"), 30),
    **dict.fromkeys(("MT", "SC"), 31),
    **dict.fromkeys(("LC",), 32),
}
"""Characters in a country's IBAN, check digits included."""

# Whole (`DE89370400440532013000`) or printed in groups of four (`DE89 3704 0044 0532 0130 00`).
_IBAN = re.compile(
    r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z]\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)"
    r"(?![A-Za-z0-9])"
)


def iban_ok(text: str) -> bool:
    """Whether `text` (spaces allowed) has its country's length and passes the mod-97 check."""
    compact = text.replace(" ", "")
    if _LENGTHS.get(compact[:2]) != len(compact):
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in moved)) % 97 == 1


IBAN_RULE = PiiRule("iban", _IBAN, lambda match: iban_ok(match.group()))
