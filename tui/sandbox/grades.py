"""Grades the way Canvas writes them: a score (float) and a grade (the string a person reads).

A points assignment scored 8.0 has grade "8"; a letter-grade assignment scored 87.0 out of 100
has grade "B+". `interpret` turns what a grader typed (`submission[posted_grade]`) into both,
following `AbstractAssignment#interpret_grade` and `#score_to_grade`.
"""

from __future__ import annotations

import re

__all__ = ["LETTER_SCHEME", "InvalidGrade", "format_grade", "interpret"]

# Canvas's default grading scheme: each letter and the lowest percentage that earns it.
LETTER_SCHEME: tuple[tuple[str, float], ...] = (
    ("A", 94.0),
    ("A-", 90.0),
    ("B+", 87.0),
    ("B", 84.0),
    ("B-", 80.0),
    ("C+", 77.0),
    ("C", 74.0),
    ("C-", 70.0),
    ("D+", 67.0),
    ("D", 64.0),
    ("D-", 61.0),
    ("F", 0.0),
)
_LETTER_PERCENT = {letter.casefold(): percent for letter, percent in LETTER_SCHEME}

_PERCENT = re.compile(r"^[+-]?\d*\.?\d+%$")
_NUMBER = re.compile(r"^[+-]?\d*\.?\d+$")


class InvalidGrade(ValueError):
    """The posted grade means nothing for this assignment's grading type."""


def _plain_number(value: float) -> str:
    """8.0 -> "8", 8.5 -> "8.5", 8.125 -> "8.13" (Canvas's round_if_whole, 2 places)."""
    rounded = round(value, 2)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.2f}".rstrip("0").rstrip(".")


def _letter_for(percent: float) -> str:
    for letter, lowest in LETTER_SCHEME:
        if round(percent, 4) >= lowest:
            return letter
    return LETTER_SCHEME[-1][0]


def format_grade(score: float, grading_type: str, points_possible: float) -> str:
    """The grade string Canvas stores next to `score`."""
    percent = 100.0 * score / points_possible if points_possible else 0.0
    if grading_type == "letter_grade":
        return _letter_for(percent)
    if grading_type == "percent":
        return f"{_plain_number(percent)}%"
    if grading_type == "pass_fail":
        return "complete" if points_possible and score >= points_possible else "incomplete"
    return _plain_number(score)


def interpret(posted: str, grading_type: str, points_possible: float) -> tuple[float, str]:
    """(score, grade) for what a grader typed: "8", "87%", "B+", "complete"…"""
    text = posted.strip()
    if _PERCENT.match(text):
        score = points_possible * float(text[:-1]) / 100.0
    elif _NUMBER.match(text):
        score = float(text)
    elif text.casefold() in ("pass", "complete"):
        score = points_possible
    elif text.casefold() in ("fail", "incomplete"):
        score = 0.0
    elif grading_type == "letter_grade" and text.casefold() in _LETTER_PERCENT:
        # A letter earns the lowest score of its band: "B+" on 100 points is 87.0.
        score = points_possible * _LETTER_PERCENT[text.casefold()] / 100.0
    else:
        raise InvalidGrade(posted)
    score = round(score, 2)
    return score, format_grade(score, grading_type, points_possible)
