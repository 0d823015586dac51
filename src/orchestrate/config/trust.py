"""Which repositories' own `agents/` the user trusts, recorded outside every repository.

A repository's `agents/` can say where our keys go (`base_url`, `api_key_env`), which endpoints
count as local (`tier`) and what is private (`privacy`), and how checks run (`checks`). From a
cloned repository that is someone else's choice, so those settings count only once the user ran
`orchestrate trust` there; the record holds a digest of every file under `agents/`, so any change
to them asks again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, ValidationError

from orchestrate.engine.run_files import APP_NAME
from orchestrate.engine.run_state import write_atomically
from orchestrate.exceptions import ConfigError

TRUST_FILE = "trusted-repos.json"
TrustState = Literal["trusted", "untrusted", "changed"]


class TrustRecord(BaseModel):
    """The user's trust in one repository's `agents/` as it was then."""

    digest: str
    """sha256 over every file's path and bytes."""
    at: str
    """When (UTC, ISO 8601)."""


class TrustBook(BaseModel):
    """Every record, by the folder's resolved path."""

    folders: dict[str, TrustRecord] = {}


def trust_file() -> Path:
    """Where records live: the user's config folder (platformdirs), never in a repository."""
    return platformdirs.user_config_path(APP_NAME) / TRUST_FILE


def agents_digest(folder: Path) -> str:
    """A digest of every file under `folder`: names and contents, in a fixed order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix().encode("utf-8", "surrogateescape")
        data = path.read_bytes()
        digest.update(b"%d:%s%d:" % (len(name), name, len(data)))
        digest.update(data)
    return digest.hexdigest()


def _book() -> TrustBook:
    path = trust_file()
    try:
        return TrustBook.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return TrustBook()
    except (ValidationError, OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            f"{path} is unreadable ({type(error).__name__}): remove it and run "
            "`orchestrate trust` again in the repositories you trust"
        ) from None


def trust_state(folder: Path) -> TrustState:
    """Whether the user trusts `folder` as it is now (`changed`: trusted, then edited)."""
    found = recorded(folder)
    if found is None:
        return "untrusted"
    return "trusted" if found.digest == agents_digest(folder) else "changed"


def recorded(folder: Path) -> TrustRecord | None:
    """The user's record of trust in `folder`, if any (its digest says of what)."""
    return _book().folders.get(str(folder.resolve()))


def record(folder: Path, digest: str) -> TrustRecord:
    """Record that the user trusts what `digest` covers under `folder`: every file of an
    `agents/`, or a repository root's instructions files (`repo_rules.trust`)."""
    book = _book()
    found = TrustRecord(digest=digest, at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    book.folders[str(folder.resolve())] = found
    _save(book)
    return found


def trust(folder: Path) -> TrustRecord:
    """Record that the user trusts `folder` as it is now."""
    return record(folder, agents_digest(folder))


def forget(folder: Path) -> bool:
    """Drop the record of `folder`; whether there was one."""
    book = _book()
    found = book.folders.pop(str(folder.resolve()), None) is not None
    if found:
        _save(book)
    return found


def _save(book: TrustBook) -> None:
    path = trust_file()
    try:
        write_atomically(path, json.dumps(book.model_dump(), indent=2) + "\n")
    except OSError as error:
        raise ConfigError(f"cannot write {path} ({error.strerror}): check its folder") from None
