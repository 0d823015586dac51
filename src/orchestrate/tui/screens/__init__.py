"""Screens of the orchestrate TUI."""
