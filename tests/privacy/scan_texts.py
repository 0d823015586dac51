"""Texts the fast scan is held to the plain one on: every corpus text, the corpus secrets mixed
into real code, and a few hundred KB of Python's standard library (real code, with its
passwords, `machine ... password` examples, digits and decorators)."""

from __future__ import annotations

import random
import sysconfig
from functools import lru_cache
from pathlib import Path

from .corpus import CLEAN_CODE, CORPUS, corpus_block
from .hiding_corpus import CLASSES, NEAR_MISSES

_STDLIB = (
    "netrc.py",
    "ftplib.py",
    "imaplib.py",
    "smtplib.py",
    "argparse.py",
    "ipaddress.py",
    "uuid.py",
    "base64.py",
    "http/client.py",
    "email/_header_value_parser.py",
    "urllib/request.py",
    "ssl.py",
    "locale.py",
)
"""Modules chosen for what the rules look for: credentials, addresses, numbers, non-ASCII."""
_SLICE = 20 * 1024


def corpus_texts() -> list[str]:
    """Every corpus text, alone and all together (so matches share lines and neighbours)."""
    samples = [sample.text for _, samples in CLASSES.values() for sample in samples]
    items = [item for _, item in CORPUS.values()]
    together = "\n".join([*samples, *NEAR_MISSES, *items])
    return [corpus_block(), CLEAN_CODE, *samples, *NEAR_MISSES, together]


@lru_cache(maxsize=1)
def code_texts() -> tuple[str, ...]:
    """20 KB slices of the modules above, and copies with the corpus secrets put on random
    lines, at line starts, ends and mid-line."""
    root = Path(sysconfig.get_paths()["stdlib"])
    code = [(root / name).read_text(encoding="utf-8") for name in _STDLIB]
    slices = [text[at : at + _SLICE] for text in code for at in range(0, len(text), 4 * _SLICE)]
    rng = random.Random(16)
    secrets = [sample.secret for _, samples in CLASSES.values() for sample in samples]
    secrets += [item for _, item in CORPUS.values()]
    mixed = []
    for text in slices[:6]:
        lines = text.split("\n")
        for secret in secrets:
            at = rng.randrange(len(lines))
            line = lines[at]
            cut = rng.choice([0, len(line), len(line) // 2])
            lines[at] = line[:cut] + secret + line[cut:]
        mixed.append("\n".join(lines))
    return (*slices, *mixed)
