"""A llama.cpp grammar (GBNF) for whole-file edit replies: path line, fenced block, and nothing after.

The packaged gemma3-270m, left free, echoes its prompt until the output cap (measured, issue 10):
minutes of tokens on two cores. Under this grammar its reply is `n` times a path line and one
fenced block whose lines never open another fence; once the last fence closes, the grammar allows
nothing more, so llama.cpp ends the reply there.
"""

from __future__ import annotations

_RULES = r"""
block ::= intro fence-open body fence-close
intro ::= [^`\n] [^`\n]* "\n"
fence-open ::= "```" [a-zA-Z0-9_.+-]* "\n"
body ::= line*
line ::= "\n" | [^`\n] [^\n]* "\n" | "`" [^`\n] [^\n]* "\n" | "``" [^`\n] [^\n]* "\n"
fence-close ::= "```" "\n"?
"""


def file_blocks_grammar(blocks: int) -> str:
    """GBNF for exactly `blocks` path-and-fenced-block pairs (at least one)."""
    count = max(1, blocks)
    root = ' "\\n"* '.join(["block"] * count)
    return f"root ::= {root}\n{_RULES.strip()}\n"
