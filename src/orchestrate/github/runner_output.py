"""Everything a review writes outside GitHub's API: the job summary, workflow-command warnings,
step outputs and the console. Each is masked before it is written, whatever wrote the text.

GitHub's runners mask registered secrets in logs and the job summary, but only those it knows of;
a key a model echoed, or one set outside `secrets`, would pass. So nothing leaves unmasked.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from orchestrate.privacy.masking import mask_keys

_COMMAND_START = re.compile(r"^(\s*)::", re.MULTILINE)


def mask(text: str, env: Mapping[str, str]) -> str:
    """`text` with our keys masked, as held by the process and by `env` (they can differ when a
    review runs in-process with its own environment)."""
    masked = mask_keys(text)
    return masked if env is os.environ else mask_keys(masked, env)


def command_data(text: str) -> str:
    """`text` escaped as the data of a workflow command, so it stays one command: `%`, CR and LF
    encoded as actions/toolkit's `escapeData` does
    (https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def inert_console(text: str) -> str:
    """`text` safe to print in a job log: a line starting with `::` would be read as a workflow
    command (https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands),
    so it is indented by one space."""
    return _COMMAND_START.sub(r" \1::", text)


class RunnerOutput:
    """Writes to the Actions runner named by `env` (and to the console), masked."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    @property
    def in_actions(self) -> bool:
        """Running as a GitHub Actions step."""
        return self.env.get("GITHUB_ACTIONS") == "true"

    def say(self, text: str) -> None:
        """A line (or more) for the console and the job log."""
        print(inert_console(mask(text, self.env)))

    def warning(self, text: str) -> None:
        """A warning annotation in Actions; a plain line elsewhere."""
        masked = mask(text, self.env)
        print(f"::warning::{command_data(masked)}" if self.in_actions else f"warning: {masked}")

    def job_summary(self, markdown: str) -> bool:
        """Append to the job summary; False when there is none (not running in Actions)."""
        path = self.env.get("GITHUB_STEP_SUMMARY")
        if not path:
            return False
        with Path(path).open("a", encoding="utf-8") as sink:
            sink.write(mask(markdown, self.env).rstrip("\n") + "\n")
        return True

    def outputs(self, values: Mapping[str, str]) -> None:
        """Step outputs (one line each) when the step has an output file."""
        path = self.env.get("GITHUB_OUTPUT")
        if not path:
            return
        with Path(path).open("a", encoding="utf-8") as sink:
            for name, value in values.items():
                line = mask(value, self.env).replace("\r", " ").replace("\n", " ")
                sink.write(f"{name}={line}\n")
