"""Our own keys never reach the files and comments we write, even when an error echoes one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrate.cli.event_log import JsonLog
from orchestrate.events import ModelSkipped

KEY = "sk-ant-api03-" + "Zx9" * 12


def test_the_json_event_log_masks_our_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    path = tmp_path / "events.jsonl"
    with JsonLog(path) as log:
        log(ModelSkipped(agent="planner", model="anthropic:x", reason=f"401: bad key {KEY}"))
    text = path.read_text()
    assert KEY not in text
    assert json.loads(text)["reason"] == "401: bad key [ANTHROPIC_API_KEY]"
