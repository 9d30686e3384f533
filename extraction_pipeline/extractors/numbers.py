"""Numbers as drawings print them, shared by the annotation readers.

A comma followed by groups of exactly three digits separates thousands (``804,006`` is 804006, ``1,221.5`` is
1221.5); any other comma is a decimal comma (``12,5``, ``0,125``).
"""

from __future__ import annotations

import re

THOUSANDS = r"[1-9]\d{0,2}(?:,\d{3})+(?![\d,])(?:\.\d+)?"
NUM = rf"(?:{THOUSANDS}|\d+(?:[.,]\d+)?|[.,]\d+)"
"""A number: ``12``, ``12.5``, ``12,5`` (decimal comma), ``.650``, ``1,221.5``."""
GROUPED = re.compile(THOUSANDS)
MASK = "\x00"
"""Not a space: text on both sides of a claimed span must not read as adjacent."""


def to_float(number: str) -> float:
    """``12,5`` is 12.5 (decimal comma); ``804,006`` and ``1,221.5`` have thousands separators."""
    number = number.replace(" ", "")
    if GROUPED.fullmatch(number):
        return float(number.replace(",", ""))
    return float(number.replace(",", "."))


def mask(text: str, spans: list[tuple[int, int]]) -> str:
    """Blot out already-claimed spans (keeping offsets) so their numbers are not read twice."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = MASK * (end - start)
    return "".join(chars)
