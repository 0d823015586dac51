"""Secrets and personal data where they hide, one class at a time, and near misses that are not.

Every value is fake but shaped like the real thing (valid check digits, documented prefixes,
random bodies). Each sample is text as it reaches a model: a sentence, a file name, a config line.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    text: str
    secret: str
    """The part of `text` that must be found (and covered whole)."""


def _s(text: str, secret: str) -> Sample:
    assert secret in text
    return Sample(text, secret)


AWS_DOC_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PYPI = (
    "pypi-AgEIcHlwaS5vcmczx06UVZyvmbPkZyRHJouZrQV3xZAxjRM8mbTgDIMRBZxjX_BpYconEG4ZgzWbmHGJR1m4"
    "jfXuX8v_h2_"
)
GITHUB_PAT = (
    "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"
)
STRIPE_LONG = (
    "sk_live_51NFgFULh2GNqTmSH4BbyOA0HNkIn3OIOnHn2INL2io6VOZw5luMu57mnXm4gi4piUfqygB18AIYTimzORZb"
    "gmKRw609xhTGOW"
)
SLACK_APP = (
    "xapp-1-ABW6FC2V90R-4839822784207-2d15a4f4ef27e9589c6948f6d30c01c3f252edc87ff4adfa36d0840164"
    "709ab7"
)

CLASSES: dict[str, tuple[frozenset[str], tuple[Sample, ...]]] = {
    # class: (rules that may name it, samples)
    "iban": (
        frozenset({"iban"}),
        (
            _s(
                "Please wire the refund to GB82 WEST 1234 5698 7654 32 by Friday.",
                "GB82 WEST 1234 5698 7654 32",
            ),
            _s("payouts/DE89370400440532013000_march.csv", "DE89370400440532013000"),
            _s("account: FR14 2004 1010 0505 0001 3M02 606", "FR14 2004 1010 0505 0001 3M02 606"),
            _s("SEPA transfer NL91ABNA0417164300 confirmed", "NL91ABNA0417164300"),
            _s("Spesen an IT60X0542811101000000123456 überweisen", "IT60X0542811101000000123456"),
        ),
    ),
    "card": (
        frozenset({"card_number"}),
        (
            _s("Charge card 4539 1488 0343 6467, expiry 09/28.", "4539 1488 0343 6467"),
            _s("receipts/visa_4539148803436467.pdf", "4539148803436467"),
            _s("the customer paid with 5555-5555-5555-4444 yesterday", "5555-5555-5555-4444"),
            _s("Amex on file: 378282246310005", "378282246310005"),
        ),
    ),
    "ssn": (
        frozenset({"us_ssn"}),
        (
            _s("Her SSN is 536-22-8145 per the intake form.", "536-22-8145"),
            _s("my social security number is 401 33 7290", "401 33 7290"),
            _s("ssn: 536228145", "536228145"),
            _s("hr/w2_536-22-8145.pdf", "536-22-8145"),
            _s("scans/401-33-7290.png", "401-33-7290"),
        ),
    ),
    "aws_secret_key": (
        frozenset({"aws_secret_key", "base64_high_entropy_string"}),
        (
            _s(
                "Use 575yx8xm5MslfY5ubiheyEd7P4zDL+ak6J0kGODK for the deploy bucket.",
                "575yx8xm5MslfY5ubiheyEd7P4zDL+ak6J0kGODK",
            ),
            _s(
                "creds AKIAZ3QX7PLM4RT2WVNB / dinZnLXicaBAg8WY1jzIRlNQb0prFmbh7/wy5yq1",
                "dinZnLXicaBAg8WY1jzIRlNQb0prFmbh7/wy5yq1",
            ),
            _s(
                "XoY1BaIMcAxYmfsB4HbQLXjjlAFbVV6q9rXxtNDF",
                "XoY1BaIMcAxYmfsB4HbQLXjjlAFbVV6q9rXxtNDF",
            ),
            _s(f"the example from the docs, {AWS_DOC_SECRET}, still works", AWS_DOC_SECRET),
        ),
    ),
    "npm": (
        frozenset({"npm_token", "npm_tokens"}),
        (
            _s(
                "publish with npm_UmkVO8JmR8y4EMfAdggcG9qpVTzqA05MFsHl please",
                "npm_UmkVO8JmR8y4EMfAdggcG9qpVTzqA05MFsHl",
            ),
            _s(
                "//registry.npmjs.org/:_authToken=npm_7UeioEJP2NNern66nVberACpdclsxHKifxi5",
                "npm_7UeioEJP2NNern66nVberACpdclsxHKifxi5",
            ),
        ),
    ),
    "pypi": (frozenset({"pypi_token"}), (_s(f"twine upload -u __token__ -p {PYPI} dist/*", PYPI),)),
    "github": (
        frozenset({"github_token"}),
        (
            _s(
                "CI pushes with ghp_CvQUSHL8iLc7bE6wSt9cbMOeEeUtuieeCIxV",
                "ghp_CvQUSHL8iLc7bE6wSt9cbMOeEeUtuieeCIxV",
            ),
            _s(
                "oauth: gho_c57VVTiY96vwfRE5e32A8Yb3FKaNQyyLaMef",
                "gho_c57VVTiY96vwfRE5e32A8Yb3FKaNQyyLaMef",
            ),
            _s(f"release token {GITHUB_PAT}", GITHUB_PAT),
        ),
    ),
    "gitlab": (
        frozenset({"gitlab_token"}),
        (
            _s("clone with glpat-r_SfiJvo58JB0W_O5Pje", "glpat-r_SfiJvo58JB0W_O5Pje"),
            _s(
                "GITLAB token glpat-r3McRTrKwtPYKbPizDmb for the runner",
                "glpat-r3McRTrKwtPYKbPizDmb",
            ),
        ),
    ),
    "slack": (
        frozenset({"slack_token"}),
        (
            _s(
                "bot: xoxb-358842270736-3481543001471-dh2g8xemm4qla48clorw876k",
                "xoxb-358842270736-3481543001471-dh2g8xemm4qla48clorw876k",
            ),
            _s(
                "alerts go to https://hooks.slack.com/services/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",
                "https://hooks.slack.com/services/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",
            ),
            _s(f"socket mode needs {SLACK_APP}", SLACK_APP),
        ),
    ),
    "stripe": (
        frozenset({"stripe_key", "stripe_access_key"}),
        (
            _s(f"charge with {STRIPE_LONG}", STRIPE_LONG),
            _s("refunds use rk_live_vGR1mZeEgbcWJNG5KEjmlhnl", "rk_live_vGR1mZeEgbcWJNG5KEjmlhnl"),
            _s(
                "staging key sk_test_4e1ks7RgLdi8RDeWguzDBGwBnMxaOSc2",
                "sk_test_4e1ks7RgLdi8RDeWguzDBGwBnMxaOSc2",
            ),
        ),
    ),
    "password": (
        frozenset({"password", "secret_keyword", "env_assignment"}),
        (
            _s("The staging password is Winter2026!Blue, do not share it.", "Winter2026!Blue"),
            _s("pw: hunter2-Secure", "hunter2-Secure"),
            _s("Password: S3cure#Pass", "S3cure#Pass"),
            _s("log in as admin, passwd=Qz8!vL2m#x", "Qz8!vL2m#x"),
        ),
    ),
    "netrc": (
        frozenset({"netrc_password"}),
        (
            _s("machine api.example.net login deploy password Xk9mQ2vL8pR", "Xk9mQ2vL8pR"),
            _s("machine git.corp.internal\n  login ci\n  password ghostRider77", "ghostRider77"),
            _s("default login anonymous password Gu3st-pass", "Gu3st-pass"),
        ),
    ),
}

NEAR_MISSES: tuple[str, ...] = (
    "GB82 WEST 1234 5698 7654 31 fails its check digits",
    "order ORD12345678901234567 shipped",
    "build 4539148803436468 (not a card: the Luhn check fails)",
    "timestamp 1700000000000 in milliseconds",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "uuid 6ba7b810-9dad-11d1-80b4-00c04fd430c8",
    "ThisIsAVeryLongCamelCaseIdentifierName12 = 3",
    "HTTPConnectionPoolMaxRetriesExceeded2024",
    "src/orchestrate/privacy/credentials_test.py",
    "Password is required.",
    "password = os.environ['DB_PASSWORD']",
    "password: str = Field(min_length=12)",
    "pwd = Path.cwd()",
    "the ssn field is optional; ssn: None",
    "version 2026.11.30 and ISO code DE",
    "npm_config_registry=https://registry.npmjs.org/",
    "keys starting sk_live_ are live keys",
    "machine learning models need a password manager",
    "reports/2026-11-30_summary.pdf",
)
