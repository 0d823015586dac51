"""Test doubles that ship with the package: wire-level fake servers for loopback tests and benchmarks."""
