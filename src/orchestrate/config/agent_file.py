"""One `agents/<name>.yaml`: parsed, validated, its system prompt read in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrate.config.errors import TOP_LEVEL, config_error, display_path, shorten
from orchestrate.config.schema import AgentConfig
from orchestrate.config.validation import validate
from orchestrate.config.yaml_lines import YamlDoc, load_yaml
from orchestrate.exceptions import ConfigError

PROMPT_FILE = "system_prompt_file"
"""Key naming a prompt file relative to the YAML; read into `system_prompt`."""


@dataclass(frozen=True)
class LoadedAgent:
    """An agent together with the document it came from, so later checks can name lines."""

    config: AgentConfig
    doc: YamlDoc

    @property
    def path(self) -> Path:
        """The agent's YAML file."""
        return self.doc.path


def load_agent_file(path: Path) -> LoadedAgent:
    """Parse and validate one agent file; `name` defaults to the file's stem."""
    doc = load_yaml(path)
    fields = mapping_of(doc, "an agent (model:, fallbacks:, system_prompt_file: ...)")
    has_file, has_inline = PROMPT_FILE in fields, "system_prompt" in fields
    prompt_ref = fields.pop(PROMPT_FILE, None)
    fields.setdefault("name", path.stem)
    # Placeholder: where the prompt comes from is checked once the fields themselves are valid.
    fields.setdefault("system_prompt", "")
    config = validate(AgentConfig, fields, doc, extra_fields=(PROMPT_FILE,))
    if has_file and has_inline:
        message = "give system_prompt or system_prompt_file, not both (remove one)"
        raise config_error(path, doc.line_of((PROMPT_FILE,)), PROMPT_FILE, message)
    if not has_file and not has_inline:
        message = (
            "missing required field "
            "(add system_prompt_file: prompts/<name>.md, or system_prompt: <text>)"
        )
        raise config_error(path, doc.line_of(()), "system_prompt", message)
    if has_file:
        config = config.model_copy(update={"system_prompt": _read_prompt(doc, prompt_ref)})
    return LoadedAgent(config, doc)


def mapping_of(doc: YamlDoc, what: str) -> dict[Any, Any]:
    """The document's top-level mapping (copied), or an error saying what it should hold."""
    if not isinstance(doc.data, dict):
        found = "an empty file" if doc.data is None else f"a {type(doc.data).__name__}"
        message = f"expected a mapping describing {what} (found {found})"
        raise config_error(doc.path, doc.line_of(()), TOP_LEVEL, message)
    return dict(doc.data)


def _read_prompt(doc: YamlDoc, ref: object) -> str:
    line = doc.line_of((PROMPT_FILE,))
    if not isinstance(ref, str) or not ref.strip():
        message = f"expected a file path relative to this YAML file (got {shorten(ref)})"
        raise config_error(doc.path, line, PROMPT_FILE, message)
    target = doc.path.parent / ref
    try:
        return target.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise _prompt_error(doc, line, f"file not found: {display_path(target)}") from error
    except OSError as error:
        message = f"cannot read {display_path(target)}: {error.strerror}"
        raise _prompt_error(doc, line, message) from error
    except ValueError as error:  # not UTF-8, or a NUL byte in the path
        message = f"cannot read {shorten(ref)} as a UTF-8 text file"
        raise _prompt_error(doc, line, message) from error


def _prompt_error(doc: YamlDoc, line: int, message: str) -> ConfigError:
    hint = f"(the path is relative to {display_path(doc.path.parent)}/)"
    return config_error(doc.path, line, PROMPT_FILE, f"{message} {hint}")
