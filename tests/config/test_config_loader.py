"""load_config: layering, the shipped defaults, and one exact `path:line: field: message` per error."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrate.config.defaults import default_agents_dir
from orchestrate.config.layers import config_layers
from orchestrate.config.loader import load_config
from orchestrate.config.schema import OrchestrateConfig
from orchestrate.config.trust import trust
from orchestrate.exceptions import ConfigError
from orchestrate.ledger.prices import packaged_prices
from orchestrate.routing.capabilities import role_of
from orchestrate.routing.model_facts import fit_chain

GOOD = """\
system_prompt: You write code.
model: ollama:qwen2.5-coder:7b
fallbacks:
  - llamacpp:gemma3-270m
"""


@pytest.fixture
def agents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty `agents/` under the cwd, so errors show as `agents/<file>:<line>`."""
    monkeypatch.chdir(tmp_path)
    directory = tmp_path / "agents"
    directory.mkdir()
    return directory


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(agents_dir: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(agents_dir=agents_dir)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- one line per problem, with its line number ------------------------------------------------


def test_yaml_syntax_error_names_its_line(agents: Path) -> None:
    write(agents, "coder.yaml", "model: ollama:x\nsystem_prompt: hi\ntemperature: 0.1: 0.2\n")
    assert error_of(agents) == (
        "agents/coder.yaml:3: yaml: mapping values are not allowed here "
        "(check indentation, colons and quoting)"
    )


def test_unclosed_flow_list_is_a_syntax_error_not_a_crash(agents: Path) -> None:
    write(agents, "coder.yaml", "model: ollama:x\nfallbacks: [a, b\nsystem_prompt: hi\n")
    assert error_of(agents).startswith("agents/coder.yaml:3: yaml: ")


def test_top_level_must_be_a_mapping(agents: Path) -> None:
    write(agents, "coder.yaml", "- model: ollama:x\n")
    assert error_of(agents) == (
        "agents/coder.yaml:1: top level: expected a mapping describing an agent "
        "(model:, fallbacks:, system_prompt_file: ...) (found a list)"
    )


def test_empty_agent_file_is_an_error(agents: Path) -> None:
    write(agents, "coder.yaml", "# nothing yet\n")
    assert error_of(agents).startswith("agents/coder.yaml:1: top level: expected a mapping")
    assert error_of(agents).endswith("(found an empty file)")


def test_unknown_field_suggests_the_closest(agents: Path) -> None:
    write(agents, "coder.yaml", GOOD + "temprature: 0.2\n")
    assert error_of(agents) == (
        "agents/coder.yaml:5: temprature: unknown field (did you mean 'temperature'?)"
    )


def test_misspelt_prompt_file_key_is_suggested(agents: Path) -> None:
    write(agents, "coder.yaml", "model: ollama:x\nsystem_prompt_fil: prompts/c.md\n")
    assert error_of(agents) == (
        "agents/coder.yaml:2: system_prompt_fil: unknown field (did you mean 'system_prompt_file'?)"
    )


def test_unknown_field_without_a_close_match_lists_the_fields(agents: Path) -> None:
    write(agents, "coder.yaml", GOOD + "banana: 1\n")
    message = error_of(agents)
    assert message.startswith("agents/coder.yaml:5: banana: unknown field (known fields: ")
    assert "fallbacks, " in message
    assert "system_prompt_file" in message


def test_misspelt_field_is_reported_before_the_missing_one_it_explains(agents: Path) -> None:
    write(agents, "coder.yaml", "system_prompt: hi\ntemperature: 9\nmodle: ollama:x\n")
    assert error_of(agents) == "agents/coder.yaml:3: modle: unknown field (did you mean 'model'?)"


def test_wrong_type(agents: Path) -> None:
    write(agents, "coder.yaml", GOOD + "max_tokens: lots\n")
    assert error_of(agents) == (
        "agents/coder.yaml:5: max_tokens: input should be a valid integer, "
        "unable to parse string as an integer (got 'lots')"
    )


def test_value_out_of_range(agents: Path) -> None:
    write(agents, "coder.yaml", GOOD + "temperature: 3\n")
    assert error_of(agents) == (
        "agents/coder.yaml:5: temperature: input should be less than or equal to 2 (got 3)"
    )


def test_bad_choice_suggests_the_closest(agents: Path) -> None:
    write(agents, "coder.yaml", GOOD + "privacy: local\n")
    assert error_of(agents) == (
        "agents/coder.yaml:5: privacy: input should be 'cloud_ok', 'local_only' or 'redact' "
        "(got 'local'; did you mean 'local_only'?)"
    )


def test_wrong_type_in_a_list_names_the_item_line(agents: Path) -> None:
    write(agents, "coder.yaml", GOOD.replace("  - llamacpp", "  - 42\n  - llamacpp"))
    assert error_of(agents) == (
        "agents/coder.yaml:4: fallbacks[0]: input should be a valid string (got 42)"
    )


def test_first_value_error_by_line(agents: Path) -> None:
    write(agents, "coder.yaml", GOOD + "timeout: -1\nretries: 9\n")
    write(agents, "tester.yaml", GOOD)
    assert error_of(agents).startswith(
        "agents/coder.yaml:5: timeout: input should be greater than 0"
    )


def test_missing_required_field_points_at_the_mapping(agents: Path) -> None:
    write(
        agents, "coder.yaml", "# the coder\nfallbacks: [llamacpp:gemma3-270m]\nsystem_prompt: hi\n"
    )
    assert error_of(agents) == (
        "agents/coder.yaml:2: model: missing required field "
        "(add model: provider:model, e.g. model: ollama:qwen2.5-coder:7b)"
    )


def test_missing_system_prompt(agents: Path) -> None:
    write(agents, "coder.yaml", "\nmodel: ollama:x\n")
    assert error_of(agents) == (
        "agents/coder.yaml:2: system_prompt: missing required field "
        "(add system_prompt_file: prompts/<name>.md, or system_prompt: <text>)"
    )


def test_prompt_given_twice(agents: Path) -> None:
    write(agents, "prompts/c.md", "hi")
    write(agents, "coder.yaml", GOOD + "system_prompt_file: prompts/c.md\n")
    assert error_of(agents) == (
        "agents/coder.yaml:5: system_prompt_file: "
        "give system_prompt or system_prompt_file, not both (remove one)"
    )


def test_missing_system_prompt_file(agents: Path) -> None:
    write(agents, "coder.yaml", "model: ollama:x\n\nsystem_prompt_file: prompts/nope.md\n")
    assert error_of(agents) == (
        "agents/coder.yaml:3: system_prompt_file: file not found: agents/prompts/nope.md "
        "(the path is relative to agents/)"
    )


def test_prompt_file_path_must_be_a_string(agents: Path) -> None:
    write(agents, "coder.yaml", "model: ollama:x\nsystem_prompt_file: [a]\n")
    assert error_of(agents) == (
        "agents/coder.yaml:2: system_prompt_file: "
        "expected a file path relative to this YAML file (got ['a'])"
    )


def test_model_ref_without_colon_suggests_the_priced_model(agents: Path) -> None:
    write(agents, "coder.yaml", GOOD.replace("  - llamacpp:gemma3-270m", "  - gpt-4.1"))
    assert error_of(agents) == (
        "agents/coder.yaml:4: fallbacks[0]: model reference 'gpt-4.1' must read "
        "'provider:model' (e.g. 'openai:gpt-4.1')"
    )


def test_unknown_provider_exact_message(agents: Path) -> None:
    write(
        agents,
        "coder.yaml",
        """\
        # Writes the code.
        name: coder
        model: ollama:qwen2.5-coder:7b
        system_prompt: You write code.
        fallbacks:
          - llamacpp:gemma3-270m
          - olama:qwen2.5-coder:14b
        """,
    )
    assert error_of(agents) == (
        "agents/coder.yaml:7: fallbacks[1]: unknown provider 'olama' (did you mean 'ollama'?)"
    )


def test_unknown_provider_without_a_close_match_lists_endpoints(agents: Path) -> None:
    write(agents, "coder.yaml", GOOD.replace("model: ollama:", "model: zzz:"))
    message = error_of(agents)
    assert message.startswith("agents/coder.yaml:2: model: unknown provider 'zzz' (known: ")
    assert "lmstudio" in message
    assert message.endswith("declare others under endpoints: in providers.yaml)")


def test_cloud_model_without_price(agents: Path) -> None:
    write(agents, "coder.yaml", GOOD + "  - openai:gpt-9\n")
    assert error_of(agents) == (
        "agents/coder.yaml:5: fallbacks[1]: no price for 'openai:gpt-9'; "
        "add it under prices: in agents/providers.yaml"
    )


def test_local_model_needs_no_price(agents: Path) -> None:
    write(agents, "coder.yaml", GOOD.replace("ollama:qwen2.5-coder:7b", "ollama:anything-new"))
    assert load_config(agents_dir=agents).agents["coder"].model == "ollama:anything-new"


def test_local_only_agent_needs_a_local_model(agents: Path) -> None:
    write(
        agents,
        "coder.yaml",
        "model: anthropic:claude-haiku-4-5\nsystem_prompt: hi\nprivacy: local_only\n",
    )
    assert error_of(agents) == (
        "agents/coder.yaml:3: privacy: local_only agent has no local model in its chain "
        "(add a local fallback such as 'llamacpp:gemma3-270m')"
    )


def test_duplicate_agent_names_in_one_directory(agents: Path) -> None:
    write(agents, "coder.yaml", GOOD)
    write(agents, "coder2.yaml", "# copy\n" + GOOD + "name: coder\n")
    assert error_of(agents) == (
        "agents/coder2.yaml:6: name: agent 'coder' is already defined in agents/coder.yaml "
        "(rename one of them)"
    )


def test_duplicate_key_in_one_file(agents: Path) -> None:
    write(agents, "coder.yaml", GOOD + "model: ollama:other\n")
    assert error_of(agents) == (
        "agents/coder.yaml:5: model: duplicate key, already set on line 2 (keep one of the two)"
    )


def test_invalid_date_is_a_yaml_error_with_its_line(agents: Path) -> None:
    write(agents, "coder.yaml", GOOD + "keep_alive: 2024-13-45\n")
    assert error_of(agents) == (
        "agents/coder.yaml:5: yaml: cannot read '2024-13-45' as timestamp "
        "(check indentation, colons and quoting)"
    )


def test_non_utf8_file(agents: Path) -> None:
    (agents / "coder.yaml").write_bytes(b"model: ollama:x\nsystem_prompt: caf\xe9\n")
    assert error_of(agents) == (
        "agents/coder.yaml:2: file: not valid UTF-8 (save the file as UTF-8)"
    )


def test_path_outside_cwd_is_shown_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    directory = tmp_path / "mine"
    write(directory, "coder.yaml", GOOD + "bogus: 1\n")
    assert error_of(directory).startswith(f"{(directory / 'coder.yaml').resolve()}:5: bogus: ")


def test_agents_option_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^--agents: .*nowhere is not a directory"):
        load_config(agents_dir=tmp_path / "nowhere")


# --- providers.yaml ------------------------------------------------------------------------------


def test_providers_nested_unknown_field(agents: Path) -> None:
    write(
        agents,
        "providers.yaml",
        """\
        endpoints:
          box:
            kind: openai
            tier: local
            base_ur: http://127.0.0.1:9/v1
        """,
    )
    assert error_of(agents) == (
        "agents/providers.yaml:5: endpoints.box.base_ur: unknown field (did you mean 'base_url'?)"
    )


def test_providers_missing_kind_names_the_choices(agents: Path) -> None:
    write(agents, "providers.yaml", "endpoints:\n  box:\n    tier: local\n")
    assert error_of(agents) == (
        "agents/providers.yaml:2: endpoints.box.kind: missing required field "
        "(one of anthropic, openai, ollama, llamacpp, scripted)"
    )


def test_providers_price_key_must_be_a_reference(agents: Path) -> None:
    write(agents, "providers.yaml", "prices:\n  gpt-9: {input: 1, output: 2}\n")
    assert error_of(agents) == (
        "agents/providers.yaml:2: prices.gpt-9: price keys read 'provider:model' "
        "(e.g. 'openai:gpt-4.1')"
    )


def test_reference_model_must_be_priced(agents: Path) -> None:
    write(agents, "providers.yaml", "# savings\n\nreference_model: ollama:qwen2.5-coder:7b\n")
    assert error_of(agents) == (
        "agents/providers.yaml:3: reference_model: no price for 'ollama:qwen2.5-coder:7b'; "
        "add it under prices: in agents/providers.yaml"
    )


def test_endpoint_name_cannot_hold_a_colon(agents: Path) -> None:
    write(agents, "providers.yaml", "endpoints:\n  'a:b': {kind: openai, tier: local}\n")
    assert error_of(agents) == (
        "agents/providers.yaml:2: endpoints.a:b: endpoint names cannot contain ':' "
        "(it separates provider from model)"
    )


# --- layering ------------------------------------------------------------------------------------


def test_repo_agent_replaces_the_default_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path / "agents", "coder.yaml", "model: ollama:qwen2.5-coder:14b\nsystem_prompt: mine\n"
    )
    config = load_config(repo=tmp_path)
    coder = config.agents["coder"]
    assert coder.chain == ["ollama:qwen2.5-coder:14b"]  # default fallbacks are not merged in
    assert coder.system_prompt == "mine"
    assert coder.max_tokens == 4096  # schema default, not the packaged coder's 8192
    assert config.sources["coder"] == "agents/coder.yaml"
    assert config.agents["planner"].model == "anthropic:claude-sonnet-5-5"
    assert config.sources["planner"] == str(default_agents_dir() / "planner.yaml")


