"""Whether a raw JSON schema already qualifies for OpenAI's strict structured-output mode.

Requests built from a pydantic type go through the SDK's own strict conversion instead
(`openai.lib.type_to_response_format_param`); this only judges schemas given as plain dicts.
"""

from __future__ import annotations

from typing import Any, cast

from openai.lib import type_to_response_format_param
from openai.types.shared_params import ResponseFormatJSONSchema
from pydantic import BaseModel


def strict_format(output_type: type[BaseModel]) -> ResponseFormatJSONSchema:
    """The SDK's own strict conversion of a pydantic type: every property required (defaults
    included), objects closed, `strict: true`."""
    converted = cast(ResponseFormatJSONSchema, type_to_response_format_param(output_type))
    assert converted["json_schema"].get("strict") is True, "the SDK's strict conversion changed"
    return converted


_STRICT_UNSUPPORTED = frozenset(
    {
        "allOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
        "patternProperties",
        "unevaluatedProperties",
        "propertyNames",
        "minProperties",
        "maxProperties",
    }
)
"""JSON Schema keywords OpenAI's strict structured-output mode rejects."""


def strict_compatible(schema: Any) -> bool:
    """Whether OpenAI's strict mode accepts a schema: every object closed with all properties
    required, and no keyword strict mode rejects. Other schemas are sent non-strict (best effort)."""
    if not isinstance(schema, dict):
        return True
    if _STRICT_UNSUPPORTED & schema.keys():
        return False
    if schema.get("type") == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is not False:
            return False
        if set(schema.get("required", ())) != set(properties):
            return False
    return all(strict_compatible(child) for child in _subschemas(schema))


def _subschemas(schema: dict[str, Any]) -> list[Any]:
    children: list[Any] = []
    for key in ("properties", "$defs", "definitions"):
        children.extend(schema.get(key, {}).values())
    for key in ("anyOf", "prefixItems"):
        children.extend(schema.get(key, ()))
    items = schema.get("items")
    children.extend(items if isinstance(items, list) else [items])
    return children
