"""Where check commands run: a bubblewrap sandbox or a plain local process, always with a
minimal environment, and with the run's worktree first on Python's import path."""
