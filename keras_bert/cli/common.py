"""Helpers shared by the command-line commands."""

import sys


class UsageError(Exception):
    """Bad input found before any work starts; printed without a traceback."""


def log(message):
    """One line per phase, on stderr (stdout stays for results)."""
    print(f"[keras-bert] {message}", file=sys.stderr, flush=True)
