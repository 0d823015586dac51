"""The repository's instructions files (AGENTS.md, CLAUDE.md, Copilot's) as they are at a pull
request's BASE commit, read through the REST API like the rest of the pull request.

Never the head's, nor the checkout's (a `pull_request` run checks out the PR's merge commit): a
pull request must not write the instructions its own review is given. One call names the base
commit's tree, one lists it (`recursive`), and one reads each file that applies to the changed
paths, by the same rule a task run uses (`repo_rules.files`).

GitHub's limits: a recursive tree lists at most "100,000 entries with a maximum size of 7 MB"
and says `truncated` past that (https://docs.github.com/rest/git/trees#get-a-tree); then the
folders the changed paths are in are listed one at a time (the non-recursive call the same page
advises). A blob is read up to 100 MB (https://docs.github.com/rest/git/blobs#get-a-blob); only
the first `MAX_FILE_CHARS` are kept.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import PurePosixPath

from github.Repository import Repository

from github import GithubException
from orchestrate.github.pull_request import github_error
from orchestrate.repo_rules.files import (
    COPILOT,
    MAX_FILE_CHARS,
    NAMES,
    RuleFile,
    RuleFiles,
    choose_rule_paths,
)


def _folders(paths: Sequence[str]) -> set[str]:
    """Every folder from the root down to each path's own (`""` is the root)."""
    found = {""}
    for path in paths:
        for parent in PurePosixPath(path).parents[:-1]:
            found.add(parent.as_posix())
    return found


Entry = tuple[str, str, str]
"""`(path from the root, "blob" or "tree", sha)` of one tree entry."""


def _blobs(repository: Repository, tree_sha: str, paths: Sequence[str]) -> dict[str, str]:
    """Path → blob sha of the files that could be instructions for `paths`."""
    tree = repository.get_git_tree(tree_sha, recursive=True)
    entries = [(e.path, e.type, e.sha) for e in tree.tree]
    if tree.truncated:
        entries = _folder_by_folder(repository, tree_sha, _folders(paths))
    names = {*NAMES, PurePosixPath(COPILOT).name}
    return {
        path: sha
        for path, kind, sha in entries
        if kind == "blob" and PurePosixPath(path).name in names
    }


def _folder_by_folder(repository: Repository, root_sha: str, folders: set[str]) -> list[Entry]:
    """The entries of `folders` only (and `.github`), each folder's tree listed on its own."""
    wanted = folders | {".github"}
    found: list[Entry] = []
    pending = [("", root_sha)]
    while pending:
        prefix, sha = pending.pop()
        for entry in repository.get_git_tree(sha).tree:
            path = f"{prefix}{entry.path}"  # a subtree names its entries relative to itself
            found.append((path, entry.type, entry.sha))
            if entry.type == "tree" and path in wanted:
                pending.append((f"{path}/", entry.sha))
    return found


def base_rule_files(repository: Repository, base_sha: str, paths: Sequence[str]) -> RuleFiles:
    """The instructions files at `base_sha` that apply to `paths` (blocking REST calls)."""
    try:
        tree_sha = repository.get_git_commit(base_sha).tree.sha
        blobs = _blobs(repository, tree_sha, paths)
        chosen = RuleFiles(
            {f: RuleFile(p, f, "") for f, p in choose_rule_paths(blobs).items()}
        ).for_paths(list(paths))
        by_folder = {}
        for rule in chosen:
            blob = repository.get_git_blob(blobs[rule.path])
            text = base64.b64decode(blob.content).decode("utf-8", errors="replace")
            by_folder[rule.folder] = RuleFile(rule.path, rule.folder, text[:MAX_FILE_CHARS])
    except GithubException as error:
        raise github_error(error, f"read the instructions files of {base_sha[:7]}") from error
    return RuleFiles(by_folder)
