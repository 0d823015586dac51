"""Model retirements, read from the anthropic SDK's own table (`anthropic/_data/deprecated_models.py`).

The table and the SDK's list of model names (`anthropic/types/model.py`) are plain data modules
that import only `typing`; they are loaded from the installed SDK's files on first use, without
`import anthropic`, which builds every SDK type (1-2 s) and made `orchestrate config check` slow.

A model within `WARN_DAYS` of its retirement gets a warning; a retired one is refused, naming its
successor: the newest model of the same line (sonnet, opus, haiku...) the SDK lists that is not
itself being retired. Prices of retired models stay in the price table, so old ledgers still price.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Literal, get_args

WARN_DAYS = 60
"""Days before a retirement that configurations naming the model are warned."""

_ORDINAL = re.compile(r"(\d+)(st|nd|rd|th)")


@dataclass(frozen=True)
class Retirement:
    """What to say about a model the SDK lists as deprecated."""

    verdict: Literal["warn", "refuse"]
    on: dt.date
    successor: str | None

    def message(self, ref: str) -> str:
        """One line naming the date and what to use instead."""
        instead = f"use anthropic:{self.successor}" if self.successor else "choose a current model"
        if self.verdict == "refuse":
            return f"{ref} was retired on {self.on:%Y-%m-%d}; {instead}"
        return f"{ref} retires on {self.on:%Y-%m-%d}; {instead} before then"


def _sdk_module(relative: str) -> ModuleType:
    """One of the anthropic SDK's data modules, executed alone under a private name."""
    # find_spec on a top-level name locates the package without executing its __init__.
    spec = importlib.util.find_spec("anthropic")
    locations = spec.submodule_search_locations if spec else None
    if not locations:
        raise ModuleNotFoundError("anthropic is not installed: reinstall orchestrate")
    path = Path(next(iter(locations)), relative)
    module_spec = importlib.util.spec_from_file_location(f"_orchestrate_sdk_{path.stem}", path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load the anthropic SDK's {path}: reinstall orchestrate")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


@cache
def deprecated_models() -> dict[str, str]:
    """The SDK's `DEPRECATED_MODELS`: model name → end-of-life date as the SDK writes it."""
    table: dict[str, str] = _sdk_module("_data/deprecated_models.py").DEPRECATED_MODELS
    return table


def retirement_date(name: str) -> dt.date | None:
    """When the SDK says `name` reaches end of life ("November 30th, 2026"), if it says."""
    text = deprecated_models().get(name)
    if text is None:
        return None
    return dt.datetime.strptime(_ORDINAL.sub(r"\1", text), "%B %d, %Y").date()


def successor(name: str) -> str | None:
    """The newest model of the same line that the SDK lists and is not retiring."""
    line = name.split("-")[1] if name.count("-") >= 1 else name
    # The SDK lists its models newest first.
    for candidate in _known_models():
        if candidate.split("-")[1:2] == [line] and candidate not in deprecated_models():
            return candidate
    return None


@cache
def _known_models() -> list[str]:
    names: list[str] = []
    for arg in get_args(_sdk_module("types/model.py").Model):
        names.extend(str(value) for value in get_args(arg))
    return names


def retirement(name: str, today: dt.date) -> Retirement | None:
    """The warning or refusal due for an Anthropic model today; None if it is not retiring soon."""
    on = retirement_date(name)
    if on is None:
        return None
    if today >= on:
        return Retirement("refuse", on, successor(name))
    if (on - today).days <= WARN_DAYS:
        return Retirement("warn", on, successor(name))
    return None
