"""A run's view of the repository's instructions: read once, trusted or not, per agent."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from orchestrate.engine.commands import CommandBook
from orchestrate.engine.plan import Subtask
from orchestrate.repo_rules.checks import named_checks
from orchestrate.repo_rules.files import RuleFile, RuleFiles, find_rule_files
from orchestrate.repo_rules.prompt import RULES_TOKENS, RulesSection, rules_section
from orchestrate.repo_rules.trust import rules_trusted


@dataclass(frozen=True)
class RepoRules:
    """The instructions files of one repository, and whether the user trusts them."""

    files: RuleFiles = field(default_factory=lambda: RuleFiles({}))
    trusted: bool = False
    budget_tokens: int = RULES_TOKENS

    def for_files(self, paths: Sequence[str]) -> RulesSection:
        """What a worker or reviewer touching `paths` is given."""
        return self._section(self.files.for_paths(list(paths)))

    def for_planner(self, paths: Sequence[str]) -> RulesSection:
        """What the planner is given: the files applying to `paths` (the root's when none),
        then every other, root first (it plans the whole repository)."""
        first = self.files.for_paths(list(paths) or ["."])
        rest = [rule for rule in self.files.everything() if rule not in first]
        return self._section([*first, *rest])

    def checks(self, paths: Sequence[str]) -> list[tuple[str, RuleFile]]:
        """Test and lint commands the files applying to `paths` (and the root's) name, with the
        file naming each."""
        rules = self.files.for_paths([*paths, "."])
        found: dict[str, RuleFile] = {}
        for rule in reversed(rules):  # the root's first
            for command in named_checks(rule):
                found.setdefault(command, rule)
        return list(found.items())

    async def offer_checks(self, book: CommandBook, batch: Sequence[Subtask]) -> None:
        """Offer the checks the files applying to what `batch` edits name as the task's."""
        paths = [path for subtask in batch for path in subtask.edit_files]
        named = [(command, rule.path) for command, rule in self.checks(paths)]
        await book.offer(named, trusted=self.trusted)

    def _section(self, rules: list[RuleFile]) -> RulesSection:
        return rules_section(rules, trusted=self.trusted, budget_tokens=self.budget_tokens)


NO_RULES = RepoRules()
"""No instructions files (a repository without any, or a caller that reads none)."""


async def load_rules(root: Path) -> RepoRules:
    """The instructions files under `root` as they are now, and whether the user trusts them
    (instructions) or not (data)."""
    files = await asyncio.to_thread(find_rule_files, root)
    trusted = await asyncio.to_thread(rules_trusted, root, files)
    return RepoRules(files, trusted)
