"""Moderate: a keyboard-driven terminal desk for Canvas LMS moderated grading."""

__version__ = "0.1.0"
