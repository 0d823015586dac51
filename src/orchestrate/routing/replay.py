"""Answers a run already paid for, kept so a resumed run never pays for them twice.

Each successful response is appended to the run's responses file (flushed and synced) once its
ledger row is written, under a key naming the agent, the model and the exact request: a kill
between the two means paying again, never an answer replayed that the ledger never recorded.
A resumed run's router asks here first: the n-th identical request gets the n-th stored answer.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel, ValidationError

from orchestrate.ledger.store import AttemptRecord, Outcome
from orchestrate.models.base import Model, ModelRequest, ModelResponse


class _Entry(BaseModel):
    key: str
    response: ModelResponse


def request_key(agent: str, model_ref: str, request: ModelRequest) -> str:
    """A stable hash of who asked which model what."""
    blob = json.dumps([agent, model_ref, request.model_dump(mode="json")], sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ReplayStore:
    """The responses of one run, on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stored: dict[str, list[ModelResponse]] = defaultdict(list)
        self._used: dict[str, int] = defaultdict(int)
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if text and not text.endswith("\n"):
            with path.open("a", encoding="utf-8") as out:
                out.write("\n")  # end a line cut short, so the next entry starts clean
        for line in text.splitlines():
            try:
                entry = _Entry.model_validate_json(line)
            except ValidationError:
                continue  # the last line of a killed process may be cut short
            self._stored[entry.key].append(entry.response)

    def take(self, agent: str, model_ref: str, request: ModelRequest) -> ModelResponse | None:
        """The stored answer to this request not yet replayed in this process, if any."""
        key = request_key(agent, model_ref, request)
        index = self._used[key]
        if index >= len(self._stored[key]):
            return None
        self._used[key] = index + 1
        return self._stored[key][index]

    def put(
        self, agent: str, model_ref: str, request: ModelRequest, response: ModelResponse
    ) -> None:
        """Keep a fresh answer, durably, before anyone acts on it."""
        key = request_key(agent, model_ref, request)
        self._stored[key].append(response)
        self._used[key] = len(self._stored[key])
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(_Entry(key=key, response=response).model_dump_json() + "\n")
            out.flush()
            os.fsync(out.fileno())


def replayed_record(
    run_id: str,
    agent: str,
    model: Model,
    response: ModelResponse,
    *,
    outcome: Outcome,
    attempt: int,
) -> AttemptRecord:
    """The ledger row of a replayed answer: free, and marked so (the paid row stays as it was)."""
    return AttemptRecord(
        run_id=run_id,
        agent=agent,
        provider=model.provider,
        model=model.ref,
        answered_by=response.model,
        tier=model.tier,
        attempt=attempt,
        outcome=outcome,
        replayed=True,
        detail="replayed",
    )
