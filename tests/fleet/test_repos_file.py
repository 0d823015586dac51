"""repos.txt lines, the remotes pull requests go to, and how the token reaches git."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from orchestrate.cli.repos_cmd import check_repos_args
from orchestrate.exceptions import ConfigError
from orchestrate.fleet.git_remote import git_env, github_name
from orchestrate.fleet.repos_file import RepoSpec, read_repos


def test_folders_and_github_names_with_comments_and_blank_lines(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "acme").mkdir()  # a folder named like an owner is not in the way
    listing = tmp_path / "repos.txt"
    listing.write_text(
        f"one  # the first\n\n# acme/ignored\n{tmp_path / 'one'}/../acme\nacme/two\n"
    )
    assert read_repos(listing) == [
        RepoSpec(kind="local", target=str(tmp_path / "one")),
        RepoSpec(kind="local", target=str(tmp_path / "acme")),
        RepoSpec(kind="github", target="acme/two"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("acme/two\nnot a repo\n", "{path}:2: 'not a repo' is neither a folder nor a GitHub "
         "owner/name; fix the line or remove it"),
        ("acme/two\n\nacme/two\n", "{path}:3: acme/two is already listed on line 1; remove one"),
        ("# nothing\n\n", "--repos: {path} lists no repository; add one per line"),
    ],
)  # fmt: skip
def test_a_bad_listing_is_one_line_naming_the_file_and_line(
    tmp_path: Path, text: str, message: str
) -> None:
    listing = tmp_path / "repos.txt"
    listing.write_text(text)
    with pytest.raises(ConfigError) as caught:
        read_repos(listing)
    assert str(caught.value) == message.format(path=listing)


def test_a_missing_listing_says_what_to_write(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist; list one repository per line"):
        read_repos(tmp_path / "nowhere.txt")


def test_options_that_do_not_go_together() -> None:
    with pytest.raises(ConfigError, match=r"^--max-repos must be 1 or more, not 0$"):
        check_repos_args(0, False, Path("repos.txt"))
    with pytest.raises(ConfigError, match=r"^--open-prs works with --repos"):
        check_repos_args(2, True, None)


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://github.com/acme/widgets.git", "acme/widgets"),
        ("https://github.example.com/acme/widgets", "acme/widgets"),
        ("git@github.com:acme/widgets.git", "acme/widgets"),
        ("ssh://git@github.com/acme/widgets.git", "acme/widgets"),
        ("/srv/git/widgets.git", None),
        ("file:///srv/git/acme/widgets.git", None),
        ("https://github.com/acme", None),
    ],
)
def test_the_github_repository_of_a_remote(url: str, name: str | None) -> None:
    assert github_name(url) == name


def test_the_token_reaches_git_as_a_header_scoped_to_the_remote_never_in_argv() -> None:
    env = git_env("https://github.example.com/acme/widgets.git", "ghp_secret")
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    index = int(env["GIT_CONFIG_COUNT"]) - 1
    assert env[f"GIT_CONFIG_KEY_{index}"] == "http.https://github.example.com/.extraheader"
    value = env[f"GIT_CONFIG_VALUE_{index}"]
    assert value.startswith("AUTHORIZATION: basic ")
    assert base64.b64decode(value.split()[-1]) == b"x-access-token:ghp_secret"
    # No token, or a remote that is not HTTPS: no header at all.
    assert "GIT_CONFIG_COUNT" not in git_env("https://github.com/a/b.git", None)
    assert "GIT_CONFIG_COUNT" not in git_env("/srv/git/b.git", "ghp_secret")
