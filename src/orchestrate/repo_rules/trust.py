"""Whether the user trusts a repository's instructions files.

They are the repository owner's words, not the user's: instructions only once the user trusted
the repository (`orchestrate trust`, which records its `agents/` and these files together,
outside the repository), data until then. The record is a digest of exactly the files read
(their paths and text), so any change to them, or a new one, asks again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from orchestrate.config.trust import record, recorded
from orchestrate.repo_rules.files import RuleFiles, find_rule_files


def rules_digest(files: RuleFiles) -> str:
    """sha256 over every file's path and text, in a fixed order."""
    digest = hashlib.sha256()
    for rule in sorted(files.by_folder.values(), key=lambda rule: rule.path):
        for part in (rule.path, rule.text):
            data = part.encode("utf-8", "surrogateescape")
            digest.update(b"%d:" % len(data))
            digest.update(data)
    return digest.hexdigest()


def rules_trusted(root: Path, files: RuleFiles) -> bool:
    """Whether the user trusted `root`'s instructions files as they are now."""
    if not files.by_folder:
        return False
    found = recorded(root)
    return found is not None and found.digest == rules_digest(files)


def trust_rules(root: Path) -> int:
    """Record the user's trust in `root`'s instructions files as they are now; how many there
    are (none: nothing is recorded)."""
    files = find_rule_files(root)
    if files.by_folder:
        record(root, rules_digest(files))
    return len(files.by_folder)
