"""Pull-request review: triage, local routine review, cloud deep review, merge, summary."""
