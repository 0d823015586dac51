"""The Git database routes of `FakeGitHub`: what a repository holds at a commit, read the way
the REST API serves it.

- `GET /git/commits/{sha}` names the commit's root `tree`
  (https://docs.github.com/rest/git/commits#get-a-commit-object).
- `GET /git/trees/{tree_sha}` lists its entries (every one under it with `?recursive=1`), folders as `tree` and
  files as `blob` with their `sha` and `size`; `truncated` is true past "100,000 entries with a
  maximum size of 7 MB" (https://docs.github.com/rest/git/trees#get-a-tree); a test can make a
  tree come back truncated.
- `GET /git/blobs/{sha}` is a file's content, base64 with line breaks as GitHub sends it,
  "blobs up to 100 megabytes" (https://docs.github.com/rest/git/blobs#get-a-blob).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import PurePosixPath
from typing import Any

from orchestrate.testing.fake_github_state import error
from orchestrate.testing.fake_server import RecordedRequest, Response


def _sha(kind: str, data: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data).hexdigest()


def _tree_sha(contents: dict[str, bytes]) -> str:
    return _sha("tree", repr(sorted(contents.items())).encode())


def _inside(contents: dict[str, bytes], folder: str) -> dict[str, bytes]:
    """The files under `folder`, named relative to it."""
    prefix = f"{folder}/"
    return {p.removeprefix(prefix): d for p, d in contents.items() if p.startswith(prefix)}


class GitObjects:
    """The files of one repository at each commit a test gave (`commit_files`)."""

    def __init__(self, repo_url: str) -> None:
        self.repo_url = repo_url
        self.trees: dict[str, dict[str, bytes]] = {}
        """Tree sha → path → content."""
        self.commit_trees: dict[str, str] = {}
        """Commit sha → its root tree's sha."""
        self.blobs: dict[str, bytes] = {}
        self.truncated: set[str] = set()
        """Trees listed as `truncated` (as if past GitHub's limit)."""

    def commit_files(self, commit_sha: str, files: dict[str, str]) -> str:
        """Commit `commit_sha` holds exactly `files` (path → text); its tree's sha."""
        tree_sha = self._register({path: text.encode() for path, text in files.items()})
        self.commit_trees[commit_sha] = tree_sha
        return tree_sha

    def _register(self, contents: dict[str, bytes]) -> str:
        """Keep a tree and, as GitHub does, each of its folders as a tree of its own."""
        sha = _tree_sha(contents)
        self.trees[sha] = contents
        for path, data in contents.items():
            self.blobs[_sha("blob", data)] = data
            if "/" in path:
                self._register(_inside(contents, path.split("/")[0]))
        return sha

    def routes(self) -> list[tuple[str, str, Any]]:
        """`(method, pattern, handler)` rows for `FakeGitHub`'s router."""
        return [
            ("GET", r"/git/commits/([0-9a-f]{40})", self._commit),
            ("GET", r"/git/trees/([0-9a-f]{40})", self._tree),
            ("GET", r"/git/blobs/([0-9a-f]{40})", self._blob),
        ]

    def _commit(self, _r: RecordedRequest, _l: str, _q: dict[str, str], sha: str) -> Response:
        tree = self.commit_trees.get(sha)
        if tree is None:
            return error(404, "Not Found")
        tree_json = {"sha": tree, "url": f"{self.repo_url}/git/trees/{tree}"}
        return Response.json(
            {"sha": sha, "url": f"{self.repo_url}/git/commits/{sha}", "tree": tree_json,
             "message": "base", "parents": []}
        )  # fmt: skip

    def _tree(self, _r: RecordedRequest, _l: str, query: dict[str, str], sha: str) -> Response:
        contents = self.trees.get(sha)
        if contents is None:
            return error(404, "Not Found")
        entries: dict[str, dict[str, Any]] = {}
        for path, data in sorted(contents.items()):
            for folder in reversed(PurePosixPath(path).parents[:-1]):
                name, tree = str(folder), _tree_sha(_inside(contents, str(folder)))
                entries.setdefault(name, {"path": name, "mode": "040000", "type": "tree",
                                          "sha": tree})  # fmt: skip
            blob = _sha("blob", data)
            entries[path] = {"path": path, "mode": "100644", "type": "blob", "sha": blob,
                             "size": len(data), "url": f"{self.repo_url}/git/blobs/{blob}"}  # fmt: skip
        listed = list(entries.values())
        recursive = query.get("recursive") is not None
        if not recursive:
            listed = [entry for entry in listed if "/" not in entry["path"]]
        truncated = recursive and sha in self.truncated
        if truncated:
            listed = listed[: len(listed) // 2]
        return Response.json(
            {"sha": sha, "url": f"{self.repo_url}/git/trees/{sha}", "tree": listed,
             "truncated": truncated}
        )  # fmt: skip

    def _blob(self, _r: RecordedRequest, _l: str, _q: dict[str, str], sha: str) -> Response:
        data = self.blobs.get(sha)
        if data is None:
            return error(404, "Not Found")
        return Response.json(
            {"sha": sha, "size": len(data), "url": f"{self.repo_url}/git/blobs/{sha}",
             "content": base64.encodebytes(data).decode(), "encoding": "base64"}
        )  # fmt: skip