def test_agents_option_wins_over_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "agents", "coder.yaml", "model: ollama:from-repo\nsystem_prompt: r\n")
    write(tmp_path / "cli", "coder.yaml", "model: ollama:from-cli\nsystem_prompt: c\n")
    write(tmp_path / "agents", "tester.yaml", "model: ollama:repo-tester\nsystem_prompt: t\n")
    config = load_config(repo=tmp_path, agents_dir=tmp_path / "cli")
    assert config.agents["coder"].model == "ollama:from-cli"
    assert config.sources["coder"] == "cli/coder.yaml"
    assert config.agents["tester"].model == "ollama:repo-tester"


def test_name_defaults_to_stem_and_can_be_given(agents: Path) -> None:
    write(agents, "helper.yaml", GOOD)
    write(agents, "other.yaml", GOOD + "name: docs-writer\n")
    config = load_config(agents_dir=agents)
    assert {"helper", "docs-writer"} <= set(config.agents)
    assert "other" not in config.agents
    assert config.agents["docs-writer"].name == "docs-writer"


def test_providers_merge_by_name_across_layers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path / "agents",
        "providers.yaml",
        """\
        endpoints:
          box: {kind: openai, tier: local, base_url: "http://127.0.0.1:9000/v1"}
          vllm: {kind: openai, tier: local, base_url: "http://127.0.0.1:8001/v1", concurrency: 3}
        reference_model: openai:gpt-4.1
        local_cost_per_mtok: 0.05
        """,
    )
    write(tmp_path / "cli", "providers.yaml", "endpoints:\n  box2: {kind: ollama, tier: local}\n")
    write(tmp_path / "cli", "coder.yaml", "model: box:m\nfallbacks: [box2:n]\nsystem_prompt: x\n")
    trust(tmp_path / "agents")  # the repository's endpoints count once the user trusts them
    config = load_config(repo=tmp_path, agents_dir=tmp_path / "cli")
    assert config.endpoints["vllm"].base_url == "http://127.0.0.1:8001/v1"
    assert config.endpoints["vllm"].concurrency == 3
    assert config.endpoints["vllm"].models == {}  # replaced whole, not merged field by field
    assert config.endpoints["box"].base_url == "http://127.0.0.1:9000/v1"
    assert config.endpoints["box2"].kind == "ollama"
    assert config.endpoints["lmstudio"].base_url == "http://127.0.0.1:1234/v1"  # packaged
    assert config.endpoints["anthropic"].tier == "cloud"  # built in
    # The later providers file does not set these, so the repo's values stand.
    assert config.reference_model == "openai:gpt-4.1"
    assert config.local_cost_per_mtok == 0.05
    assert config.agents["coder"].chain == ["box:m", "box2:n"]


