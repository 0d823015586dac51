"""The gated scan reads parse trees with `re`'s private modules (`re._parser`, `re._constants`,
`re._compiler`). On a Python where they are missing, renamed or mean something else, the scan
must not crash: it searches every pattern over the whole text, with the plain scan's findings,
and says so once (a warning)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest

from orchestrate.config.schema import DEFAULT_ENTROPY_LIMIT
from orchestrate.privacy.derivation import plan
from orchestrate.privacy.prefilter import Text
from orchestrate.privacy.scanner import scan_text

from .scan_texts import code_texts, corpus_texts

# Each breaks the private modules before the privacy package is first imported, in a fresh
# interpreter (`re` itself keeps working: its modules hold their own references).
_SABOTAGE = {
    "re._parser missing": 'import re; del re._parser; sys.modules["re._parser"] = None',
    "re._constants missing": 'import re; del re._constants; sys.modules["re._constants"] = None',
    "a constant renamed": "import re._constants as c; del c.CATEGORY_DIGIT",
    "operators mean something else": (
        "import re._constants as c; c.SUBPATTERN, c.BRANCH = c.BRANCH, c.SUBPATTERN"
    ),
}

_CHILD = """
import json, sys
{sabotage}
from orchestrate.privacy.derivation import gating
from orchestrate.privacy.prefilter import Text
from orchestrate.privacy.scanner import scan_text
texts = json.load(sys.stdin)
found = [scan_text(Text(text), {limit}, True) for text in texts]
print(json.dumps({{"gating": gating(), "found": found}}))
"""


def _texts() -> list[str]:
    return [*corpus_texts(), *code_texts()[:4]]


@pytest.mark.parametrize("sabotage", list(_SABOTAGE))
def test_without_res_private_modules_the_scan_reads_whole_texts_and_finds_the_same(
    sabotage: str,
) -> None:
    texts = _texts()
    child = _CHILD.format(sabotage=_SABOTAGE[sabotage], limit=DEFAULT_ENTROPY_LIMIT)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(child)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["gating"] is False
    plain = [scan_text(Text(text, gated=False), DEFAULT_ENTROPY_LIMIT, True) for text in texts]
    assert [tuple(tuple(one) for one in found) for found in got["found"]] == plain
    assert sum(map(bool, plain)) > 20  # the corpora are found at all
    assert "privacy scan searches whole texts" in done.stderr


def test_a_pattern_whose_tree_cannot_be_read_is_searched_whole(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A parse tree of a shape the derivation does not know (here `re._parser.parse` itself
    changed) costs speed, never a match."""
    pattern = re.compile(r"(?<![\w.])zqx_(?:key|token)=\d{6,}")  # seen by no other test
    text = "a = 1\nzqx_token=12345678\n" * 50

    def changed(*_args: object) -> object:
        raise TypeError("parse() takes another signature here")

    monkeypatch.setattr(re._parser, "parse", changed)  # type: ignore[attr-defined]
    assert [m.span() for m in Text(text).finditer(pattern)] == [
        m.span() for m in pattern.finditer(text)
    ]
    assert len(list(pattern.finditer(text))) == 50
    assert plan(pattern) is None
    assert "privacy scan searches whole texts" in caplog.text
