"""`providers.yaml`: named endpoints, price overrides, the savings reference model, budgets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestrate.config.agent_file import mapping_of
from orchestrate.config.errors import config_error, field_label
from orchestrate.config.schema import ProvidersFile
from orchestrate.config.validation import validate
from orchestrate.config.yaml_lines import YamlDoc, load_yaml
from orchestrate.exceptions import ConfigError
from orchestrate.models.registry import split_ref

PROVIDERS_FILE = "providers.yaml"
"""The one file in an agents directory that is not an agent."""


@dataclass(frozen=True)
class LoadedProviders:
    """A providers file with its document, for line numbers in later checks."""

    file: ProvidersFile
    doc: YamlDoc

    def sets(self, field: str) -> bool:
        """Whether the file gives `field` itself rather than leaving the default."""
        return field in self.file.model_fields_set


def load_providers_file(path: Path) -> LoadedProviders:
    """Parse and validate a providers file; an empty one (comments only) changes nothing."""
    doc = load_yaml(path)
    if doc.data is None:
        return LoadedProviders(ProvidersFile(), doc)
    fields = mapping_of(doc, "endpoints:, prices:, reference_model:, budget: and privacy:")
    loaded = LoadedProviders(validate(ProvidersFile, fields, doc), doc)
    for name in loaded.file.endpoints:
        if ":" in name:
            message = "endpoint names cannot contain ':' (it separates provider from model)"
            raise _error(doc, ("endpoints", name), message)
    for ref in loaded.file.prices:
        try:
            split_ref(ref)
        except ConfigError as error:
            message = "price keys read 'provider:model' (e.g. 'openai:gpt-4.1')"
            raise _error(doc, ("prices", ref), message) from error
    return loaded


def _error(doc: YamlDoc, loc: tuple[str, ...], message: str) -> ConfigError:
    return config_error(doc.path, doc.line_of(loc), field_label(loc), message)