def test_price_override_and_addition(agents: Path) -> None:
    write(
        agents,
        "providers.yaml",
        """\
        prices:
          anthropic:claude-haiku-4-5: {input: 9.0, output: 19.0}
          openai:gpt-9: {input: 2.0, output: 8.0}
        """,
    )
    write(agents, "coder.yaml", GOOD + "  - openai:gpt-9\n")
    config = load_config(agents_dir=agents)
    assert config.prices["anthropic:claude-haiku-4-5"].input == 9.0
    assert config.prices["openai:gpt-9"].output == 8.0
    packaged = packaged_prices().prices
    assert config.prices["openai:gpt-4.1"] == packaged["openai:gpt-4.1"]
    assert packaged["anthropic:claude-haiku-4-5"].input != 9.0  # the packaged table is untouched
    assert config.agents["coder"].fallbacks[-1] == "openai:gpt-9"


def test_system_prompt_file_is_read_relative_to_the_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    directory = tmp_path / "deep" / "agents"
    write(directory, "prompts/helper.md", "You help.\nTwo lines.\n")
    write(directory, "helper.yaml", "model: ollama:x\nsystem_prompt_file: prompts/helper.md\n")
    assert (
        load_config(agents_dir=directory).agents["helper"].system_prompt
        == "You help.\nTwo lines.\n"
    )


