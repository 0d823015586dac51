"""A loopback stand-in for Ollama's native API that the real `ollama` SDK can talk to.

Serves `POST /api/chat` (one JSON object, or NDJSON lines when the body asks to stream),
`GET /api/tags` (installed models), `GET /api/ps` (loaded models), `POST /api/show` (a model's
facts, its trained context length among them) and `POST /api/pull`.
A stream sends one line per word, each its own chunk, then a final `done: true` line carrying the
counts, so `Reply.cut_after_chunks=1` cuts the stream after its first token.
Errors are `{"error": "..."}` with the status, as Ollama sends them; a 200 reply with `error` set
streams its text and then an error line, as Ollama does when the runner fails mid-answer.
A reply's `thinking` comes back in `message.thinking` lines before the answer unless the request
says `think: false`; `think: true` to a model in `no_thinking` is a 400, as Ollama answers it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from orchestrate.testing.fake_server import FakeServer, RecordedRequest, Reply, Response

_WORDS = re.compile(r"\s*\S+|\s+$")
NO_THINKING = ("qwen3-coder", "qwen2.5-coder")
"""Models Ollama serves without thinking (their parser or template declares none)."""
_CREATED_AT = "2025-06-01T12:00:00.000000Z"
_DIGEST = "sha256:" + "0" * 64


def tagged(name: str) -> str:
    """`qwen2.5-coder` → `qwen2.5-coder:latest`: Ollama's implicit tag, so names compare equal."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def not_found_message(model: str) -> str:
    """What Ollama says when a chat names a model that is not installed."""
    return f'model "{model}" not found, try pulling it first'


class FakeOllama(FakeServer):
    """Answers chats from the reply script; model listings from `installed` and `loaded`."""

    def __init__(self, installed: list[str] | None = None, loaded: list[str] | None = None) -> None:
        super().__init__()
        self.installed: list[str] | None = installed
        """Models `/api/tags` lists; None accepts any model in a chat (and lists none)."""
        self.loaded: list[str] = list(loaded or [])
        """Models `/api/ps` reports as loaded."""
        self.context_length: int | None = None
        """Context window `/api/ps` reports for each loaded model (newer Ollama sends it)."""
        self.trained_length: int | None = None
        """`<arch>.context_length` in `/api/show`'s `model_info`: Ollama cuts a larger `num_ctx`
        down to it. None leaves it out."""
        self.no_thinking: tuple[str, ...] = NO_THINKING
        """Model name prefixes that cannot think."""

    def reset(self) -> None:
        """Forget requests, script and model lists, so one server can serve many tests."""
        with self._lock:
            self.requests.clear()
            self.script.clear()
            self.unscripted.clear()
        self.default = None
        self.installed, self.loaded, self.context_length = None, [], None
        self.trained_length = None

    def handle(self, request: RecordedRequest) -> Response:
        """Route one request to the endpoint it names."""
        route = (request.method, request.path.split("?", 1)[0])
        if route == ("POST", "/api/chat"):
            return self._chat(request)
        if route == ("GET", "/api/tags"):
            return Response.json({"models": [_listed(name) for name in self.installed or []]})
        if route == ("GET", "/api/ps"):
            return Response.json({"models": [self._running(name) for name in self.loaded]})
        if route == ("POST", "/api/pull"):
            return self._pull(request)
        if route == ("POST", "/api/show"):
            return self._show(request)
        return Response(
            status=404, body=b"404 page not found", headers={"content-type": "text/plain"}
        )

    def is_installed(self, model: str) -> bool:
        """Whether a chat naming `model` would find it."""
        return self.installed is None or tagged(model) in {tagged(n) for n in self.installed}

    def _chat(self, request: RecordedRequest) -> Response:
        params: dict[str, Any] = request.json()
        model = str(params.get("model", ""))
        if not self.is_installed(model):
            # Real Ollama answers before queueing anything, so no scripted reply is consumed.
            return Response.json({"error": not_found_message(model)}, status=404)
        if params.get("think") is True and model.startswith(self.no_thinking):
            # Real Ollama checks the model's capabilities before queueing anything.
            return Response.json({"error": f'"{model}" does not support thinking'}, status=400)
        reply = self.next_reply(request)
        if params.get("think") is False:
            reply = replace(reply, thinking="")
        headers = dict(reply.headers)
        if reply.status != 200:
            body = json.dumps({"error": reply.error}).encode()
            headers = {"content-type": "application/json; charset=utf-8", **headers}
            return Response(status=reply.status, body=body, headers=headers, delay_s=reply.delay_s)
        streaming = params.get("stream", True) is not False and not reply.unstreamed
        if reply.malformed:
            broken = b'{"model": "' + model.encode() + b'", "message": {"role": "assistant", "con'
            kind = "application/x-ndjson" if streaming else "application/json; charset=utf-8"
            headers = {"content-type": kind, **headers}
            chunks = [broken + b"\n"] if streaming else None
            return Response(body=broken, headers=headers, chunks=chunks, delay_s=reply.delay_s)
        reported = reply.model or model
        if not streaming:
            message = _message(reply.text)
            if reply.thinking:
                message["thinking"] = reply.thinking
            final = {**_final(reply, reported), "message": message}
            headers = {"content-type": "application/json; charset=utf-8", **headers}
            return Response(body=json.dumps(final).encode(), headers=headers, delay_s=reply.delay_s)
        return Response(
            headers={"content-type": "application/x-ndjson", **headers},
            chunks=_lines(reply, reported),
            cut_after_chunks=reply.cut_after_chunks,
            delay_s=reply.delay_s,
        )

    def _pull(self, request: RecordedRequest) -> Response:
        params: dict[str, Any] = request.json()
        model = str(params.get("model", ""))
        if self.installed is not None and not self.is_installed(model):
            self.installed.append(tagged(model))
        steps = ["pulling manifest", "verifying sha256 digest", "writing manifest", "success"]
        if params.get("stream", True) is False:
            return Response.json({"status": "success"})
        lines = [json.dumps({"status": step}).encode() + b"\n" for step in steps]
        return Response(headers={"content-type": "application/x-ndjson"}, chunks=lines)

    def _show(self, request: RecordedRequest) -> Response:
        """`/api/show` as Ollama documents it (docs/api.md), with the facts tests need."""
        model = str(request.json().get("model", ""))
        if not self.is_installed(model):
            return Response.json({"error": f"model '{model}' not found"}, status=404)
        info: dict[str, Any] = {
            "general.architecture": "qwen2",
            "general.parameter_count": 7_615_616_512,
        }
        if self.trained_length is not None:
            info["qwen2.context_length"] = self.trained_length
        listed = _listed(model)
        return Response.json(
            {
                "modelfile": f"FROM {tagged(model)}\n",
                "parameters": "",
                "template": "{{ .Prompt }}",
                "details": listed["details"],
                "model_info": info,
                "capabilities": ["completion"],
                "modified_at": _CREATED_AT,
            }
        )

    def _running(self, name: str) -> dict[str, Any]:
        entry = {**_listed(name), "expires_at": "2099-01-01T00:00:00Z", "size_vram": 4_000_000_000}
        if self.context_length is not None:
            entry["context_length"] = self.context_length
        return entry


