"""A llama.cpp grammar (GBNF) for whole-file edit replies: path line, fenced block, and nothing after.

The packaged gemma3-270m, left free, echoes its prompt until the output cap (measured, issue 10):
minutes of tokens on two cores. Under this grammar its reply is one block per file, each a path
line naming one of the files it may edit and one fenced block whose lines never open another fence;
once the last fence closes, the grammar allows nothing more, so llama.cpp ends the reply there.
The path line is one of the given paths, never free text: left free, gemma3-270m wrote a line of
the prompt there ("You may change only these files: ...", measured on the hello example).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

_RULES = r"""
block ::= intro fence-open body fence-close
fence-open ::= "```" [a-zA-Z0-9_.+-]* "\n"
body ::= line*
line ::= "\n" | [^`\n] [^\n]* "\n" | "`" [^`\n] [^\n]* "\n" | "``" [^`\n] [^\n]* "\n"
fence-close ::= "```" "\n"?
"""


def _literal(text: str) -> str:
    """`text` as a GBNF string literal: JSON's escapes (quotes, backslashes, control characters)
    are GBNF's own."""
    return json.dumps(text, ensure_ascii=False)


def file_blocks_grammar(paths: Sequence[str]) -> str:
    """GBNF for one path-and-fenced-block pair per path in `paths`, each path line one of them."""
    count = max(1, len(paths))
    root = ' "\\n"* '.join(["block"] * count)
    intro = " | ".join(_literal(f"{path}\n") for path in dict.fromkeys(paths))
    return f"root ::= {root}\nintro ::= {intro}\n{_RULES.strip()}\n"
