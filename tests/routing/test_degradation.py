"""What counts as a degradation is decided from declared facts: role fitness, endpoint kind and
tier, and the agent's own first choice; never from a model's name."""

from __future__ import annotations

from orchestrate.config.schema import BUILTIN_ENDPOINTS, AgentConfig, OrchestrateConfig
from orchestrate.events import AttemptStarted, EventBus, RoleDegraded
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import AttemptRecord
from orchestrate.routing.degradation import DegradationWatch, degradation, degraded_lines

GEMMA = "llamacpp:gemma3-270m"
OLLAMA = "ollama:qwen2.5-coder:7b"
HAIKU = "anthropic:claude-haiku-4-5"
SONNET = "anthropic:claude-sonnet-5-5"
OPENAI = "openai:gpt-5.2"


def _agent(name: str, *chain: str) -> AgentConfig:
    return AgentConfig(name=name, model=chain[0], fallbacks=list(chain[1:]), system_prompt="x")


CONFIG = OrchestrateConfig(
    agents={
        agent.name: agent
        for agent in (
            _agent("planner", SONNET, GEMMA),
            _agent("coder", OLLAMA, HAIKU, GEMMA),
            _agent("reviewer", GEMMA),
            _agent("tester", SONNET, OPENAI),
            _agent("formatter", GEMMA, OLLAMA),
        )
    },
    endpoints=dict(BUILTIN_ENDPOINTS),
    prices=packaged_prices().prices,
    reference_model=SONNET,
)


def test_a_first_choice_is_never_a_degradation_unless_it_is_unfit_for_the_role() -> None:
    assert degradation(CONFIG, "coder", OLLAMA) is None
    assert degradation(CONFIG, "formatter", GEMMA) is None  # chosen, and fit to work
    unfit = degradation(CONFIG, "reviewer", GEMMA)  # chosen, but it cannot review
    assert unfit is not None and "unfit for the reviewer's work" in unfit.reason


def test_the_embedded_model_where_another_came_first_is_a_degradation() -> None:
    found = degradation(CONFIG, "coder", GEMMA)
    assert found is not None
    assert found.line() == (
        f"coder now on {GEMMA}: the embedded model on this machine's CPU (slow, small), "
        f"not {OLLAMA}"
    )


def test_a_paid_model_where_a_free_one_came_first_is_a_degradation() -> None:
    found = degradation(CONFIG, "coder", HAIKU)
    assert found is not None
    assert found.reason == f"a paid cloud model, where {OLLAMA} (local, free) was the first choice"
    # A cloud agent moving to another cloud model was always going to pay.
    assert degradation(CONFIG, "tester", OPENAI) is None
    # A local agent moving to another local model costs nothing more.
    assert degradation(CONFIG, "formatter", OLLAMA) is None


def test_a_planner_on_a_model_unfit_to_plan_is_degraded_by_the_facts() -> None:
    found = degradation(CONFIG, "planner", GEMMA)
    assert found is not None and "cannot plan" in found.reason


def test_the_report_lines_come_from_the_ledger_rows_once_each() -> None:
    def row(agent: str, model: str, outcome: str = "ok") -> AttemptRecord:
        provider = model.split(":", maxsplit=1)[0]
        tier = "cloud" if provider in ("anthropic", "openai") else "local"
        return AttemptRecord.model_validate(
            {
                "run_id": "r",
                "agent": agent,
                "provider": provider,
                "model": model,
                "tier": tier,
                "outcome": outcome,
            }
        )

    rows = [
        row("coder", OLLAMA, "move_on"),
        row("coder", HAIKU),
        row("coder", HAIKU),
        row("planner", GEMMA, "skipped"),  # skipped: never asked, so never degraded
    ]
    assert degraded_lines(CONFIG, rows) == [
        f"coder now on {HAIKU}: a paid cloud model, where {OLLAMA} (local, free) was the first "
        "choice"
    ]


def test_the_watch_says_it_once_per_run_agent_and_model() -> None:
    bus = EventBus()
    said: list[RoleDegraded] = []
    bus.subscribe(DegradationWatch(CONFIG, bus))
    bus.subscribe(lambda event: said.append(event) if isinstance(event, RoleDegraded) else None)
    for run_id, model in (("r1", OLLAMA), ("r1", HAIKU), ("r1", HAIKU), ("r2", HAIKU)):
        bus.emit(AttemptStarted(run_id=run_id, agent="coder", model=model, attempt=1))
    assert [(event.run_id, event.model) for event in said] == [("r1", HAIKU), ("r2", HAIKU)]
