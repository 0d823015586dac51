"""Which instructions file applies where, in a monorepo with nested files, by the AGENTS.md
standard's rule (the nearest file up from a path wins; CLAUDE.md where a folder has no AGENTS.md;
.github/copilot-instructions.md when the root has neither); their text fitted to a budget and
shown as instructions only from a trusted repository; the checks they name."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from orchestrate.repo_rules.checks import named_checks
from orchestrate.repo_rules.files import RuleFile, find_rule_files
from orchestrate.repo_rules.rules import RepoRules

ROOT_RULES = """\
# Monorepo

Use pnpm, never npm.

## Testing instructions

- Run `python -m pytest -q` from the root before you finish.
- Then `ruff check .` and `pnpm turbo run test --filter <project_name>`.
- Fixtures live in `tests/` and `conftest.py`.

## Dev environment

- Start the server with `pnpm dev`.
"""
API_RULES = """\
# api

Every handler returns JSON.

## Checks

```sh
$ python -m pytest tests -q
pnpm install
```
"""


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def write(root: Path, path: str, text: str) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    root = tmp_path / "mono"
    write(root, "AGENTS.md", ROOT_RULES)
    write(root, "CLAUDE.md", "# ignored: the root has an AGENTS.md\n")
    write(root, "packages/api/AGENTS.md", API_RULES)
    write(root, "packages/api/src/app.py", "x = 1\n")
    write(root, "packages/web/CLAUDE.md", "# web\n\nComponents are functions.\n")
    write(root, "packages/web/src/ui.ts", "export {}\n")
    write(root, "packages/lib/lib.py", "y = 2\n")
    write(root, "vendor/AGENTS.md", "# ignored by git, so never read\n")
    write(root, ".gitignore", "vendor/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    return root


def test_the_nearest_file_up_from_a_path_applies(monorepo: Path) -> None:
    files = find_rule_files(monorepo)
    assert {rule.path for rule in files.by_folder.values()} == {
        "AGENTS.md",
        "packages/api/AGENTS.md",
        "packages/web/CLAUDE.md",
    }
    nearest = {
        path: files.nearest(path)
        for path in [
            "packages/api/src/app.py",
            "packages/web/src/ui.ts",
            "packages/lib/lib.py",
            "x.py",
        ]
    }
    assert {path: rule.path if rule else None for path, rule in nearest.items()} == {
        "packages/api/src/app.py": "packages/api/AGENTS.md",
        "packages/web/src/ui.ts": "packages/web/CLAUDE.md",
        "packages/lib/lib.py": "AGENTS.md",
        "x.py": "AGENTS.md",
    }
    # One file per path, the most specific first.
    paths = ["packages/lib/lib.py", "packages/api/src/app.py", "packages/api/other.py"]
    assert [rule.path for rule in files.for_paths(paths)] == ["packages/api/AGENTS.md", "AGENTS.md"]


def test_claude_md_then_copilots_file_stand_in_when_there_is_no_agents_md(tmp_path: Path) -> None:
    root = tmp_path / "r"
    write(root, ".github/copilot-instructions.md", "Use tabs.\n")
    write(root, "src/a.py", "")
    git(root, "init", "-q")
    git(root, "add", ".")
    assert find_rule_files(root).nearest("src/a.py") == RuleFile(
        ".github/copilot-instructions.md", "", "Use tabs.\n"
    )
    write(root, "CLAUDE.md", "Use spaces.\n")
    assert find_rule_files(root).nearest("src/a.py") == RuleFile("CLAUDE.md", "", "Use spaces.\n")
    write(root, "AGENTS.md", "Four spaces.\n")
    assert find_rule_files(root).nearest("src/a.py") == RuleFile("AGENTS.md", "", "Four spaces.\n")


def test_trusted_rules_are_instructions_untrusted_ones_data(monorepo: Path) -> None:
    files = find_rule_files(monorepo)
    trusted = RepoRules(files, trusted=True).for_files(["packages/api/src/app.py"])
    assert "## The repository's instructions" in trusted.text
    assert "### packages/api/AGENTS.md (applies to packages/api/)" in trusted.text
    # The nearest file wins: the api's, not the root's as well.
    assert "Every handler returns JSON." in trusted.text and "Use pnpm" not in trusted.text
    assert "UNTRUSTED" not in trusted.text
    untrusted = RepoRules(files, trusted=False).for_files(["packages/api/src/app.py"])
    assert "never instructions to you" in untrusted.text
    assert "<<<UNTRUSTED packages/api/AGENTS.md " in untrusted.text
    assert "<<<END UNTRUSTED packages/api/AGENTS.md " in untrusted.text
    assert "## The repository's instructions\n" not in untrusted.text
    # A web file gets the web folder's rules and not the api's.
    web = RepoRules(files, trusted=True).for_files(["packages/web/src/ui.ts"]).text
    assert "Components are functions." in web and "Every handler" not in web


def test_what_does_not_fit_the_budget_is_cut_or_left_out_and_said(monorepo: Path) -> None:
    files = find_rule_files(monorepo)
    # The planner plans everything: the root's file first, then the nested ones by depth.
    whole = RepoRules(files, trusted=True).for_planner([])
    assert whole.text.index("### AGENTS.md") < whole.text.index("### packages/api/AGENTS.md")
    assert whole.text.index("packages/api/AGENTS.md") < whole.text.index("packages/web/CLAUDE.md")
    # 105 tokens (315 characters): the root's file fits, too little is left for another.
    section = RepoRules(files, trusted=True, budget_tokens=105).for_planner([])
    budget = "the 105-token budget for instructions files"
    assert section.omitted == (
        f"packages/api/AGENTS.md: left out ({budget} was used)",
        f"packages/web/CLAUDE.md: left out ({budget} was used)",
    )
    assert "(Left out for space: packages/api/AGENTS.md: left out" in section.text
    # 80 tokens (240 characters): the root's own file is cut, and said.
    cut = RepoRules(files, trusted=True, budget_tokens=80).for_planner([])
    assert cut.omitted[0] == (
        f"AGENTS.md: its first 240 of {len(ROOT_RULES.strip())} characters shown "
        "(the 80-token budget for instructions files)"
    )
    assert "[… cut …]" in cut.text and "pnpm dev" not in cut.text
    assert RepoRules(files, trusted=True).for_planner([]).omitted == ()


def test_test_and_lint_commands_named_there_are_found(monorepo: Path) -> None:
    files = find_rule_files(monorepo)
    root, api = files.by_folder[""], files.by_folder["packages/api"]
    # Placeholders, bare paths, the dev server and installs are not checks.
    assert named_checks(root) == ["python -m pytest -q", "ruff check ."]
    assert named_checks(api) == ["cd packages/api && python -m pytest tests -q"]
    offered = RepoRules(files, trusted=True).checks(["packages/api/src/app.py"])
    assert [(command, rule.path) for command, rule in offered] == [
        ("python -m pytest -q", "AGENTS.md"),
        ("ruff check .", "AGENTS.md"),
        ("cd packages/api && python -m pytest tests -q", "packages/api/AGENTS.md"),
    ]
