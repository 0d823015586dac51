"""Where one check command runs: an argv that runs it, the environment it gets, its folder.

In the style of mini-swe-agent's environments (a local one and a bubblewrap one behind one small
interface), but for checks only: the engine never runs a model's command any other way.

- `BubblewrapEnvironment`: the whole file system read-only, the run's worktree and scratch HOME
  writable, a fresh /tmp, the worktree's `.git` link read-only (a check cannot point git at a
  config of its own that our later git commands would obey), credential folders of the user's
  home and the user's checkout's editable sources hidden, its own PID namespace (everything it
  started dies with it) and no network unless allowed.
  Flags: https://manpages.ubuntu.com/manpages/jammy/man1/bwrap.1.html
- `LocalEnvironment`: a plain process. It still gets only the minimal environment, but nothing
  stops it writing outside the worktree or reaching the network; a run says so at its start.
"""

from __future__ import annotations

import abc
import functools
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

SHELL = "/bin/sh"
PROBE_TIMEOUT_S = 10.0
FRESH_TMP = Path("/tmp")
"""Mounted empty in the sandbox; what a check needs from it is shown again (`sandbox/setup.py`)."""
_BASE = ("--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", str(FRESH_TMP))
_ISOLATE = ("--unshare-pid", "--die-with-parent")


class CheckEnvironment(abc.ABC):
    """How a check command is started: `argv(command)` with `env`, in `cwd`."""

    kind: ClassVar[str]
    """`bubblewrap` or `local`."""

    def __init__(self, worktree: Path, env: Mapping[str, str]) -> None:
        self.cwd = worktree
        """The run's worktree: checks start there."""
        self.env = dict(env)
        """The check's whole environment."""

    @abc.abstractmethod
    def argv(self, command: str) -> list[str]:
        """The program and arguments that run shell `command` here."""


class LocalEnvironment(CheckEnvironment):
    """A plain child process with the minimal environment."""

    kind = "local"

    def argv(self, command: str) -> list[str]:
        return [SHELL, "-c", command]


class BubblewrapEnvironment(CheckEnvironment):
    """A bubblewrap sandbox around each check."""

    kind = "bubblewrap"

    def __init__(
        self,
        worktree: Path,
        env: Mapping[str, str],
        *,
        bwrap: str,
        home: Path,
        network: bool = False,
        hidden: Sequence[Path] = (),
        shown: Sequence[Path] = (),
    ) -> None:
        super().__init__(worktree, env)
        self.bwrap, self.home, self.network = bwrap, home, network
        self.hidden = tuple(hidden)
        """Folders shown empty and files shown as /dev/null inside the sandbox."""
        self.shown = tuple(shown)
        """Folders inside hidden ones shown again, read-only (a `.venv` in a hidden checkout)."""

    def argv(self, command: str) -> list[str]:
        args = [self.bwrap, *_BASE]
        for path in self.hidden:
            if path.is_dir():
                args += ["--tmpfs", str(path)]
            elif path.exists():
                args += ["--ro-bind", "/dev/null", str(path)]
        # After the hiding, so a hidden folder that holds the worktree or home gets them back.
        for path in self.shown:
            args += ["--ro-bind", str(path), str(path)]
        for path in (self.home, self.cwd):
            args += ["--bind", str(path), str(path)]
        link = self.cwd / ".git"
        if link.exists():
            args += ["--ro-bind", str(link), str(link)]
        if not self.network:
            args.append("--unshare-net")
        return [*args, *_ISOLATE, "--chdir", str(self.cwd), "--", SHELL, "-c", command]


@functools.cache
def usable_bwrap() -> str | None:
    """The `bwrap` program if it is installed and can make a sandbox here, else None.

    Installed is not enough: containers and some distributions forbid the user namespaces it
    needs, so one trivial sandbox with every flag we use is tried once per process.
    """
    found = shutil.which("bwrap")
    if found is None:
        return None
    probe = [found, *_BASE, "--unshare-net", *_ISOLATE, "--", SHELL, "-c", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, timeout=PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return found if done.returncode == 0 else None
