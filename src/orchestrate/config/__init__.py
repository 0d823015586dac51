"""Agent, endpoint and price settings: YAML files validated by pydantic."""
