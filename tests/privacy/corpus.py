"""Private strings the guard must keep off the cloud, and ordinary code it must let through.

Every item is fake but shaped exactly like the real thing. Items hold no quotes, backslashes or
newlines, so finding one in a JSON request body needs no unescaping.
"""

from __future__ import annotations

CORPUS: dict[str, tuple[str, str]] = {
    # name: (rule expected, the private text)
    "anthropic_key": ("anthropic_api_key", "sk-ant-api03-Qm7vX2pL9sK4tR8wN1yB6cH3jF5dG0aZeUoIxYq"),
    "openai_key": ("provider_api_key", "sk-proj-8Hn2Kd9Lq4Wm7Zx1Vb6Ct3Rf5Gy0Ju2Ps"),
    "openai_legacy": ("openai_token", "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"),
    "github_token": ("github_token", "ghp_R8sT2uV5wX9yZ3aB6cD1eF4gH7iJ0kL2mN5o"),
    "github_pat": ("github_token", "github_pat_11ABCDEFG0aBcDeFgHiJkL_mNoPqRsTuVwXyZ0123456789"),
    "aws_key": ("aws_access_key", "AKIAZ3QX7PLM4RT2WVNB"),
    "pem_body": ("private_key", "MIIEowIBAAKCAQEAx7YkT2nQ9pLmR4sV8wZ1bC5dF3gH6jK0"),
    "env_password": ("env_assignment", "pg-Pr0d-2024-xyzzy-Lantern"),
    "keyword_secret": ("secret_keyword", "Tr0ub4dor-3-horse-battery"),
    "entropy_string": ("base64_high_entropy_string", "q8Zr2LmX0vN7pK4tW9yB3cH6jF1sD5gA"),
    "email": ("email", "maria.gonzalez@acme-health.io"),
    "phone_intl": ("phone_number", "+44 20 7946 0958"),
    "phone_us": ("phone_number", "(415) 555-2671"),
    "card_visa": ("card_number", "4539 1488 0343 6467"),
    "card_amex": ("card_number", "378282246310005"),
    "us_ssn": ("us_ssn", "536-22-8145"),
    "uk_nino": ("uk_ni_number", "JG 10 37 42 B"),
}
"""Each item with the rule that must fire on it."""

ITEMS: tuple[str, ...] = tuple(text for _, text in CORPUS.values())


def corpus_block() -> str:
    """Every item as it would appear in real text: in a sentence, an assignment, a key file."""
    c = {name: text for name, (_, text) in CORPUS.items()}
    return "\n".join(
        [
            f"Use the key {c['anthropic_key']} for the integration test.",
            f"OpenAI fallback: {c['openai_key']} (old one: {c['openai_legacy']})",
            f"CI pushes with {c['github_token']} and releases with {c['github_pat']}.",
            f"aws_access_key_id = {c['aws_key']}",
            "-----BEGIN RSA PRIVATE KEY-----",
            c["pem_body"],
            "Rt5Yh8Uj2Ik4Ol7Pa1Sd3Fg6Hj9Kl0Zx2Cv5Bn8Mq1We4Rt7Yu0Io3Pa6Sd9",
            "-----END RSA PRIVATE KEY-----",
            f"DATABASE_PASSWORD={c['env_password']}",
            f'password = "{c["keyword_secret"]}"',
            f'signing_salt = "{c["entropy_string"]}"',
            f"Customer: Maria Gonzalez <{c['email']}>, phone {c['phone_intl']} or {c['phone_us']}.",
            f"Paid with {c['card_visa']}, refund to {c['card_amex']}.",
            f"SSN {c['us_ssn']}, NI number {c['uk_nino']}.",
        ]
    )


CLEAN_CODE = '''\
"""Content-addressed cache for build artefacts."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
PINNED_COMMIT = "9fceb02d0ae598e95dc970b74767f19372d61af8"
NAMESPACE = uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
DEFAULT_REGION = "eu-west-1"
API_KEY_ENV = "ACME_API_KEY"
TIMEOUT_MS = 1700000000000
CONTACT = "maintainers@example.com"


@dataclass
class Entry:
    digest: str
    size: int
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    tags: list[str] = field(default_factory=list)


def digest(data: bytes) -> str:
    """sha256 of `data`, hex encoded, e.g. 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae."""
    return hashlib.sha256(data).hexdigest()


def key_for(entry: Entry, version: str = "1.4.2") -> str:
    token = f"{entry.digest[:12]}-{entry.size}-{version}"
    password = get_password(entry.request_id)
    return token if password else ""


def test_digest() -> None:
    assert digest(b"foo") == "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
    assert uuid.uuid5(NAMESPACE, "x").hex != "00000000000000000000000000000000"
    assert key_for(Entry("abc", 3)) == "abc-3-1.4.2"
    assert "2024-01-15" < "2024-12-31" and 0.5 + 1e-9 > 0.5
'''
"""Ordinary code: digests, a commit id, UUIDs, an env var name, a timestamp, a reserved email."""
