"""Whether the user trusts a repository's instructions files.

They are the repository owner's words, not the user's: instructions only once the user trusted
the repository, data until then. Nothing records such trust yet, so no repository's files are
trusted: they are shown as data and the commands they name are asked about like a model's.
"""

from __future__ import annotations

from pathlib import Path


def rules_trusted(root: Path) -> bool:
    """Whether `root`'s instructions files count as its owner's instructions."""
    del root  # no trust is recorded for any repository yet
    return False
