"""One session's way of running checks: which environment, what it hides, and what to tell the user.

Decided once (is bubblewrap usable? which editable installs point at the checkout?) and said at
the start of a run; then each run gets its environment for its own worktree and scratch HOME.
"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

from orchestrate.config.schema import ChecksSettings
from orchestrate.engine.run_files import RunFiles, state_root
from orchestrate.exceptions import ConfigError
from orchestrate.sandbox.check_env import check_environ
from orchestrate.sandbox.editable import EditableInstall, find_editable_installs
from orchestrate.sandbox.environments import (
    FRESH_TMP,
    BubblewrapEnvironment,
    CheckEnvironment,
    LocalEnvironment,
    usable_bwrap,
)

HIDDEN_IN_HOME = (
    ".ssh",
    ".gnupg",
    ".aws",
    ".azure",
    ".kube",
    ".docker",
    ".netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    ".pgpass",
    ".cargo/credentials",
    ".cargo/credentials.toml",
    ".config/gh",
    ".config/hub",
    ".config/gcloud",
)
"""Where keys and tokens live in a home folder; a sandboxed check sees these empty."""
INSTALL_BWRAP = "install bubblewrap (`apt-get install bubblewrap`)"


def tools_in_fresh_tmp(path_var: str) -> list[Path]:
    """PATH folders that the sandbox's fresh /tmp would hide (a CI job's checkout, and its
    `.venv/bin`, often lives under /tmp), each as its whole virtual environment when it is one's
    `bin`, with the interpreter that environment was made from when that is under /tmp too."""
    found: list[Path] = []
    for part in path_var.split(os.pathsep):
        folder = Path(part)
        if not folder.is_absolute() or not folder.is_relative_to(FRESH_TMP) or not folder.is_dir():
            continue
        config = folder.parent / "pyvenv.cfg"
        if not config.is_file():
            found.append(folder)
            continue
        found.append(folder.parent)
        for line in config.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition("=")
            base = Path(value.strip()).parent
            if key.strip() == "home" and base.is_relative_to(FRESH_TMP) and base.is_dir():
                found.append(base)
    return found


@functools.lru_cache(maxsize=16)
def _editable_installs(
    checkout: Path, passed: tuple[tuple[str, str], ...]
) -> tuple[EditableInstall, ...]:
    """Asked once per checkout and environment: every engine of a session shares the answer."""
    with tempfile.TemporaryDirectory(prefix="orchestrate-probe-") as home:
        names = tuple(name for name, _ in passed if name != "PATH")
        env = check_environ(Path(home), checkout, names, dict(passed))
        return tuple(find_editable_installs(checkout, env, Path(home)))


class CheckSetup:
    """The environment checks of this session's runs get."""

    def __init__(self, settings: ChecksSettings, checkout: Path) -> None:
        self.settings = settings
        self.checkout = checkout.resolve()
        self._bwrap: str | None = None
        self._editable: list[EditableInstall] | None = None
        if settings.sandbox != "none":
            self._bwrap = usable_bwrap()
            if self._bwrap is None and settings.sandbox == "bubblewrap":
                raise ConfigError(
                    "checks.sandbox is bubblewrap but bwrap is missing or cannot make a sandbox "
                    f"here: {INSTALL_BWRAP}, or set checks.sandbox: auto"
                )

    @property
    def sandboxed(self) -> bool:
        """Whether checks run in bubblewrap."""
        return self._bwrap is not None

    def editable_installs(self) -> list[EditableInstall]:
        """Editable installs pointing into the checkout, found once (blocking: a thread)."""
        if self._editable is None:
            passed = tuple(
                (name, os.environ.get(name, "")) for name in ("PATH", *self.settings.env)
            )
            self._editable = list(_editable_installs(self.checkout, passed))
        return self._editable

    def environment(self, files: RunFiles, worktree: Path | None = None) -> CheckEnvironment:
        """The environment of one run's checks (blocking: a thread), in the run's worktree or
        in `worktree`, one of its lanes (`engine/lanes.py`)."""
        where = worktree or files.worktree
        files.home.mkdir(parents=True, exist_ok=True)
        env = check_environ(files.home, where, self.settings.env)
        if self._bwrap is None:
            return LocalEnvironment(where, env)
        home = Path(os.path.expanduser("~"))
        hidden = [home / name for name in HIDDEN_IN_HOME]
        # Other runs' saved progress and worktrees, and the checkout's editable sources; an
        # interpreter kept inside those sources (a `.venv` in a flat-layout checkout) stays.
        installs = self.editable_installs()
        hidden.append(state_root())
        hidden += [src for install in installs for src in install.sources]
        prefixes = {Path(install.python) for install in installs}
        shown = [p for p in prefixes if any(p.is_relative_to(h) for h in hidden)]
        shown += tools_in_fresh_tmp(env["PATH"])
        return BubblewrapEnvironment(
            where,
            env,
            bwrap=self._bwrap,
            home=files.home,
            network=self.settings.network,
            hidden=hidden,
            shown=shown,
        )

    def notes(self) -> list[str]:
        """What a run says at its start about how checks run (blocking: a thread)."""
        passed = ", ".join(("PATH", "HOME (scratch)", "locale", *self.settings.env))
        if self._bwrap is not None:
            net = "network allowed" if self.settings.network else "no network"
            lines = [
                "checks: bubblewrap sandbox (read-only system, writes only in the worktree, "
                f"{net}); environment: {passed}"
            ]
        else:
            why = (
                "checks.sandbox is none"
                if self.settings.sandbox == "none"
                else f"bubblewrap is not usable here: {INSTALL_BWRAP} to sandbox them"
            )
            lines = [
                f"checks: NOT sandboxed ({why}): they could write outside the worktree and "
                f"reach the network; environment stripped to {passed}"
            ]
        for install in self.editable_installs():
            where = ", ".join(str(src) for src in install.sources)
            hidden = "; the sandbox hides it" if self._bwrap is not None else ""
            lines.append(
                f"checks: {install.via} in {install.python} imports from your checkout ({where}): "
                f"checks import the worktree's code first (PYTHONPATH){hidden}"
            )
        return lines
