"""What a check command can see and touch: the attacks a model-written check tried, each failing.

A user's checkout with a dirty README, our keys and the user's own secret in the environment, a
canary `~/.ssh/id_rsa` in a fake HOME, a canary folder beside the checkout and a loopback
"attacker" server: a check may write in its worktree and nowhere else, sees none of the keys,
and (in the sandbox) reaches no server.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestrate.config.schema import ChecksSettings
from orchestrate.engine.checks import run_check
from orchestrate.engine.workspace import Workspace
from orchestrate.exceptions import ConfigError
from orchestrate.sandbox.environments import CheckEnvironment, usable_bwrap
from orchestrate.sandbox.setup import CheckSetup
from orchestrate.testing.attacker import Attacker

SECRETS = {
    "ANTHROPIC_API_KEY": "sk-ant-api03-canary-anthropic-0000000000",
    "OPENAI_API_KEY": "sk-proj-canary-openai-000000000000000000",
    "GITHUB_TOKEN": "ghp_canaryGithubToken000000000000000000",
    "PAYMENTS_DB_PASSWORD": "canary-payments-db-password",
}
ID_RSA = "-----BEGIN OPENSSH PRIVATE KEY-----\ncanary-id-rsa\n"
NEEDS_BWRAP = pytest.mark.skipif(
    usable_bwrap() is None,
    reason="bubblewrap cannot make a sandbox here (apt-get install bubblewrap)",
)


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


@dataclass
class World:
    checkout: Path
    home: Path
    canary: Path
    workspace: Workspace
    attacker: Attacker

    def environment(self, sandbox: str = "auto", **settings: object) -> CheckEnvironment:
        checks = ChecksSettings.model_validate({"sandbox": sandbox, **settings})
        return CheckSetup(checks, self.checkout).environment(self.workspace.files)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(ID_RSA)
    canary = tmp_path / "canary"
    canary.mkdir()
    (canary / "keep.txt").write_text("keep\n")
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "README.md").write_text("readme\n")
    git(checkout, "init", "-q", "-b", "main")
    git(checkout, "add", ".")
    git(checkout, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    (checkout / "README.md").write_text("readme, with the user's unsaved thoughts\n")
    monkeypatch.setenv("HOME", str(home))
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    attacker = Attacker()
    try:
        yield World(checkout, home, canary, Workspace.create(checkout, "r1"), attacker)
    finally:
        attacker.close()


async def check(environment: CheckEnvironment, command: str) -> str:
    result = await run_check(command, environment, timeout=30)
    return result.output


@pytest.mark.parametrize("sandbox", [pytest.param("auto", marks=NEEDS_BWRAP), "none"])
async def test_a_check_sees_path_a_scratch_home_and_the_locale_and_no_secret(
    world: World, sandbox: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("DATABASE_URL", "postgres://localhost/test")
    environment = world.environment(sandbox, env=["DATABASE_URL"])

    output = await check(environment, "env; cat ~/.ssh/id_rsa; echo home=$HOME")

    names = {line.split("=", 1)[0] for line in output.splitlines() if "=" in line}
    names -= {"home", "PWD", "SHLVL", "_", "OLDPWD"}  # the shell's own
    assert names == {
        "PATH",
        "HOME",
        "LANG",
        "DATABASE_URL",
        "PYTHONPATH",
        "PYTHONDONTWRITEBYTECODE",
    }
    for value in SECRETS.values():
        assert value not in output
    assert "canary-id-rsa" not in output
    assert f"home={world.workspace.files.home}" in output
    # The worktree's own code comes first on Python's import path.
    assert f"PYTHONPATH={world.workspace.path}\n" in output


def test_our_keys_cannot_be_passed_to_checks(world: World) -> None:
    with pytest.raises(ConfigError, match=r"checks\.env: ANTHROPIC_API_KEY hold API keys"):
        world.environment("none", env=["ANTHROPIC_API_KEY"])


@NEEDS_BWRAP
async def test_in_the_sandbox_a_check_writes_only_in_its_worktree(world: World) -> None:
    environment = world.environment()
    hook = Path(git(world.checkout, "rev-parse", "--git-common-dir").strip())
    hooks = (world.checkout / hook / "hooks").resolve()
    attacks = [
        f"rm -rf {world.canary}",
        f"echo pwned >> {world.checkout / 'README.md'}",
        'echo pwned >> "$(git rev-parse --git-common-dir)/../README.md"',
        f"printf '#!/bin/sh\\necho pwned\\n' > {hooks / 'pre-commit'}",
        "git config core.hooksPath /tmp/evil",
        "rm -f .git; mkdir .git; echo '[core] fsmonitor = evil' > .git/config",
        f"cat {world.home / '.ssh' / 'id_rsa'}",
        f"python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {world.attacker.port}))'",
    ]

    outputs = [await check(environment, attack) for attack in attacks]
    own = await check(environment, "echo made > made.txt && cat made.txt")

    assert (world.canary / "keep.txt").read_text() == "keep\n"
    assert (
        world.checkout / "README.md"
    ).read_text() == "readme, with the user's unsaved thoughts\n"
    assert not (hooks / "pre-commit").exists()
    assert "hooksPath" not in (world.checkout / ".git" / "config").read_text()
    assert (world.workspace.path / ".git").is_file()
    assert world.attacker.accepted == 0
    assert not any("canary-id-rsa" in output for output in outputs)
    assert own == "made\n"
    assert (world.workspace.path / "made.txt").read_text() == "made\n"


@NEEDS_BWRAP
async def test_network_is_the_users_to_allow(world: World) -> None:
    environment = world.environment(network=True)
    connect = f"import socket; socket.create_connection(('127.0.0.1', {world.attacker.port}))"

    result = await run_check(f"python3 -c {connect!r}", environment, timeout=30)

    # With the network shared, the loopback server is reachable again.
    assert result.ok, result.output
    assert world.attacker.accepted == 1


async def test_unsandboxed_checks_are_said_to_be_so(world: World) -> None:
    setup = CheckSetup(ChecksSettings(sandbox="none"), world.checkout)
    [line] = setup.notes()
    assert line.startswith("checks: NOT sandboxed (checks.sandbox is none): they could write")
    assert "environment stripped to PATH, HOME (scratch), locale" in line


@NEEDS_BWRAP
def test_sandboxed_checks_are_said_to_be_so(world: World) -> None:
    setup = CheckSetup(ChecksSettings(), world.checkout)
    assert setup.notes() == [
        "checks: bubblewrap sandbox (read-only system, writes only in the worktree, no network); "
        "environment: PATH, HOME (scratch), locale"
    ]


@NEEDS_BWRAP
async def test_tools_on_path_under_tmp_stay_usable_in_the_sandbox(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A CI job's clone (and its .venv) under /tmp: found by a fresh clone running .ci/run there,
    # where `.venv/bin/python` was "not found" inside the sandbox's empty /tmp.
    assert tmp_path.is_relative_to("/tmp")
    venv = tmp_path / "ci-clone" / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "lib").mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (venv / "lib" / "marker.txt").write_text("site-packages\n")
    tool = venv / "bin" / "hello"
    tool.write_text("#!/bin/sh\necho hello\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{venv / 'bin'}:/usr/bin:/bin")

    output = await check(world.environment(), f"hello && cat {venv / 'lib' / 'marker.txt'}")
    hidden = await check(world.environment(), f"ls {world.canary}")

    assert output == "hello\nsite-packages\n"
    assert "keep.txt" not in hidden  # the rest of /tmp stays out of sight
