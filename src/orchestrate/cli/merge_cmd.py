"""`orchestrate merge-reports`: the JSON reports of several `--repos` runs (a workflow's matrix
jobs, one repository each) as one report with a row per repository, for a job summary."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from orchestrate.exceptions import ConfigError
from orchestrate.fleet.report import (
    FleetReport,
    merge_fleet_reports,
    render_fleet_json,
    render_fleet_markdown,
)


def _read(path: Path) -> FleetReport:
    try:
        return FleetReport.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist; pass the report.json files to merge") from None
    except (OSError, UnicodeDecodeError, ValidationError):
        raise ConfigError(
            f"{path} is not a report of `orchestrate run --repos ... --json`; pass those only"
        ) from None


def merge_reports(paths: list[Path], as_json: bool) -> None:
    """Print the merged report (Markdown, or JSON with `as_json`)."""
    if not paths:
        raise ConfigError("no report to merge; pass one or more report.json files")
    merged = merge_fleet_reports([_read(path) for path in paths])
    print(render_fleet_json(merged) if as_json else render_fleet_markdown(merged), end="")
