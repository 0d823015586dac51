"""Privacy: secrets and personal data never reach a cloud model, and our keys never reach output."""

from orchestrate.config.schema import PrivacySettings
from orchestrate.privacy.guard import PrivacyDecision, PrivacyGuard
from orchestrate.privacy.masking import mask_keys, watch_key_envs
from orchestrate.privacy.scanner import Finding, Scanner

__all__ = [
    "Finding",
    "PrivacyDecision",
    "PrivacyGuard",
    "PrivacySettings",
    "Scanner",
    "mask_keys",
    "watch_key_envs",
]
