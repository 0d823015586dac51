"""The scanner: every corpus item is found under its rule, ordinary code is not flagged."""

from __future__ import annotations

import time

import pytest

from orchestrate.privacy.paths import PrivatePaths
from orchestrate.privacy.pii import luhn_ok
from orchestrate.privacy.redact import redact_text
from orchestrate.privacy.scanner import Scanner

from .corpus import CLEAN_CODE, CORPUS, corpus_block


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_each_item_is_found_whole_under_its_rule(name: str) -> None:
    rule, item = CORPUS[name]
    text = corpus_block()
    findings = Scanner().scan(text, "message 0")
    start = text.index(item)
    covering = [
        f
        for f in findings
        if f.span is not None and f.span[0] <= start < start + len(item) <= f.span[1]
    ]
    assert [f.rule for f in covering] == [rule]
    span = covering[0].span
    assert span is not None and covering[0].line == text.count("\n", 0, span[0]) + 1
    # A finding carries the rule and position, never the text it found.
    assert item not in covering[0].model_dump_json()


def test_ordinary_code_with_hashes_uuids_and_ids_has_no_findings() -> None:
    assert Scanner().scan(CLEAN_CODE, "message 0") == ()


def test_character_set_listings_are_not_secrets_but_random_strings_still_are() -> None:
    # CPython's shlex.py, as shipped (its `d`, `f`, `e` out of order): kept off the cloud before.
    shlex = (
        "        self.wordchars = ('abcdfeghijklmnopqrstuvwxyz'\n"
        "                          'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_')\n"
    )
    assert Scanner().scan(shlex, "message 0") == ()
    # The same characters shuffled are as random as a key, and found.
    shuffled = "label = 'q7Xb2LmZ0aKf9RtW3yEuN+sV8hJd'\n"
    assert [f.rule for f in Scanner().scan(shuffled, "message 0")] == ["base64_high_entropy_string"]


def test_redaction_leaves_no_item_and_names_each_rule() -> None:
    text = corpus_block()
    redacted = redact_text(text, Scanner().scan(text, "message 0"))
    for rule, item in CORPUS.values():
        assert item not in redacted
        assert f"[REDACTED:{rule}]" in redacted
    # The whole key block goes, not only its header line.
    assert "Rt5Yh8Uj2Ik4" not in redacted
    assert "Customer: Maria Gonzalez <[REDACTED:email]>" in redacted


def test_cards_need_the_luhn_check_and_an_issuer_prefix() -> None:
    assert luhn_ok("4539148803436467") and not luhn_ok("4539148803436468")
    scan = Scanner().scan
    assert [f.rule for f in scan("card 4539-1488-0343-6467", "m")] == ["card_number"]
    assert scan("card 4539-1488-0343-6468", "m") == ()
    # Luhn-valid, but a millisecond timestamp: no card issuer starts with 1.
    assert luhn_ok("1700000000004") and scan("at 1700000000004 ms", "m") == ()


def test_reserved_email_domains_and_dates_are_not_personal_data() -> None:
    text = "mail dev@example.com or ci@build.test on 2024-01-15 at 10:30, version 1.2.3"
    assert Scanner().scan(text, "m") == ()


def test_personal_data_can_be_left_to_secrets_only() -> None:
    text = "write to maria.gonzalez@acme-health.io with ghp_R8sT2uV5wX9yZ3aB6cD1eF4gH7iJ0kL2mN5o"
    assert [f.rule for f in Scanner(pii=False).scan(text, "m")] == ["github_token"]


def test_a_large_prompt_scans_in_well_under_a_second() -> None:
    text = CLEAN_CODE * 60  # about 100 kB of code
    started = time.perf_counter()
    assert Scanner().scan(text, "large") == ()
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("path", "glob"),
    [
        (".env", ".env"),
        ("app/.env.production", ".env.*"),
        ("secrets/db/password.txt", "secrets/**"),
        ("deploy/secrets/token", "secrets/**"),
        ("certs/server.PEM", "*.pem"),
        ("/home/me/.ssh/id_rsa.pub", "id_rsa*"),
        ("./config/tls.key", "*.key"),
        ("src/app/settings.py", None),
        ("docs/secrets.md", None),
        ("src/keys.py", None),
    ],
)
def test_private_paths(path: str, glob: str | None) -> None:
    assert PrivatePaths().match(path) == glob


def test_private_paths_are_configurable() -> None:
    paths = PrivatePaths(["config/prod/*.yaml"])
    assert paths.match("config/prod/db.yaml") == "config/prod/*.yaml"
    assert paths.match(".env") is None
