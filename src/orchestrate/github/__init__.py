"""GitHub pull requests: reading them through PyGithub, checking comment lines against the diff,
and posting one review plus a sticky summary."""
