"""The interactive terminal app: task → plan → live run → diff and review, over the same engine."""
