"""Pydantic validation whose first error becomes one `path:line: field: message (hint)` line."""

from __future__ import annotations

import types
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from orchestrate.config.errors import Loc, config_error, did_you_mean, field_label, shorten
from orchestrate.config.yaml_lines import YamlDoc
from orchestrate.exceptions import ConfigError

M = TypeVar("M", bound=BaseModel)

# Misspelt fields first (they explain the "missing" ones), then value errors, then missing fields.
_RANK = {"extra_forbidden": 0, "missing": 2}

_MISSING_HINTS = {
    "model": "add model: provider:model, e.g. model: ollama:qwen2.5-coder:7b",
}


def validate(
    model: type[M], data: dict[Any, Any], doc: YamlDoc, extra_fields: tuple[str, ...] = ()
) -> M:
    """`model` built from `data`, or a `ConfigError` for the first problem in a fixed order.

    `extra_fields` are top-level keys handled before validation, offered in did-you-mean hints.
    """
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise first_error(error, model, doc, extra_fields) from error


def first_error(
    error: ValidationError, model: type[BaseModel], doc: YamlDoc, extra_fields: tuple[str, ...] = ()
) -> ConfigError:
    """The one error reported: by kind (see `_RANK`), then line, then pydantic's own order."""
    details = error.errors(include_url=False)
    ranked = sorted(
        range(len(details)),
        key=lambda i: (_RANK.get(details[i]["type"], 1), doc.line_of(details[i]["loc"]), i),
    )
    detail = details[ranked[0]]
    loc = detail["loc"]
    message = _message(detail, model, extra_fields if len(loc) == 1 else ())
    return config_error(doc.path, doc.line_of(loc), field_label(loc), message)


def _message(detail: ErrorDetails, model: type[BaseModel], extra_fields: tuple[str, ...]) -> str:
    loc = detail["loc"]
    kind = detail["type"]
    if kind == "extra_forbidden":
        return _unknown_field(str(loc[-1]), [*_fields_at(model, loc[:-1]), *extra_fields])
    annotation = _annotation_at(model, loc)
    if kind == "missing":
        return f"missing required field ({_missing_hint(str(loc[-1]), annotation)})"
    text = detail["msg"]
    text = text[:1].lower() + text[1:]
    if kind in ("model_type", "model_attributes_type"):
        text = "expected a mapping of fields"
    hint = f"got {shorten(detail['input'])}"
    choices = _literal_choices(annotation)
    if choices and isinstance(detail["input"], str):
        guess = did_you_mean(detail["input"], choices)
        hint += f"; did you mean {guess!r}?" if guess else ""
    return f"{text} ({hint})"


def _unknown_field(name: str, known: list[str]) -> str:
    guess = did_you_mean(name, known)
    if guess is not None:
        return f"unknown field (did you mean {guess!r}?)"
    return f"unknown field (known fields: {', '.join(sorted(known))})"


def _missing_hint(name: str, annotation: Any) -> str:
    choices = _literal_choices(annotation)
    if choices:
        return "one of " + ", ".join(choices)
    return _MISSING_HINTS.get(name, f"add {name}: to this mapping")


def _literal_choices(annotation: Any) -> list[str]:
    if get_origin(annotation) is Literal:
        return [str(arg) for arg in get_args(annotation)]
    return []


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    annotation = _annotation_at(model, loc)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _annotation_at(model: type[BaseModel], loc: Loc) -> Any:
    """The declared type of the value at `loc`, or None where the schema cannot say."""
    annotation: Any = model
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is None:
            return None
    return annotation


def _step(annotation: Any, part: int | str) -> Any:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        # `ModelInfo | None`: the non-None member is what the YAML describes.
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _step(members[0], part) if len(members) == 1 else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return field.annotation if field is not None else None
    if origin is dict:
        return get_args(annotation)[1]
    if origin is list:
        return get_args(annotation)[0]
    return None
