"""The `privacy:` section of providers.yaml reaches the router's guard."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrate.config.loader import load_config
from orchestrate.exceptions import ConfigError
from orchestrate.ledger.store import Ledger
from orchestrate.models.base import Message, ModelRequest
from orchestrate.models.scripted import ScriptedModel, register_scripted, unregister_scripted
from orchestrate.routing.router import Router


def write(agents: Path, providers: str) -> None:
    agents.mkdir(exist_ok=True)
    (agents / "providers.yaml").write_text(
        "endpoints:\n  scloud: {kind: scripted, tier: cloud}\n"
        "prices:\n  scloud:big: {input: 3.0, output: 15.0}\n" + providers
    )
    (agents / "coder.yaml").write_text(
        "model: scloud:big\nfallbacks: [scripted:small]\nsystem_prompt: code\nretries: 0\n"
    )


async def test_configured_private_paths_keep_requests_local(tmp_path: Path) -> None:
    agents = tmp_path / "agents"
    write(agents, "privacy:\n  private_paths: ['*.sqlite']\n  personal_data: false\n")
    config = load_config(tmp_path, agents)
    assert config.privacy.private_paths == ("*.sqlite",)
    assert config.privacy.personal_data is False

    cloud, local = ScriptedModel(["cloud answer"]), ScriptedModel(["done"])
    register_scripted("big", cloud)
    register_scripted("small", local)
    try:
        router = Router(config, Ledger(None))
        request = ModelRequest(messages=(Message(role="user", content="tidy the cache"),))
        routed = await router.complete(config.agents["coder"], request, files=["data/cache.sqlite"])
        # Personal data is off by this file: an email alone no longer keeps a request local.
        mail = ModelRequest(messages=(Message(role="user", content="mail ann@corp.io"),))
        second = await router.complete(config.agents["coder"], mail)
    finally:
        unregister_scripted("big")
        unregister_scripted("small")
    assert routed.model_ref == "scripted:small"
    assert second.model_ref == "scloud:big"
    assert len(cloud.requests) == 1 and "ann@corp.io" in cloud.requests[0].messages[0].content


def test_unknown_privacy_key_is_one_line_naming_the_file(tmp_path: Path) -> None:
    agents = tmp_path / "agents"
    write(agents, "privacy:\n  privat_paths: ['x']\n")
    with pytest.raises(ConfigError, match=r"providers\.yaml:\d+: privacy\.privat_paths"):
        load_config(tmp_path, agents)