def _message(content: str) -> dict[str, str]:
    return {"role": "assistant", "content": content}


def _final(reply: Reply, model: str) -> dict[str, Any]:
    """The closing object: Ollama's counts and timings (nanoseconds)."""
    prompt = (
        reply.input_tokens if reply.prompt_tokens_reported is None else reply.prompt_tokens_reported
    )
    return {
        "model": model,
        "created_at": _CREATED_AT,
        "message": _message(""),
        "done_reason": "stop",
        "done": True,
        "total_duration": 1_500_000_000,
        "load_duration": 20_000_000,
        "prompt_eval_count": prompt,
        "prompt_eval_duration": 300_000_000,
        "eval_count": reply.output_tokens,
        "eval_duration": 1_100_000_000,
    }


def _lines(reply: Reply, model: str) -> Iterator[bytes]:
    """The answer as Ollama streams it: thinking then answer, one NDJSON line per word, then the
    final line."""
    for piece in _WORDS.findall(reply.thinking):
        message = {"role": "assistant", "content": "", "thinking": piece}
        line = {"model": model, "created_at": _CREATED_AT, "message": message, "done": False}
        yield json.dumps(line).encode() + b"\n"
    for piece in _WORDS.findall(reply.text):
        line = {
            "model": model,
            "created_at": _CREATED_AT,
            "message": _message(piece),
            "done": False,
        }
        yield json.dumps(line).encode() + b"\n"
    if reply.error:
        yield json.dumps({"error": reply.error}).encode() + b"\n"
        return
    yield json.dumps(_final(reply, model)).encode() + b"\n"


def _listed(name: str) -> dict[str, Any]:
    """One `/api/tags` entry."""
    return {
        "name": tagged(name),
        "model": tagged(name),
        "modified_at": _CREATED_AT,
        "size": 4_683_087_332,
        "digest": _DIGEST,
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": "qwen2",
            "families": ["qwen2"],
            "parameter_size": "7.6B",
            "quantization_level": "Q4_K_M",
        },
    }
