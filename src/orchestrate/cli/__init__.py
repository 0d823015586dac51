"""Command-line front end. `app` declares commands; each body imports its implementation lazily."""
