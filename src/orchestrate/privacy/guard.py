"""Decides, before routing, whether a request may leave the machine."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from orchestrate.config.schema import PrivacySettings
from orchestrate.models.base import ModelRequest
from orchestrate.privacy.paths import PrivatePaths
from orchestrate.privacy.redact import SYSTEM, message_location, redact_request
from orchestrate.privacy.scanner import Finding, Scanner

PRIVATE_PATH = "private_path"
"""Rule name of a finding made by a file's name rather than by its content."""


class PrivacyDecision(BaseModel):
    """The guard's verdict on one request."""

    model_config = ConfigDict(frozen=True)

    private: bool
    """Whether the request holds private data (or concerns a private file)."""
    findings: tuple[Finding, ...] = ()
    """What fired and where; never the private text."""
    redacted_request: ModelRequest | None = None
    """The request with private text replaced, when redaction can make it safe; None when it
    cannot (a private file is private whole) or is not needed."""

    def summary(self, limit: int = 3) -> str:
        """`email (message 1, line 3), private_path (.env)`: safe to show and log."""
        named = list(dict.fromkeys(f"{f.rule} ({f.where()})" for f in self.findings))
        more = f" and {len(named) - limit} more" if len(named) > limit else ""
        return ", ".join(named[:limit]) + more


class PrivacyGuard:
    """Scans request text for secrets and personal data, and file paths against private globs."""

    def __init__(self, settings: PrivacySettings | None = None) -> None:
        self.settings = settings or PrivacySettings()
        self._scanner = Scanner(
            entropy_limit=self.settings.entropy_limit, pii=self.settings.personal_data
        )
        self._paths = PrivatePaths(self.settings.private_paths)

    def inspect(self, request: ModelRequest, files: Sequence[str] = ()) -> PrivacyDecision:
        """Whether `request` (about `files`) is private, why, and its redacted form if it can have one."""
        if not self.settings.enabled:
            return PrivacyDecision(private=False)
        by_path = tuple(
            finding for path in dict.fromkeys(files) for finding in self._path_findings(path)
        )
        in_text = self._scanner.scan(request.system, SYSTEM) + tuple(
            finding
            for index, message in enumerate(request.messages)
            for finding in self._scanner.scan(message.content, message_location(index))
        )
        findings = by_path + in_text
        if not findings:
            return PrivacyDecision(private=False)
        redacted = None if by_path else redact_request(request, in_text)
        return PrivacyDecision(private=True, findings=findings, redacted_request=redacted)

    def _path_findings(self, path: str) -> tuple[Finding, ...]:
        """A private file by its name's glob, or a name that itself holds private data (an SSN
        or a card number in `scans/w2_536-22-8145.pdf`): either keeps the request whole and
        local, since the name is how the request is about that file."""
        if self._paths.match(path) is not None:
            return (Finding(rule=PRIVATE_PATH, location=path),)
        return tuple(
            Finding(rule=found.rule, location=path) for found in self._scanner.scan(path, path)
        )
