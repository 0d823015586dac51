"""Widgets of the orchestrate TUI."""
