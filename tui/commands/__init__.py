"""Headless subcommands of `moderate`, and the argument types they share."""

from __future__ import annotations

import argparse


def _positive(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}")
    return value


def canvas_id(text: str) -> int:
    """argparse type for a course or assignment id."""
    return _positive(text, "a Canvas id")


def positive_count(text: str) -> int:
    """argparse type for a count such as --limit."""
    return _positive(text, "a positive whole number")
