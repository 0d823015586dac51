"""orchestrate: cloud models plan and review, local models write the code."""

__version__ = "0.1.0"
