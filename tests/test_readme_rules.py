"""README's account of AGENTS.md and the user's layer says what the code does: its AGENTS.md
examples, put where their first lines say, apply where it says and name the checks it says; its
user-layer example is a valid `providers.yaml`."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from orchestrate.config.schema import ProvidersFile
from orchestrate.repo_rules.files import find_rule_files
from orchestrate.repo_rules.rules import RepoRules

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(heading: str) -> str:
    assert f"## {heading}" in README, f"README has no {heading} section"
    # The section ends at the next level-2 heading outside a code block.
    body = README.split(f"## {heading}", 1)[1]
    parts = re.split(r"(```.*?```)", body, flags=re.DOTALL)
    kept: list[str] = []
    for part in parts:
        if not part.startswith("```") and "\n## " in part:
            kept.append(part.split("\n## ", 1)[0])
            break
        kept.append(part)
    return "".join(kept)


def test_the_agents_md_examples_apply_and_name_the_checks_it_says(tmp_path: Path) -> None:
    text = section("The repository's instructions (AGENTS.md)")
    examples = re.findall(r"```markdown\n(.*?)```", text, re.DOTALL)
    assert len(examples) == 2
    for example in examples:
        path = re.match(r"# (\S+)", example)
        assert path is not None
        target = tmp_path / path.group(1)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(example, encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    files = find_rule_files(tmp_path)
    nearest = files.nearest("packages/api/handlers/users.py")
    assert nearest is not None and nearest.path == "packages/api/AGENTS.md"
    offered = [command for command, _ in RepoRules(files).checks(["packages/api/app.py"])]
    assert offered == [
        "python -m pytest -q",
        "ruff check .",
        "cd packages/api && python -m pytest tests -q",
    ]
    assert "`cd packages/api && python -m pytest tests -q`" in text


def test_the_user_layer_example_is_a_valid_providers_file() -> None:
    text = section("Configure")
    [example] = [
        block
        for block in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
        if block.startswith("# ~/.config/orchestrate/providers.yaml")
    ]
    parsed = ProvidersFile.model_validate(yaml.safe_load(example))
    assert parsed.endpoints["gpu-box"].tier == "local"
