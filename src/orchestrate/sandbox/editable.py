"""Editable installs of the repo's own package that point at the user's checkout.

With `pip install -e .` (or `uv pip install -e .`), the interpreter a check runs imports the
package from wherever it was installed from: the user's checkout, not the run's worktree, so a
check would test code the run never changed. Build backends do it two ways, both found here:
a `.pth` file in site-packages naming a source folder (hatchling, setuptools for src layouts,
flit, pdm), or an import finder module (`__editable__.*_finder.py`, setuptools) mapping package
names to folders.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

INTERPRETERS = ("python3", "python")
"""The names a check most likely runs Python by."""
PROBE_TIMEOUT_S = 20.0
_PROBE = "import json, site, sys; print(json.dumps([sys.prefix, site.getsitepackages()]))"
_QUOTED = re.compile(r"""(?P<q>['"])(?P<path>/[^'"\n]+)(?P=q)""")


@dataclass(frozen=True)
class EditableInstall:
    """An interpreter on the checks' PATH that imports code from the user's checkout."""

    python: str
    """The interpreter (its `sys.prefix`)."""
    via: str
    """The file in site-packages that does it (`_mypkg.pth`, `__editable___mypkg_finder.py`)."""
    sources: tuple[Path, ...]
    """Folders inside the checkout it imports from."""


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def _foreign(paths: Iterable[Path], checkout: Path, prefix: Path) -> tuple[Path, ...]:
    """Those of `paths` in the checkout but not in the interpreter's own prefix (a `.venv` kept
    inside the checkout adds folders of its own)."""
    kept = (p for p in paths if _inside(p, checkout) and not _inside(p, prefix))
    return tuple(dict.fromkeys(kept))


def _site_dirs(executable: str, env: Mapping[str, str], cwd: Path) -> tuple[str, list[Path]]:
    """The prefix and site-packages folders of one interpreter, asked in isolated mode (`-I`:
    nothing from the environment or the current folder is imported)."""
    try:
        done = subprocess.run(
            [executable, "-I", "-c", _PROBE],
            env=dict(env),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return executable, []
    if done.returncode != 0:
        return executable, []
    prefix, dirs = json.loads(done.stdout)
    return str(prefix), [Path(d) for d in dirs if Path(d).is_dir()]


def _pth_paths(path: Path) -> list[Path]:
    """The folders a `.pth` file adds (its `import` lines run code; they name no folder)."""
    found = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", "import ", "import\t")) and Path(line).is_absolute():
            found.append(Path(line).resolve())
    return found


def _finder_paths(path: Path) -> list[Path]:
    """The absolute paths quoted in a finder module (its MAPPING of packages to folders)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return [Path(match.group("path")).resolve() for match in _QUOTED.finditer(text)]


def _installs_in(site: Path, checkout: Path, prefix: str) -> Iterable[EditableInstall]:
    files = [(p, _pth_paths(p)) for p in sorted(site.glob("*.pth"))]
    files += [(p, _finder_paths(p)) for p in sorted(site.glob("__editable__*finder.py"))]
    for path, paths in files:
        sources = _foreign(paths, checkout, Path(prefix).resolve())
        if sources:
            yield EditableInstall(prefix, path.name, sources)


def find_editable_installs(
    checkout: Path, env: Mapping[str, str], cwd: Path
) -> list[EditableInstall]:
    """Editable installs pointing into `checkout` in the interpreters a check would run.

    `env` is the checks' own environment (its PATH picks the interpreters); blocking: call it
    from a thread.
    """
    checkout = checkout.resolve()
    seen: set[str] = set()
    found: list[EditableInstall] = []
    asked: set[tuple[Path, str]] = set()
    for name in INTERPRETERS:
        executable = shutil.which(name, path=env.get("PATH"))
        if executable is None:
            continue
        # `python3` and `python` of one folder are mostly one program: ask it once.
        same = (Path(executable).parent.resolve(), os.path.realpath(executable))
        if same in asked:
            continue
        asked.add(same)
        prefix, sites = _site_dirs(executable, env, cwd)
        if prefix in seen:
            continue
        seen.add(prefix)
        for site in sites:
            found.extend(_installs_in(site, checkout, prefix))
    return found
