"""Credentials detect-secrets misses where people leave them: tokens by their documented prefixes
wherever they stand (not only in a config line), AWS secret keys with no keyword beside them,
passwords written in prose, and `.netrc` entries.

Each rule is a pattern whose `v` group is the secret, plus a check that keeps ordinary code out.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from orchestrate.privacy.rules import PiiRule

# npm tokens are `npm_`, then base62 ending in a 6-character CRC32, as GitHub's tokens are: 36
# characters (https://github.blog/2021-09-23-announcing-npms-new-access-token-format/;
# https://docs.npmjs.com/about-access-tokens/); detect-secrets knows them only after
# `:_authToken=` in an .npmrc.
_NPM = re.compile(r"(?<![A-Za-z0-9_])(?P<v>npm_[A-Za-z0-9]{36})(?![A-Za-z0-9])")
# Stripe secret and restricted keys, live or test (https://docs.stripe.com/keys), whole: they
# run longer than the 24 characters detect-secrets' pattern stops at.
_STRIPE = re.compile(r"(?<![A-Za-z0-9])(?P<v>(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{20,247})")
# Slack app-level tokens (https://docs.slack.dev/authentication/tokens), which start `xapp-`
# (https://developer.salesforce.com/docs/platform/salesforce-slack-sdk/guide/meta_slackapp.html)
# and which detect-secrets' `xox.-` pattern does not cover.
_SLACK_APP = re.compile(r"(?<![A-Za-z0-9])(?P<v>xapp-\d-[A-Z0-9]+-\d+-[a-f0-9]{32,})")
# An AWS secret access key is 40 base64 characters
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html): a run of
# exactly that, alone, mixed-case with digits and as random as a key, is one even with no name.
_AWS_SECRET = re.compile(
    r"(?P<v>[A-Za-z0-9/+](?<![A-Za-z0-9/+=_.-][A-Za-z0-9/+])[A-Za-z0-9/+]{39})(?![A-Za-z0-9/+=_.-])"
)
# `machine host login me password s3cret` (or `default ... password ...`), on one line or many,
# as `.netrc` has it (https://www.gnu.org/software/inetutils/manual/html_node/The-_002enetrc-file.html).
_NETRC = re.compile(
    r"\b(?:machine\s+\S+|default)(?:\s+(?:login|account|port)\s+\S+)*\s+password\s+(?P<v>\S+)"
)
# "the password is Winter2026!", "pw: hunter2-x": unquoted (detect-secrets' keyword detector
# has quoted values, `password = "..."`, under its own name).
_PROSE_PASSWORD = re.compile(
    r"(?i)\b(?:password|passwd|passphrase|pwd|pw)\b(?:\s+(?:is|was|will\s+be)\s*:?|\s*[:=])\s*"
    r"(?P<v>[^\s\"'`]{5,63}[^\s\"'`.,;:])"
)
_EXPRESSION = re.compile(r"[\[\](){}<>$%]|^\W")
"""A value that is an expression or a placeholder (`<...>`, `${...}`, `%s`, `****`)."""
_NAME = re.compile(r"[A-Za-z_][\w.]*")
"""A variable, attribute or word (`self.password`, `required`): a literal has a digit too."""


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _aws_secret(match: re.Match[str]) -> bool:
    value = match.group("v")
    mixed = (
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() for c in value)
    )
    # Random base64 of this length carries about 4.8 bits a character (under 4.3 once in 2,000
    # draws); paths and words less. A long CamelCase name can reach 4.3, but has no `/` or `+`
    # and at most two digits, which a key is only about once in 100 draws.
    symbols = sum(c in "/+" for c in value)
    digits = sum(c.isdigit() for c in value)
    return mixed and symbols <= 4 and (symbols or digits >= 3) and _entropy(value) >= 4.3


def _password(match: re.Match[str]) -> bool:
    value = match.group("v")
    return (
        len(value) >= 6
        and _EXPRESSION.search(value) is None
        and not (_NAME.fullmatch(value) and not any(c.isdigit() for c in value))
        and any(c.isalpha() for c in value)
        and any(not c.isalpha() for c in value)
        and len(set(value)) > 2
    )


def _netrc(match: re.Match[str]) -> bool:
    return match.group("v") not in {"login", "account", "machine", "default", "macdef"}


CREDENTIAL_RULES: tuple[PiiRule, ...] = (
    PiiRule("npm_token", _NPM, group="v"),
    PiiRule("stripe_key", _STRIPE, group="v"),
    PiiRule("slack_token", _SLACK_APP, group="v"),
    PiiRule("netrc_password", _NETRC, _netrc, group="v"),
    PiiRule("password", _PROSE_PASSWORD, _password, group="v"),
    PiiRule("aws_secret_key", _AWS_SECRET, _aws_secret, group="v"),
)
"""Checked after detect-secrets' format-specific plugins and before its generic ones."""
