"""Secrets found where they hide, measured on a corpus kept in the tests: recall and precision
per class, printed (`pytest -s`) and asserted; no finding in near misses or in a real module of
thousands of lines; tool login files are private by name; file names are screened like text."""

from __future__ import annotations

import inspect
from collections import defaultdict

import pytest
import textual.widget
import typing_extensions

from orchestrate.models.base import Message, ModelRequest
from orchestrate.privacy.guard import PRIVATE_PATH, PrivacyGuard
from orchestrate.privacy.paths import PrivatePaths
from orchestrate.privacy.scanner import Finding, Scanner

from .hiding_corpus import CLASSES, NEAR_MISSES, Sample

SCANNER = Scanner()


def _covers(finding: Finding, text: str, secret: str) -> bool:
    start = text.index(secret)
    assert finding.span is not None
    return finding.span[0] <= start and start + len(secret) <= finding.span[1]


def _measure() -> dict[str, tuple[float, float]]:
    """Per class: recall over its samples, and precision of the findings its rules named over
    the whole corpus (every class's samples and the near misses)."""
    texts: list[tuple[str, Sample | None, str | None]] = [
        (sample.text, sample, name) for name, (_, samples) in CLASSES.items() for sample in samples
    ]
    texts += [(text, None, None) for text in NEAR_MISSES]
    found: dict[str, int] = defaultdict(int)
    named: dict[str, int] = defaultdict(int)
    right: dict[str, int] = defaultdict(int)
    for text, sample, owner in texts:
        findings = SCANNER.scan(text, "corpus")
        for name, (rules, _) in CLASSES.items():
            mine = [f for f in findings if f.rule in rules]
            named[name] += len(mine)
            if sample is not None and owner == name:
                hits = [f for f in mine if _covers(f, text, sample.secret)]
                found[name] += bool(hits)
                right[name] += len(hits)
    return {
        name: (found[name] / len(samples), right[name] / named[name] if named[name] else 1.0)
        for name, (_, samples) in CLASSES.items()
    }


def test_every_class_is_found_whole_and_nothing_else_is_named_so() -> None:
    measured = _measure()
    print("\nclass            recall  precision")
    for name, (recall, precision) in measured.items():
        print(f"{name:<16} {recall:>6.0%}  {precision:>9.0%}")
    assert {name: rp for name, rp in measured.items() if rp != (1.0, 1.0)} == {}


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_are_not_private(text: str) -> None:
    assert [(f.rule, f.span) for f in SCANNER.scan(text, "m")] == []


@pytest.mark.parametrize("module", [textual.widget, typing_extensions])
def test_a_real_module_of_thousands_of_lines_has_no_findings(module: object) -> None:
    source = inspect.getsource(module)  # type: ignore[arg-type]
    assert source.count("\n") > 4000
    assert [(f.rule, f.where()) for f in SCANNER.scan(source, "module")] == []


@pytest.mark.parametrize(
    "path",
    [".netrc", "home/_netrc", ".git-credentials", "web/.npmrc", ".pypirc", "gcp/credentials.json"],
)
def test_tool_login_files_are_private_by_name(path: str) -> None:
    assert PrivatePaths().match(path) is not None


def test_a_file_name_holding_private_data_keeps_the_request_local() -> None:
    request = ModelRequest(messages=(Message(role="user", content="Rename the scan."),))

    decision = PrivacyGuard().inspect(request, files=["hr/w2_536-22-8145.pdf", "src/app.py"])

    assert decision.private and decision.redacted_request is None
    assert [(f.rule, f.location) for f in decision.findings] == [
        ("us_ssn", "hr/w2_536-22-8145.pdf")
    ]
    assert PrivacyGuard().inspect(request, files=[".netrc"]).findings[0].rule == PRIVATE_PATH
