"""Whatever a repository's pipeline file holds, loading it gives a pipeline or one clear line."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from orchestrate.exceptions import ConfigError
from orchestrate.review.pipeline_config import PipelineConfig, load_pipeline_file

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-5, max_value=10**7)
    | st.text(max_size=12)
    | st.sampled_from(["triage", "routine", "deep", "format", "post", "routine-reviewer", "x"])
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
_STEP = st.fixed_dictionaries(
    {"step": st.sampled_from(["triage", "routine", "deep", "format", "post", "review"])},
    optional={"agent": st.sampled_from(["triage", "routine-reviewer", "", "nobody"])},
)
_DOCS = st.fixed_dictionaries(
    {},
    optional={
        "name": _SCALARS,
        "steps": st.lists(_STEP, max_size=6) | _VALUES,
        "limits": st.dictionaries(
            st.sampled_from(["max_files", "max_cloud_tokens", "max_file_tokens", "max_filez"]),
            _SCALARS,
            max_size=3,
        )
        | _VALUES,
        "extra": _VALUES,
    },
)


def _load(text: str) -> PipelineConfig | ConfigError:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pipelines" / "pr-review.yaml"
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
        try:
            return load_pipeline_file(path)
        except ConfigError as error:
            return error


def _one_line(result: PipelineConfig | ConfigError) -> None:
    if isinstance(result, ConfigError):
        message = str(result)
        assert "\n" not in message
        assert "pr-review.yaml" in message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_DOCS)
# Found by this test: a key that is a line break made the field label, and so the error, two lines.
@example({"limits": {"\n": 0}})
def test_structured_pipeline_documents_load_or_fail_in_one_line(doc: dict[str, Any]) -> None:
    _one_line(_load(yaml.safe_dump(doc)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_arbitrary_text_loads_or_fails_in_one_line(text: str) -> None:
    _one_line(_load(text))
