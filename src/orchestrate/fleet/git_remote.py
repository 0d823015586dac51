"""git over the network for a `--repos` run: clone a GitHub repository into orchestrate's own
folder, bring that clone up to date, and push a run's branch, with the token kept out of argv.

The token travels as actions/checkout sends it, an `AUTHORIZATION: basic` header of
`x-access-token:<token>` scoped to the remote's origin (`http.<origin>/.extraheader`), but through
git's `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n` variables
(https://git-scm.com/docs/git-config#Documentation/git-config.txt-GITCONFIGCOUNT), so it is
neither written to a config file nor visible in the process list. git never prompts
(`GIT_TERMINAL_PROMPT=0`): a missing credential fails at once.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import git

from orchestrate.exceptions import RepoError
from orchestrate.privacy.masking import mask_keys

_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!//)")


def git_env(url: str, token: str | None) -> dict[str, str]:
    """The environment git runs with to reach `url`: the token header for an HTTPS remote."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    parts = urlsplit(url)
    if token and parts.scheme == "https" and parts.netloc:
        credential = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        index = int(env.get("GIT_CONFIG_COUNT") or 0)
        env |= {
            "GIT_CONFIG_COUNT": str(index + 1),
            f"GIT_CONFIG_KEY_{index}": f"http.{parts.scheme}://{parts.netloc}/.extraheader",
            f"GIT_CONFIG_VALUE_{index}": f"AUTHORIZATION: basic {credential}",
        }
    return env


def _failed(what: str, error: git.GitCommandError) -> RepoError:
    stderr = " ".join(str(error.stderr or "").split())
    return RepoError(mask_keys(f"{what} failed: {stderr or error}"))


def clone_or_update(url: str, dest: Path, branch: str, token: str | None) -> None:
    """Make `dest` a checkout of `branch` as `url` has it now: cloned the first time, fetched and
    reset afterwards (the clone is orchestrate's own, never a user's checkout)."""
    env = git_env(url, token)
    if not (dest / ".git").exists():
        shutil.rmtree(dest, ignore_errors=True)  # a clone killed half-way
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            git.Repo.clone_from(url, dest, branch=branch, env=env).close()
        except git.GitCommandError as error:
            raise _failed(f"cloning {url}", error) from None
        return
    with git.Repo(dest) as repo:
        try:
            repo.git.fetch("origin", f"+refs/heads/{branch}:refs/remotes/origin/{branch}", env=env)
            repo.git.checkout("-B", branch, f"origin/{branch}", env=env)
        except git.GitCommandError as error:
            raise _failed(f"updating the clone in {dest}", error) from None


def push_branch(checkout: Path, url: str, branch: str, token: str | None) -> None:
    """Push `branch` to the same name at `url`; never forced, so a remote branch that went
    elsewhere is left alone and the push fails saying so."""
    refspec = f"refs/heads/{branch}:refs/heads/{branch}"
    with git.Repo(checkout) as repo:
        try:
            repo.git.push(url, refspec, env=git_env(url, token))
        except git.GitCommandError as error:
            raise _failed(f"pushing {branch}", error) from None


def origin_url(checkout: Path) -> str | None:
    """The URL of the checkout's `origin` remote, or None when it has none."""
    with git.Repo(checkout) as repo:
        try:
            return str(repo.remote("origin").url)
        except ValueError:
            return None


def github_name(url: str) -> str | None:
    """`owner/name` of a GitHub (or GitHub Enterprise) remote: `https://host/owner/name(.git)`,
    `ssh://git@host/owner/name` or `git@host:owner/name`; None for a path or anything else."""
    if "://" in url:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http", "ssh") or not parts.netloc:
            return None
        path = parts.path
    elif _SCP_LIKE.match(url):
        path = url.partition(":")[2]
    else:
        return None
    names = [part for part in path.removesuffix(".git").split("/") if part]
    return "/".join(names) if len(names) == 2 else None
