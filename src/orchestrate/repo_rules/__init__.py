"""The repository's own instructions for coding agents: AGENTS.md (else CLAUDE.md, else
.github/copilot-instructions.md), found, trusted or not, fitted to a budget, and turned into
checks."""
