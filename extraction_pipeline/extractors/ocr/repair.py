"""Repairs of glyphs OCR misreads in engineering notation, applied to every OCR line before parsing.

The recognizer's dictionary is Chinese-English: ``±`` between numbers sometimes comes out as the CJK character
it resembles (``土``/``士``), or as ``+-``/``+/-`` written out; the annotation parser expects ``±``.
"""

from __future__ import annotations

import re

_PLUS_MINUS = re.compile(r"(?<=\d)\s*(?:土|士|\+\s*/?\s*-)\s*(?=\.?\d)")


def repair_text(text: str) -> str:
    """``105.50土0.20`` and ``105.50+-0.20`` become ``105.50±0.20``; anything else is left as read."""
    return _PLUS_MINUS.sub("±", text)