def test_checkout_root_as_repo_does_not_load_defaults_twice() -> None:
    root = default_agents_dir().parent
    assert [layer.agents for layer in config_layers(root, default_agents_dir())] == [
        default_agents_dir()
    ]


# --- the shipped defaults ------------------------------------------------------------------------


def test_shipped_defaults_load_and_end_in_the_bundled_model() -> None:
    config = load_config()
    assert set(config.agents) == {
        "planner",
        "coder",
        "tester",
        "formatter",
        "reviewer",
        "quick-reviewer",
        "triage",
        "routine-reviewer",
        "deep-reviewer",
        "review-formatter",
    }
    for name, agent in config.agents.items():
        # Agents whose role the packaged model cannot do leave it out; the others end in it.
        fit = fit_chain(config, agent)
        assert fit == agent.chain, name
        if role_of(name) == "work":
            assert agent.chain[-1] == "llamacpp:gemma3-270m", name
        if name != "quick-reviewer":  # a cascade step: with no cloud model, the reviewer decides
            assert config.endpoints[agent.chain[-1].split(":")[0]].tier == "local", name
        assert len(agent.system_prompt) > 500, name
        assert agent.retries == 2
    assert config.agents["planner"].chain == [
        "anthropic:claude-sonnet-5-5",
        "openai:gpt-6.2-sol",
        "ollama:gemma4:26b",
    ]
    assert config.agents["reviewer"].chain == config.agents["planner"].chain
    assert config.agents["coder"].chain == [
        "ollama:gemma4:e4b",
        "ollama:gemma4:26b",
        "vllm:Qwen/Qwen2.5-Coder-32B-Instruct",
        "anthropic:claude-haiku-5-5",
        "llamacpp:gemma3-270m",
    ]
    assert config.agents["triage"].chain[:2] == ["anthropic:claude-haiku-5-5", "openai:gpt-6-luna"]
    assert config.agents["tester"].chain == config.agents["coder"].chain
    quick = config.agents["quick-reviewer"]
    assert quick.chain == ["anthropic:claude-haiku-5-5", "openai:gpt-6-luna"]
    assert quick.effort == "low"


