"""The run engine: plan, edit, check, review, commit."""
