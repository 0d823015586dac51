"""The one error hierarchy. Every message is one line that tells the user what to do."""

from __future__ import annotations


class OrchestrateError(Exception):
    """Base of every error this package raises on purpose; its text is shown to the user as is."""


class ConfigError(OrchestrateError):
    """A YAML or command-line setting is invalid; the message names the file, line and field."""


class MissingDependencyError(OrchestrateError):
    """An optional backend is not installed; the message carries the install command."""


class ModelRequestError(OrchestrateError):
    """A request that no model can serve as sent (400-class): resending or falling back is pointless."""


class ContextOverflowError(OrchestrateError):
    """The prompt does not fit the model's context window."""


class OutputValidationError(OrchestrateError):
    """Model output did not match the requested schema, even after the repair round."""


class NoModelAvailableError(OrchestrateError):
    """Every model in an agent's fallback chain failed or was skipped."""

    def __init__(self, message: str, *, answered: bool = False, busy: bool = False) -> None:
        super().__init__(message)
        self.answered = answered
        """Some model did answer, unusably (e.g. output that failed the schema twice): trying
        again later, with the same answers replayed, would fail the same way."""
        self.busy = busy
        """Some model was there but failed for a while (overloaded, 5xx, rate limited, timed
        out): an outage to wait out, not a chain with no model to use."""


class PromptTooLargeError(NoModelAvailableError):
    """The prompt fits no model of the chain: the work must be given in smaller pieces."""


class PriceUnknownError(OrchestrateError):
    """A cloud model has no price, so its cost could not be recorded honestly."""


class BudgetExceededError(OrchestrateError):
    """A cloud call would pass the spending cap, so it was not sent."""


class PrivacyBlockedError(OrchestrateError):
    """A request holding private data had no local model left to serve it."""


class RepoError(OrchestrateError):
    """The target directory is not a usable git repository for a run."""


class RunLockedError(RepoError):
    """Another live process is carrying out the run (or plan) asked for; the message names it."""


class StorageError(OrchestrateError):
    """A file could not be read or written (disk full, read-only, a lock): the message names the
    file, the fix, and what to do once it is fixed."""

    def __init__(self, problem: str, then: str = "then run the same command again") -> None:
        super().__init__(f"{problem}; {then}")
        self.problem = problem
        """What went wrong and how to fix it."""
        self.then = then
        """What to do once fixed."""

    def then_resume(self, run_id: str) -> StorageError:
        """The same problem, saying how to finish the run it stopped."""
        return StorageError(
            self.problem, f"run {run_id} is saved: `orchestrate run --resume {run_id}` finishes it"
        )


class EditRefusedError(OrchestrateError):
    """A model's edit was refused (outside allowed files, outside the repo, into .git, or malformed)."""


class PlanError(OrchestrateError):
    """A plan (plan.md or planner output) is invalid; the message names the file and the fix."""


class GitHubError(OrchestrateError):
    """The GitHub API refused or failed a pull-request operation."""


class ReadOnlyTokenError(GitHubError):
    """The token may read the pull request but not write to it (a fork's `pull_request` run)."""


class StreamInterruptedError(OrchestrateError):
    """A streamed answer broke off after its first token; the partial output is discarded, never spliced."""


class MissingCredentialsError(OrchestrateError):
    """An endpoint needs an API key and its environment variable is not set."""


class LedgerError(OrchestrateError):
    """The ledger file cannot be used as it is."""


class LedgerMissingError(LedgerError):
    """There is no ledger where one was expected: nothing has been recorded yet."""


class NoAttemptsError(OrchestrateError):
    """The ledger holds no attempts for the requested run."""


class NotStreamedError(OrchestrateError):
    """A streamed request was answered with one whole body instead of an event stream (a server or
    proxy that ignores `stream`); that endpoint will answer every request so."""


class SensitiveChangeError(OrchestrateError):
    """An edit adds a workflow, a git hook, a CI file or one of our keys, and the user did not
    say yes: nothing of it is committed."""


class BatchPollError(OrchestrateError):
    """A submitted batch could not be looked at (its vendor unreachable, our client closed): the
    batch keeps running at the vendor and its id is kept on disk; the cause is chained."""
