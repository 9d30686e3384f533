"""Dimension notations the general number pattern cannot read: feet-inch, inch fractions, limits, dual units.

- Feet and inches (architecture): ``10' - 8"``, ``3'-4 1/2"``, ``2' - 10 1/4"``, ``4'-0"``: one length in inches
  (``10' - 8"`` is 128 in), also with the inch mark a scan lost or read as ``'`` or ``°`` (``19' - 8'``,
  ``20' - 0``, ``13'-5°``), the foot mark read as ``°`` before a hyphen and the inches (``19° - 1°``: no angle is
  written so), or lost on a line holding only the value (``20 - 3"``), the inches below 12; feet alone (``24'``,
  ``24.6'``, survey plans) stay in feet. A ``'`` right after a degree value is minutes, not feet.
- Inch fractions: ``23 1/8``, ``9 11/16"``, ``1/2"``: the whole number and a fraction whose denominator is a power
  of two up to 64 with a smaller, odd numerator (``1/1``, ``2/4`` and ``3/7`` are sheet numbers, ratios or codes).
  A fraction alone needs the inch mark; with a whole number in front and no mark it is a bare number (it needs the
  evidence bare numbers need, see ``annotations``).
- Limits: ``12.00-12.05`` (the same number of decimals on both sides, the upper limit above the lower by less than a
  tenth): the lower limit with ``tolerance_plus`` = the span and ``tolerance_minus`` = 0. Dates and ranges of
  integers are not limits.
- Scale notes ``1/4" = 1'-0"`` and ``1" = 50'`` are a scale, not two lengths: they are claimed and give none.
- Dual dimensions ``.650 [16.50]``: the bracketed value is the same length in the other unit; it is no entry of its
  own. When one is 25.4 times the other, the smaller is the inch value and says the unit of the first.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from extraction_pipeline.extractors.numbers import NUM, to_float

MM_PER_INCH = 25.4
INCHES_PER_FOOT = 12


class WrittenLength(NamedTuple):
    """A length read by one of these notations, with the span of the text it came from."""

    start: int
    end: int
    value: float
    unit: str | None  # None: the drawing's default unit
    marked: bool  # written evidence (a unit mark, a limit): False for a bare ``23 1/8``
    tolerance_plus: float | None = None
    tolerance_minus: float | None = None


_FRACTION = r"(?P<{n}num>\d{{1,2}})/(?P<{n}den>64|32|16|8|4|2)(?!\d)"
_FOOT = r"['\u2032]"
_INCH = r"(?:\"|''|\u2033)"
_FEET_INCH = re.compile(
    rf"""
    (?<![\w.,'/"])
    (?P<feet>\d{{1,4}})\s*{_FOOT}\s*-?\s*
    (?:(?P<inches>\d{{1,2}}(?:\.\d+)?)(?:\s+{_FRACTION.format(n="")})?|{_FRACTION.format(n="only_")})
    (?:\s*(?P<inch_mark>{_INCH}|{_FOOT}|°))?      # the inch mark, or a scan's misread or lost one
    (?![\w.,/'"\u2032\u2033°])
    """,
    re.VERBOSE,
)
_FEET_AS_DEGREES = re.compile(
    rf"""
    (?<![\w.,'/"])
    (?P<feet>\d{{1,4}})°\s*-\s*(?P<inches>\d{{1,2}})(?:\s+{_FRACTION.format(n="")})?
    (?:\s*(?:{_INCH}|{_FOOT}|°)(?![\w.,/'"\u2032\u2033°])|\s*$)
    """,
    re.VERBOSE,
)
"""``19° - 1°``, ``20° -0``: a scan's foot mark read as a degree sign; no angle is written with a hyphen and a number
after it, but a note may (``30° - 2 PLACES``), so an inch mark or the end of the text must follow."""
_FEET_MARK_LOST = re.compile(
    rf"""
    ^\s*(?P<feet>\d{{1,4}})\s+-\s+(?P<inches>\d{{1,2}})(?:\s+{_FRACTION.format(n="")})?\s*{_INCH}\s*$
    """,
    re.VERBOSE,
)
"""A line that is only ``20 - 3"``: a feet-inch value whose foot mark a scan lost (spaced hyphen, inch mark kept);
in a longer text the same shape is a count and a size (``4 - 3" BOLTS``)."""
_FEET = re.compile(rf"(?<![\w.,'/\"])(?P<feet>\d{{1,5}}(?:\.\d+)?)\s*{_FOOT}(?!\s*-?\s*\d)(?!['\u2032])")
_WHOLE_AND_FRACTION = re.compile(
    rf"(?<![\w.,/\-+±])(?P<whole>\d{{1,4}})[ \-]{_FRACTION.format(n='')}(?:\s*(?P<inch>{_INCH}))?(?![\w/.,])"
)
_FRACTION_INCHES = re.compile(rf"(?<![\w.,/\-+±])(?<!\d )(?:{_FRACTION.format(n='')})\s*(?P<inch>{_INCH})")
_LIMITS = re.compile(r"(?<![\w.,/\-+±])(?P<low>\d+[.,](?P<decimals>\d+))\s*-\s*(?P<high>\d+[.,]\d+)(?![\w.,])")
_LENGTH = rf"(?:\d+\s+)?\d+(?:/\d+)?(?:[.,]\d+)?\s*(?:{_INCH}|{_FOOT})(?:\s*-?\s*\d+(?:\s+\d+/\d+)?\s*{_INCH})?"
_SCALE_NOTE = re.compile(rf"{_LENGTH}\s*=\s*{_LENGTH}")
_BRACKETED = re.compile(
    rf"\s*\[\s*(?P<number>{NUM})\s*(?:(?:±|\+/-)\s*{NUM}|\+\s*{NUM}\s*/?\s*-\s*{NUM})?\s*(?:mm|in|\")?\s*\]"
)
_MAX_LIMIT_SPAN = 0.1
_DUAL_RATIO_TOLERANCE = 0.01


def _fraction(match: re.Match[str], prefix: str = "") -> float | None:
    numerator, denominator = match[f"{prefix}num"], match[f"{prefix}den"]
    if numerator is None:
        return 0.0
    top, bottom = int(numerator), int(denominator)
    if top >= bottom or top % 2 == 0:
        return None  # "1/1", "2/4": not how an inch fraction is printed
    return top / bottom


def scale_notes(text: str) -> list[tuple[int, int]]:
    """Spans of scale notes such as ``1/4" = 1'-0"`` (not lengths)."""
    return [match.span() for match in _SCALE_NOTE.finditer(text)]


def feet_and_inches(text: str) -> list[WrittenLength]:
    """``10' - 8"`` (128 in), ``3'-4 1/2"``, and feet alone (``24.6'``), never minutes after a degree value."""
    found = []
    for match in [*_FEET_INCH.finditer(text), *_FEET_AS_DEGREES.finditer(text), *_FEET_MARK_LOST.finditer(text)]:
        only_fraction = not match["num"] and "only_num" in match.re.groupindex
        fraction = _fraction(match, "only_" if only_fraction else "")
        if fraction is None or _after_degrees(text, match.start()):
            continue
        inches = float(match["inches"] or 0) + fraction
        if inches >= INCHES_PER_FOOT:  # "10'-13" is no feet-inch length
            continue
        value = round(int(match["feet"]) * 12 + inches, 6)
        found.append(WrittenLength(*match.span(), value=value, unit="in", marked=True))
    taken = [(length.start, length.end) for length in found]
    for match in _FEET.finditer(text):
        if _after_degrees(text, match.start()) or any(s <= match.start() < e for s, e in taken):
            continue
        found.append(WrittenLength(*match.span(), value=to_float(match["feet"]), unit="ft", marked=True))
    return found


def _after_degrees(text: str, start: int) -> bool:
    return text[:start].rstrip().endswith("°")


def inch_fractions(text: str) -> list[WrittenLength]:
    """``23 1/8`` (bare: unit from the drawing), ``9 11/16"`` and ``1/2"`` (inches)."""
    found = []
    for match in _WHOLE_AND_FRACTION.finditer(text):
        fraction = _fraction(match)
        if fraction is not None:
            unit = "in" if match["inch"] else None
            found.append(WrittenLength(*match.span(), int(match["whole"]) + fraction, unit, marked=unit is not None))
    taken = [(length.start, length.end) for length in found]
    for match in _FRACTION_INCHES.finditer(text):
        fraction = _fraction(match)
        if fraction is not None and not any(s <= match.start() < e for s, e in taken):
            found.append(WrittenLength(*match.span(), fraction, "in", marked=True))
    return found


def limits(text: str) -> list[WrittenLength]:
    """``12.00-12.05``: lower limit, plus the span, minus 0."""
    found = []
    for match in _LIMITS.finditer(text):
        low, high = to_float(match["low"]), to_float(match["high"])
        decimals_high = re.split(r"[.,]", match["high"])[1]
        if len(decimals_high) != len(match["decimals"]) or not 0 < high - low <= _MAX_LIMIT_SPAN * low:
            continue
        span = round(high - low, len(decimals_high))
        found.append(WrittenLength(*match.span(), low, None, marked=True, tolerance_plus=span, tolerance_minus=0.0))
    return found


def bracketed_after(text: str, end: int) -> re.Match[str] | None:
    """The ``[16.50]`` written right after a dimension that ends at ``end`` (its value in the other unit)."""
    return _BRACKETED.match(text, end)


def dual_unit(value: float, other: float) -> str | None:
    """The unit of ``value`` when ``other`` is the same length in the other unit (25.4 times apart), else None."""
    if value <= 0 or other <= 0:
        return None
    if abs(other / value - MM_PER_INCH) <= _DUAL_RATIO_TOLERANCE * MM_PER_INCH:
        return "in"
    if abs(value / other - MM_PER_INCH) <= _DUAL_RATIO_TOLERANCE * MM_PER_INCH:
        return "mm"
    return None


def bracketed_spans(text: str) -> list[tuple[int, int]]:
    """Every ``[number]`` that follows a number: the second unit of a dual dimension, read with the first."""
    return [match.span() for match in re.finditer(rf"(?<=[\d\"])\s*\[\s*{NUM}[^\]\[]{{0,20}}\]", text)]