def test_shipped_formatter_stays_local() -> None:
    config = load_config()
    formatter = config.agents["formatter"]
    assert formatter.privacy == "local_only"
    assert all(config.endpoints[ref.split(":")[0]].tier == "local" for ref in formatter.chain)


def test_shipped_providers() -> None:
    config = load_config()
    expected = {
        "vllm": "http://127.0.0.1:8000/v1",
        "lmstudio": "http://127.0.0.1:1234/v1",
        "llamacpp-server": "http://127.0.0.1:8080/v1",
    }
    for name, url in expected.items():
        endpoint = config.endpoints[name]
        assert (endpoint.kind, endpoint.tier, endpoint.base_url) == ("openai", "local", url)
        assert endpoint.models, name
    # The savings reference is the frontier model a user would otherwise use.
    assert config.reference_model == "anthropic:claude-sonnet-5-5"


# --- nothing but ConfigError escapes -------------------------------------------------------------

_FIELDS = [
    "name", "model", "fallbacks", "temperature", "max_tokens", "timeout", "retries", "num_ctx",
    "keep_alive", "stop", "system_prompt", "system_prompt_file", "privacy", "edit_format", "x",
]  # fmt: skip
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["ollama:x", "olama:x", "openai:gpt-9", "llamacpp:gemma3-270m", "a", ":"])
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_STRUCTURED = st.dictionaries(st.sampled_from(_FIELDS), _VALUES, max_size=6).map(
    lambda data: yaml.safe_dump(data, allow_unicode=True)
)
_TOKENS = st.lists(
    st.sampled_from([
        "model", "fallbacks", "system_prompt", "system_prompt_file", "temperature", ": ", ":",
        "\n", "  ", "- ", "[", "]", "{", "}", ",", "'", '"', "&a ", "*a", "!!int ", "!!bool ",
        "!!timestamp ", "!!binary ", "!!set ", "!!float ", "!!omap ", "!!pairs ", "!!merge ",
        "!!python/name:os.system ", "<<: ", "? ", "0x_",
        "2024-13-45", "ollama:qwen", "llamacpp:gemma3-270m", "hi", "#", "|", ">", "---\n",
        "...\n", "%YAML 1.1\n", "\t", "\x00", "é", "\ufeff", "1e999", ".nan", "~", "prompts/x.md",
    ]),
    max_size=30,
).map("".join)  # fmt: skip


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=200) | _STRUCTURED | _TOKENS)
def test_any_agent_file_gives_a_config_or_one_config_error(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    directory = tmp_path_factory.mktemp("agents")
    path = directory / "agent.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        config = load_config(agents_dir=directory)
    except ConfigError as error:
        message = str(error)
        assert "\n" not in message
        assert message.startswith(f"{path.resolve()}:")
    else:
        assert isinstance(config, OrchestrateConfig)
