"""One plan over many repositories (`orchestrate run plan.md --repos repos.txt`): a checkout of
each, the plan run in each through its own session, a cap on repositories at once, one report
with a row per repository, the whole resumable, and pull requests for what was approved."""
