"""Choosing a model for each call: fallback chains, retries, cooldowns."""
