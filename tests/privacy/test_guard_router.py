"""The guard in the router: private requests stay local and fail closed; `redact` masks instead."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from orchestrate.config.schema import PrivacySettings
from orchestrate.events import ModelSkipped
from orchestrate.exceptions import NoModelAvailableError, PrivacyBlockedError
from orchestrate.models.base import Message, ModelRequest
from orchestrate.models.scripted import ScriptedFailure, ScriptedModel
from orchestrate.privacy.guard import PrivacyGuard
from orchestrate.routing.failures import Failure, FailureKind

from .corpus import CORPUS
from .privacy_support import agent, make_router, scripted

TOKEN = CORPUS["github_token"][1]
EMAIL = CORPUS["email"][1]
PRIVATE = ModelRequest(
    system="You write code.",
    messages=(
        Message(role="user", content="Fix the deploy script."),
        Message(role="user", content=f"It pushes with\n{TOKEN}\nand mails {EMAIL}."),
    ),
)
CLEAN = ModelRequest(messages=(Message(role="user", content="Write add(a, b)."),))


def _skip_reasons(seen: Sequence[object]) -> list[str]:
    return [e.reason for e in seen if isinstance(e, ModelSkipped)]


async def test_private_request_drops_cloud_models_before_the_first_attempt() -> None:
    cloud, local = ScriptedModel(["never"]), ScriptedModel(["done"])
    with scripted(big=cloud, small=local):
        coder = agent("scloud:big", "scripted:small")
        router, ledger, seen = make_router(coder)
        routed = await router.complete(coder, PRIVATE)
    assert routed.model_ref == "scripted:small" and routed.response.text == "done"
    assert cloud.requests == [] and local.requests == [PRIVATE]
    decisions = [(d.agent, d.rule, d.location, d.action) for d in ledger.privacy_decisions("run-1")]
    assert decisions == [
        ("coder", "github_token", "message 1, line 2", "local_only"),
        ("coder", "email", "message 1, line 3", "local_only"),
    ]
    reasons = _skip_reasons(seen)
    assert reasons == [
        "private request (github_token (message 1, line 2), email (message 1, line 3)): "
        "cloud models are never used"
    ]
    assert [(a.model, a.outcome) for a in ledger.attempts()] == [
        ("scloud:big", "skipped"),
        ("scripted:small", "ok"),
    ]


async def test_a_private_request_never_falls_back_up_to_the_cloud() -> None:
    down = ScriptedFailure(Failure(FailureKind.MOVE_ON, "unavailable", "server down"))
    local, cloud = ScriptedModel([down]), ScriptedModel(["never"])
    with scripted(small=local, big=cloud):
        coder = agent("scripted:small", "scloud:big")
        router, _, _ = make_router(coder)
        with pytest.raises(NoModelAvailableError, match="scloud:big: private request"):
            await router.complete(coder, PRIVATE)
    assert cloud.requests == [] and len(local.requests) == 1


async def test_no_local_model_fails_with_a_clear_error_and_records_the_block() -> None:
    cloud = ScriptedModel(["never"])
    with scripted(big=cloud):
        coder = agent("scloud:big")
        router, ledger, _ = make_router(coder)
        with pytest.raises(PrivacyBlockedError) as raised:
            await router.complete(coder, PRIVATE)
    message = str(raised.value)
    assert "github_token (message 1, line 2)" in message and "add a local fallback" in message
    assert TOKEN not in message and EMAIL not in message
    assert cloud.requests == []
    assert {d.action for d in ledger.privacy_decisions()} == {"blocked"}


async def test_redact_agents_send_the_cloud_a_masked_request() -> None:
    cloud = ScriptedModel(["done"])
    with scripted(big=cloud):
        coder = agent("scloud:big", "scripted:small", privacy="redact")
        router, ledger, _ = make_router(coder)
        routed = await router.complete(coder, PRIVATE)
    assert routed.model_ref == "scloud:big"
    sent = cloud.requests[0].messages[1].content
    assert sent == "It pushes with\n[REDACTED:github_token]\nand mails [REDACTED:email]."
    assert cloud.requests[0].messages[0] == PRIVATE.messages[0]
    assert {d.action for d in ledger.privacy_decisions()} == {"redacted"}


async def test_redact_agents_still_go_local_for_a_private_file() -> None:
    cloud, local = ScriptedModel(["never"]), ScriptedModel(["done"])
    with scripted(big=cloud, small=local):
        coder = agent("scloud:big", "scripted:small", privacy="redact")
        router, ledger, _ = make_router(coder)
        routed = await router.complete(coder, CLEAN, files=["src/app.py", "config/.env"])
    assert routed.model_ref == "scripted:small" and cloud.requests == []
    decisions = [(d.rule, d.location, d.action) for d in ledger.privacy_decisions()]
    assert decisions == [("private_path", "config/.env", "local_only")]


async def test_a_clean_request_still_goes_to_the_cloud() -> None:
    cloud = ScriptedModel(["done"])
    with scripted(big=cloud):
        coder = agent("scloud:big", "scripted:small")
        router, ledger, seen = make_router(coder)
        routed = await router.complete(coder, CLEAN, files=["src/app.py"])
    assert routed.model_ref == "scloud:big" and cloud.requests == [CLEAN]
    assert ledger.privacy_decisions() == [] and _skip_reasons(seen) == []


async def test_the_guard_can_be_turned_off() -> None:
    cloud = ScriptedModel(["done"])
    with scripted(big=cloud):
        coder = agent("scloud:big", "scripted:small")
        router, _, _ = make_router(coder, PrivacyGuard(PrivacySettings(enabled=False)))
        routed = await router.complete(coder, PRIVATE)
    assert routed.model_ref == "scloud:big" and cloud.requests == [PRIVATE]


def test_guard_decisions() -> None:
    guard = PrivacyGuard()
    clean = guard.inspect(CLEAN, ["README.md"])
    assert not clean.private and clean.findings == () and clean.redacted_request is None
    private = guard.inspect(PRIVATE)
    assert private.private and private.redacted_request is not None
    assert TOKEN not in private.redacted_request.model_dump_json()
    by_file = guard.inspect(PRIVATE, ["keys/deploy.pem"])
    # A private file is private whole: no redaction can make the request safe.
    assert by_file.redacted_request is None
    assert by_file.summary(limit=1) == "private_path (keys/deploy.pem) and 2 more"
    custom = PrivacyGuard(PrivacySettings(private_paths=("*.sqlite",), personal_data=False))
    assert [f.rule for f in custom.inspect(PRIVATE, [".env", "db.sqlite"]).findings] == [
        "private_path",
        "github_token",
    ]
