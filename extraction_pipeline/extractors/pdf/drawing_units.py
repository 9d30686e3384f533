"""The length unit a drawing's dimensions are in, from what the sheet says, else from how its dimensions are written.

In order:

1. A note that names the unit: ``UNITS: MM``, ``UNITS: MILLIMETERS``, ``DIMENSIONS IN INCHES``, ``ALL DIMENSIONS
   IN MM``, ``DIMS ARE IN INCHES``, ``TOLERANCES INCH [MM]`` (a dual note: the unit outside the brackets is the
   primary one), and the same in other languages (``COTAS EN MM``, ``MASSE IN MM``, ``COTES EN MM``, ``单位: mm``);
   also a title block cell labelled so (``UNITS`` | ``MM``).
2. The dimensions themselves: feet-inch values (``10' - 8"``) and inch fractions or inch marks make it ``in``, and
   dual values (``.650 [16.50]``) the unit of their first number, when at least two say so and they outnumber
   the dimensions written with ``mm``.
3. A sheet with dimensions and no word on the unit is in millimetres (ISO 129-1's default); a document without
   any dimension (a schematic, a BOM) has no drawing unit: None.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from extraction_pipeline.extractors.schema import Dimension, TitleBlock

_MM = r"(?:mm|millimet(?:er|re)s?|milímetros|millimètres|millimetri|milimetr[ůy]?)"
_INCH = r"(?:inch(?:es)?|in\.?|pulgadas|zoll|pouces?)"
_FEET = r"(?:feet|foot|ft\.?)"
_UNIT_WORD = rf"(?P<unit>{_MM}|{_INCH}|{_FEET})(?![a-z])"
_NOTES = (
    # "UNITS: MM", "UNIT = INCH", "单位: mm", "Einheit: mm"
    re.compile(rf"(?i)(?<![a-z])(?:units?|unidades|einheit|unité|单位|單位)\s*[:=]?\s*(?:\[\s*)?{_UNIT_WORD}"),
    # "DIMENSIONS IN INCHES", "ALL DIMENSIONS ARE IN MM", "DIMS IN MM", "COTAS EN MM", "MASSE IN MM"
    re.compile(
        rf"(?i)(?<![a-z])(?:dimensions?|dims|cotas|cotes|ma(?:ß|ss)e|medidas|quote|rozměry|measurements?)"
        rf"(?:\s+(?:are|sont|sind|son|jsou))?\s*(?:in|en|v|:)\s*(?:\[\s*)?{_UNIT_WORD}"
    ),
    # "TOLERANCES INCH [MM]", "DIMENSIONS: MM [INCH]": a dual note names the primary unit first
    re.compile(rf"(?i)(?<![a-z])(?:tolerances?|dimensions?)\s*:?\s*{_UNIT_WORD}\s*\["),
)
_WRITTEN_MM = re.compile(r"(?i)\d\s*mm\b")
_MIN_VOTES = 2


def unit_named_in(texts: Iterable[str]) -> str | None:
    """The unit a note on the sheet names, or None."""
    for text in texts:
        for note in _NOTES:
            match = note.search(text)
            if match:
                return _symbol(match["unit"])
    return None


def unit_in_title_block(title_block: TitleBlock | None) -> str | None:
    """The unit a title block cell names (``UNITS`` | ``MM``), read as ``UNITS: MM``."""
    if title_block is None:
        return None
    return unit_named_in(f"{label}: {value}" for label, value in title_block.custom_fields.items())


def _symbol(word: str) -> str:
    word = word.lower().rstrip(".")
    if re.fullmatch(_MM, word):
        return "mm"
    return "ft" if word in ("feet", "foot", "ft") else "in"


def unit_of_dimensions(dimensions: list[Dimension]) -> str | None:
    """``in`` when inch-written dimensions (feet-inch, fractions, inch marks, dual inch [mm]) outnumber ``mm`` ones."""
    written: Counter[str] = Counter()
    for dimension in dimensions:
        if dimension.unit in ("in", "ft"):
            written["in"] += 1
        elif _WRITTEN_MM.search(dimension.label or ""):
            written["mm"] += 1
    if written["in"] >= _MIN_VOTES and written["in"] > written["mm"]:
        return "in"
    return None


def drawing_unit(named: str | None, dimensions: list[Dimension], default_unit: str) -> str | None:
    """The result's ``units``: the note's unit, else the dimensions' written unit, else ``default_unit`` for a sheet
    with length dimensions, else None."""
    if named is not None:
        return named
    from_dimensions = unit_of_dimensions(dimensions)
    if from_dimensions is not None:
        return from_dimensions
    lengths = [d for d in dimensions if d.unit not in ("deg", "unitless")]
    return default_unit if lengths else None
