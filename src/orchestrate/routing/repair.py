"""Structured output: parse an answer against its type, and ask once more when it does not fit."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from orchestrate.models.base import Message, ModelRequest

T = TypeVar("T", bound=BaseModel)


def parse_output(output_type: type[T] | None, text: str) -> tuple[T | None, ValidationError | None]:
    """The answer as `output_type` (None when free text was asked), or the validation error."""
    if output_type is None:
        return None, None
    try:
        return output_type.model_validate_json(text), None
    except ValidationError as error:
        return None, error


def repair_request(request: ModelRequest, text: str, error: ValidationError) -> ModelRequest:
    """The same request with the invalid answer and what was wrong with it appended."""
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in error.errors()[:10]
    )
    repair = (
        f"Your answer did not match the required JSON schema: {problems}. "
        "Reply again with only the corrected JSON document."
    )
    turns = (
        *request.messages,
        Message(role="assistant", content=text),
        Message(role="user", content=repair),
    )
    return request.model_copy(update={"messages": turns})
