"""Workspace: a run branch in a private worktree, never touching the user's checkout."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from orchestrate.engine.run_files import RepoFiles
from orchestrate.engine.workspace import FALLBACK_EMAIL, FALLBACK_NAME, Workspace
from orchestrate.exceptions import RepoError


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


def init_repo(path: Path, commit: bool = True) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Test User")
    git(path, "config", "user.email", "test@example.com")
    if commit:
        (path / "app.py").write_text("print('hi')\n")
        (path / "notes.txt").write_text("one\n")
        git(path, "add", ".")
        git(path, "commit", "-q", "-m", "first")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "repo")


def user_state(repo: Path) -> tuple[str, str, str, str, str]:
    return (
        git(repo, "status", "--porcelain=v1", "--untracked-files=all"),
        git(repo, "diff"),
        git(repo, "diff", "--cached"),
        git(repo, "rev-parse", "HEAD"),
        git(repo, "symbolic-ref", "HEAD"),
    )


def test_create_makes_branch_and_worktree_without_touching_user_tree(repo: Path) -> None:
    (repo / "app.py").write_text("print('dirty')\n")
    (repo / "staged.py").write_text("x = 1\n")
    git(repo, "add", "staged.py")
    (repo / "untracked.md").write_text("scratch\n")
    before = user_state(repo)

    ws = Workspace.create(repo, "run-1")

    assert user_state(repo) == before
    assert (repo / "app.py").read_text() == "print('dirty')\n"
    assert (repo / "untracked.md").read_text() == "scratch\n"
    assert ws.branch == "orchestrate/run-1"
    assert ws.base_sha == before[3].strip()
    common = (repo / git(repo, "rev-parse", "--git-common-dir").strip()).resolve()
    assert ws.path == RepoFiles.for_common_dir(common).run("run-1").worktree
    # Outside the checkout and its .git: walking up from the worktree never reaches the user's files.
    assert not ws.path.is_relative_to(repo.resolve())
    assert git(ws.path, "rev-parse", "--show-toplevel").strip() == str(ws.path)
    # The worktree holds the committed state, not the user's dirty edits.
    assert (ws.path / "app.py").read_text() == "print('hi')\n"
    assert not (ws.path / "staged.py").exists()
    assert git(ws.path, "symbolic-ref", "HEAD").strip() == "refs/heads/orchestrate/run-1"
    assert str(ws.path) in git(repo, "worktree", "list")


def test_commit_writes_trailers_and_leaves_user_tree_alone(repo: Path) -> None:
    (repo / "app.py").write_text("print('dirty')\n")
    before = user_state(repo)
    ws = Workspace.create(repo, "r2")
    (ws.path / "app.py").write_text("print('agent')\n")
    (ws.path / "new.py").write_text("y = 2\n")

    trailers = {"Orchestrate-Run": "r2", "Orchestrate-Subtask": "3", "Orchestrate-Model": "q:7b"}
    sha = ws.commit("Change greeting", "Why: tests asked.\n# not a comment", trailers)

    assert sha == ws.head()
    parsed = git(ws.path, "log", "-1", "--format=%(trailers:only,unfold)")
    assert parsed.strip().splitlines() == [
        "Orchestrate-Run: r2",
        "Orchestrate-Subtask: 3",
        "Orchestrate-Model: q:7b",
    ]
    body = git(ws.path, "log", "-1", "--format=%B")
    assert body.startswith("Change greeting\n\nWhy: tests asked.\n# not a comment\n\n")
    [info] = ws.commits()
    assert info.sha == sha
    assert info.title == "Change greeting"
    assert info.trailers == trailers
    assert user_state(repo) == before
    assert (repo / "app.py").read_text() == "print('dirty')\n"


def test_commit_only_given_paths_and_none_when_nothing_changed(repo: Path) -> None:
    ws = Workspace.create(repo, "r3")
    assert ws.commit("nothing", "", {}) is None
    (ws.path / "app.py").write_text("a = 1\n")
    (ws.path / "notes.txt").unlink()
    (ws.path / "other.py").write_text("b = 2\n")

    sha = ws.commit("partial", "", {}, paths=["app.py", "notes.txt", "ghost.py"])

    assert sha is not None
    shown = git(ws.path, "show", "--name-status", "--format=", sha).split("\n")
    assert sorted(line for line in shown if line) == ["D\tnotes.txt", "M\tapp.py"]
    assert git(ws.path, "status", "--porcelain").strip() == "?? other.py"
    assert ws.commit("ghost only", "", {}, paths=["ghost.py"]) is None


def test_diff_and_changed_files(repo: Path) -> None:
    ws = Workspace.create(repo, "r4")
    (ws.path / "app.py").write_text("print('one')\n")
    first = ws.commit("one", "", {})
    (ws.path / "lib.py").write_text("def f():\n    return 1\n")
    ws.commit("two", "", {})
    (ws.path / "wip.py").write_text("pending = True\n")

    full = ws.diff()
    assert "-print('hi')" in full
    assert "+print('one')" in full
    assert "+++ b/lib.py" in full
    assert "wip.py" not in full
    assert ws.changed_files() == ["app.py", "lib.py"]

    since_first = ws.diff(first)
    assert "app.py" not in since_first
    assert "+++ b/lib.py" in since_first

    with_wip = ws.diff(uncommitted=True)
    assert "+pending = True" in with_wip
    assert ws.changed_files(uncommitted=True) == ["app.py", "lib.py", "wip.py"]
    # Looking at uncommitted work must not stage it.
    assert git(ws.path, "status", "--porcelain").strip() == "?? wip.py"
    assert [c.title for c in ws.commits()] == ["one", "two"]


def test_open_reattaches_and_recreates_pruned_worktree(repo: Path) -> None:
    ws = Workspace.create(repo, "r5")
    (ws.path / "app.py").write_text("v = 5\n")
    sha = ws.commit("five", "", {"Orchestrate-Run": "r5"})

    again = Workspace.open(repo, "r5")
    assert again.path == ws.path
    assert again.base_sha == ws.base_sha
    assert again.head() == sha

    ws.remove(keep_branch=True)
    assert not ws.path.exists()
    resumed = Workspace.open(repo, "r5")
    assert resumed.head() == sha
    assert (resumed.path / "app.py").read_text() == "v = 5\n"
    assert [c.trailers for c in resumed.commits()] == [{"Orchestrate-Run": "r5"}]


def test_remove_without_branch_forgets_the_run(repo: Path) -> None:
    ws = Workspace.create(repo, "r6")
    ws.remove(keep_branch=False)
    assert "orchestrate/r6" not in git(repo, "branch", "--list")
    with pytest.raises(RepoError, match="no run 'r6'"):
        Workspace.open(repo, "r6")
    # The id is free again.
    assert Workspace.create(repo, "r6").branch == "orchestrate/r6"


def test_create_twice_is_refused(repo: Path) -> None:
    Workspace.create(repo, "dup")
    with pytest.raises(RepoError, match="already exists"):
        Workspace.create(repo, "dup")


def test_not_a_repo(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(RepoError, match=r"is not a git repository: run `git init`"):
        Workspace.create(plain, "x")


def test_unborn_head(tmp_path: Path) -> None:
    empty = init_repo(tmp_path / "empty", commit=False)
    with pytest.raises(RepoError, match="no commits yet: make a first commit"):
        Workspace.create(empty, "x")


def test_detached_head(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    with pytest.raises(RepoError, match="detached: check out a branch"):
        Workspace.create(repo, "x")


def test_bad_run_id(repo: Path) -> None:
    with pytest.raises(RepoError, match="cannot name a branch"):
        Workspace.create(repo, "../escape")


def test_fallback_identity_when_none_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("NAME", "EMAIL"):
        for role in ("AUTHOR", "COMMITTER"):
            monkeypatch.delenv(f"GIT_{role}_{var}", raising=False)
    repo = tmp_path / "anon"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=Seed", "-c", "user.email=seed@example.com", "commit", "-qm", "s")
    config_before = (repo / ".git" / "config").read_text()

    ws = Workspace.create(repo, "anon")
    (ws.path / "a.txt").write_text("b\n")
    sha = ws.commit("anon change", "", {})

    assert sha is not None
    who = git(ws.path, "log", "-1", "--format=%an <%ae>|%cn <%ce>").strip()
    expected = f"{FALLBACK_NAME} <{FALLBACK_EMAIL}>"
    assert who == f"{expected}|{expected}"
    assert (repo / ".git" / "config").read_text() == config_before
