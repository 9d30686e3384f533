"""Repairs of glyphs OCR misreads in engineering notation, applied to every OCR line before parsing.

The recognizer's dictionary is Chinese-English: ``±`` between numbers sometimes comes out as the CJK character
it resembles (``土``/``士``), or as ``+-``/``+/-`` written out; the annotation parser expects ``±``. In numbers
the letter ``O`` is read for the digit ``0`` (``2O18``, ``58.Omm``: a zero drawn as a plain oval), and a
monospaced CAD font's wide gap after a decimal point is read as a space (``65. 0mm``); a diameter sign before
a number is read as a leading zero (``[01.57]`` for ``[Ø1.57]``).
"""

from __future__ import annotations

import re

_PLUS_MINUS = re.compile(r"(?<=\d)\s*(?:土|士|\+\s*/?\s*-)\s*(?=\.?\d)")
_LETTER_O_IN_NUMBER = re.compile(r"(?<=\d)[Oo](?=\d)|(?<=\d\.)[Oo]|(?<=\d)[Oo](?=mm\b)")
_DIAMETER_AS_ZERO = re.compile(r"(?<![\w.,])0(?=\d+[.,]\d+(?![.,]?\d))")
"""``01.57``: no number is printed with a leading zero before its units digit; it is a diameter sign read as 0
(a date ``01.15.08`` has a second point and is left alone)."""
_SPACED_DECIMAL = re.compile(r"^([RØ⌀]?\d+)\. ([\dOo]+ ?(?:mm|in)?)$")
"""A lone dimension value whose decimal point is followed by a space (``65. 0mm``, ``R1. 0mm``)."""


def repair_text(text: str) -> str:
    """``105.50土0.20`` and ``105.50+-0.20`` become ``105.50±0.20``, ``58. Omm`` becomes ``58.0mm``; anything
    else is left as read."""
    text = _PLUS_MINUS.sub("±", text)
    text = _SPACED_DECIMAL.sub(r"\1.\2", text)
    text = _LETTER_O_IN_NUMBER.sub("0", text)
    return _DIAMETER_AS_ZERO.sub("Ø", text)
