"""Engineering annotations in free text: dimensions, threads, surface roughness and GD&T callouts.

Pure functions over one text run (a PDF line, a DXF TEXT/MTEXT/DIMENSION string) that return schema
objects. Shared by the PDF and DXF extractors, so both read ``Ø12.5 ±0.05`` the same way.

Normalisation (``normalize_annotation_text``) runs first: AutoCAD control codes ``%%c``/``%%d``/``%%p``
become ``Ø``/``°``/``±``, ``%%v`` (tolerance-frame separator) becomes ``|``, ``{\\Fgdt;j}`` GDT-font
characters become their Unicode symbols, ``\\U+XXXX`` escapes are decoded, and the look-alike characters
(other diameter signs, the ordinal sign for degrees, minus signs and dashes) are folded onto one spelling.

Dimension rule (how false positives are kept out): a number is a dimension when its value is above zero
and it carries a mark of one: a prefix ``Ø``/``R``/``SØ``/``SR`` (optionally with a count, ``4X Ø6.6``),
a degree sign, an explicit unit (``mm cm m in inch "``), an ISO 286 fit (``H7``, ``H7/g6``), a tolerance
(``±0.05``, ``+0.1/-0.05``, ``+0.1 -0.05``, ``(+5 -0)``, ``+0,2/+0``; not ``±10%``), a trailing ``DIA`` or a one-sided
limit ``MAX``/``MIN`` (``48MAX``). Feet-inch, inch fractions, limits ``12.00-12.05`` and dual ``.650 [16.50]`` values
are read by ``dimension_notations``. A *bare* number only counts when it is
the whole text run (optionally in parentheses, as reference dimensions are written), has at most four
integer digits, has no leading zero (``007`` is a part number) and is not a 4-digit year 1900-2099; bare
numbers get confidence 0.6. So dates (``2024-01-15``, ``12.03.2024``), ``SHEET 1 OF 2``, scales ``1:2``,
part numbers ``AB-1234`` and numbers inside thread, roughness or GD&T callouts never become dimensions.

A comma followed by groups of exactly three digits separates thousands (``804,006`` is 804006, ``1,221.5`` is
1221.5); any other comma is a decimal comma (``12,5``, ``0,125``).

What the marks themselves must look like:

- Radius ``R``/``SR``: a callout stands as its own token: ``R5``, ``R12.5``, ``4X R3``, ``R5 TYP``, ``SR10``, ``R2mm``.
  Glued on either side to a letter, digit or hyphenated code (``PART R2013-A``, ``R12B``, ``BOXR5``), or right
  after a word that introduces a version, revision or id (``DXF R2013``, ``AutoCAD R14``, ``REV R12``,
  ``VERSION``, ``RELEASE``, ``DWG``, ``PART``, ``ITEM``, ``ISSUE``), ``R`` + number is a name, not a radius.
- Fit: an ISO 286 deviation letter + IT grade (``H7``, ``g6``, ``js6``, ``H7/g6``), a whole word (never followed by
  a digit or decimal part). A lone ``x``/``X`` grade is not read as a fit, because ``x`` between numbers is the
  multiplication sign (``1.0x1.0``, ``20x30``, ``Ø6x8``); it only counts as the shaft half of a pair (``H8/x7``).
  So a size ``1.0x1.0`` or ``20x30`` has no mark and gives no dimension, and a chamfer ``2x45°`` (``0.5 x 45°``)
  gives only its angle, ``45°`` (the leg length is not read as a separate dimension).
- Angles in degrees-minutes-seconds are one angle: ``12°30'`` is 12.5°, ``45° 30' 15"`` is 45.504167° (rounded to
  six decimals); minutes and seconds are 0-59, and ``"`` (or ``''``) after the minutes is the seconds mark, not inches.

Threads: ISO metric ``M8x1.25``/``M10`` (coarse pitch from the ISO 261/262 table when omitted; a second
number too large to be a pitch, as in ``M8x20``, is read as a screw length), trapezoidal ``Tr16x4``, and
Unified/pipe ``1/4-20 UNC``, ``#10-32 UNF``, ``1/4"-18 NPT``. An integer size without ``#`` is a number
size when it is 0-12 and the thread count is 24 TPI or more (``10-32 UNF``), otherwise inches (``1-8 UNC``).
A metric ``M7`` right after a diameter (``Ø20 M7``) is a fit, not a thread.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

from extraction_pipeline.extractors import dimension_notations as notations
from extraction_pipeline.extractors.numbers import GROUPED, NUM, mask, to_float
from extraction_pipeline.extractors.schema import (
    BBox,
    Dimension,
    DimensionType,
    GdtCallout,
    SurfaceFinish,
    Thread,
)

# --- normalisation -----------------------------------------------------------------------------------

_AUTOCAD_CODES = {"%%c": "Ø", "%%d": "°", "%%p": "±", "%%v": "|", "%%u": "", "%%o": "", "%%%": "%"}
_AUTOCAD_CODE = re.compile(r"%%[cdpvuo%]", re.IGNORECASE)
_UNICODE_ESCAPE = re.compile(r"\\U\+([0-9A-Fa-f]{4})")
# pdfminer's name for a glyph its font maps to no character (a symbol font's Ø or °): no text, and its number is
# a glyph id, never a value
_UNMAPPED_GLYPH = re.compile(r"\(cid:\d+\)")

# Characters of AutoCAD's GDT font (gdt.shx) as written in DXF TOLERANCE entities: {\Fgdt;j}
_GDT_FONT = {
    "a": "∠",
    "b": "⟂",
    "c": "⏥",
    "d": "⌓",
    "e": "○",
    "f": "∥",
    "g": "⌭",
    "h": "↗",
    "i": "⌯",
    "j": "⌖",
    "k": "⌒",
    "l": "Ⓛ",
    "m": "Ⓜ",
    "n": "Ø",
    "p": "Ⓟ",
    "r": "◎",
    "s": "Ⓢ",
    "t": "⌰",
    "u": "⏤",
}
_GDT_FONT_RUN = re.compile(r"\{\\Fgdt;([^}]*)\}", re.IGNORECASE)
_LOOKALIKES = str.maketrans(
    {"⌀": "Ø", "∅": "Ø", "ø": "Ø", "º": "°", "\u2212": "-", "\u2013": "-", "\u2014": "-", "\u2033": '"'}
)


def normalize_annotation_text(text: str) -> str:
    """One spelling for the many ways CAD and PDF text writes the same symbol (idempotent)."""
    text = _GDT_FONT_RUN.sub(lambda m: "".join(_GDT_FONT.get(ch.lower(), ch) for ch in m.group(1)), text)
    text = _AUTOCAD_CODE.sub(lambda m: _AUTOCAD_CODES[m.group(0).lower()], text)
    text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = _UNMAPPED_GLYPH.sub(" ", text)
    return text.translate(_LOOKALIKES)


# --- shared pieces -------------------------------------------------------------------------------------

_NUM = NUM
_GROUPED = GROUPED
_to_float = to_float
_mask = mask


# --- threads -------------------------------------------------------------------------------------------

# ISO 261 / ISO 262 coarse pitches (mm) for the common sizes.
ISO_METRIC_COARSE_PITCH: dict[float, float] = {
    1.0: 0.25,
    1.2: 0.25,
    1.4: 0.3,
    1.6: 0.35,
    2.0: 0.4,
    2.5: 0.45,
    3.0: 0.5,
    3.5: 0.6,
    4.0: 0.7,
    5.0: 0.8,
    6.0: 1.0,
    7.0: 1.0,
    8.0: 1.25,
    10.0: 1.5,
    12.0: 1.75,
    14.0: 2.0,
    16.0: 2.0,
    18.0: 2.5,
    20.0: 2.5,
    22.0: 2.5,
    24.0: 3.0,
    27.0: 3.0,
    30.0: 3.5,
    33.0: 3.5,
    36.0: 4.0,
    39.0: 4.0,
    42.0: 4.5,
    45.0: 4.5,
    48.0: 5.0,
    52.0: 5.0,
    56.0: 5.5,
    60.0: 5.5,
    64.0: 6.0,
}
_MAX_METRIC_PITCH = 6.0

_METRIC_THREAD = re.compile(
    rf"""
    (?<![\w.])                        # not part of a word
    M\s?(?P<diameter>\d{{1,3}}(?:[.,]\d+)?)
    (?:\s*[xX\u00d7]\s*(?P<second>{_NUM}))?
    (?:\s*-\s*\d[a-hA-H](?:\d[a-hA-H])?)?   # tolerance class 6g / 6H / 5g6g
    (?:\s*LH)?
    (?![\w.])
    """,
    re.VERBOSE,
)
_TRAPEZOIDAL_THREAD = re.compile(
    rf"(?<![\w.])Tr\s?(?P<diameter>{_NUM})\s*[xX\u00d7]\s*(?P<pitch>{_NUM})(?:\s*\(P\s*{_NUM}\))?(?:\s*-\s*\d[eEcChH])?(?![\w.])"
)
_UNIFIED_THREAD = re.compile(
    r"""
    (?<![\w.\#/])
    (?:
        \#\s?(?P<number>\d{1,2})
      | (?:(?P<whole>\d)(?:\s+|-))?(?P<numerator>\d{1,2})/(?P<denominator>\d{1,2})
      | (?P<decimal>\d*\.\d+|\d{1,2})
    )
    \s*(?:"|'')?\s*-\s*
    (?P<tpi>\d{1,3}(?:\.\d+)?)
    \s*(?P<series>UNJC|UNJF|UNEF|UNC|UNF|UNS|UN|NPTF|NPSM|NPT|NPS)
    (?:\s*-\s*[123][AB])?
    (?:\s*LH)?
    (?![A-Za-z])
    """,
    re.VERBOSE,
)


def _metric_thread(match: re.Match[str]) -> Thread:
    diameter = _to_float(match["diameter"])
    second = _to_float(match["second"]) if match["second"] else None
    # "M8x20" names a screw length, not a pitch: a pitch is always below the diameter and at most 6 mm.
    if second is not None and second < diameter and second <= _MAX_METRIC_PITCH:
        pitch: float | None = second
    else:
        pitch = ISO_METRIC_COARSE_PITCH.get(diameter)
    return Thread(designation=match.group(0).strip(), standard="ISO metric", nominal_diameter=diameter, pitch=pitch)


def _trapezoidal_thread(match: re.Match[str]) -> Thread:
    return Thread(
        designation=match.group(0).strip(),
        standard="ISO metric trapezoidal",
        nominal_diameter=_to_float(match["diameter"]),
        pitch=_to_float(match["pitch"]),
    )


_NUMBER_SIZE_MIN_TPI = 24.0
_MAX_NUMBER_SIZE = 12


def _unified_size_inches(match: re.Match[str], tpi: float) -> float:
    if match["number"] is not None:
        return _number_size_inches(int(match["number"]))
    if match["numerator"] is not None:
        whole = int(match["whole"]) if match["whole"] else 0
        return round(whole + int(match["numerator"]) / int(match["denominator"]), 6)
    decimal = match["decimal"]
    if "." not in decimal and int(decimal) <= _MAX_NUMBER_SIZE and tpi >= _NUMBER_SIZE_MIN_TPI:
        return _number_size_inches(int(decimal))  # "10-32 UNF" is #10, "1-8 UNC" is one inch
    return float(decimal)


def _number_size_inches(number: int) -> float:
    """ASME B1.1 machine-screw number sizes: #0 is 0.060 in, each step adds 0.013 in."""
    return round(0.060 + 0.013 * number, 4)


def _unified_thread(match: re.Match[str]) -> Thread:
    tpi = float(match["tpi"])
    return Thread(
        designation=match.group(0).strip(),
        standard=match["series"],
        nominal_diameter=_unified_size_inches(match, tpi),
        threads_per_inch=tpi,
        unit="in",
    )


_THREAD_READERS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], Thread]], ...] = (
    (_UNIFIED_THREAD, _unified_thread),
    (_TRAPEZOIDAL_THREAD, _trapezoidal_thread),
    (_METRIC_THREAD, _metric_thread),
)


_DIAMETER_BEFORE = re.compile(r"Ø\s?\d+(?:[.,]\d+)?\s?$")


def _is_fit_not_thread(text: str, match: re.Match[str]) -> bool:
    """``Ø20 M7`` is a diameter with an M7 fit, not an M7 thread."""
    return match.re is _METRIC_THREAD and _DIAMETER_BEFORE.search(text, 0, match.start()) is not None


def _thread_matches(text: str) -> list[tuple[re.Match[str], Thread]]:
    found: list[tuple[re.Match[str], Thread]] = []
    claimed: list[tuple[int, int]] = []
    for pattern, read in _THREAD_READERS:
        for match in pattern.finditer(_mask(text, claimed)):
            if not _is_fit_not_thread(text, match):
                found.append((match, read(match)))
        claimed.extend(m.span() for m, _ in found)
    return sorted(found, key=lambda pair: pair[0].start())


def parse_threads(
    text: str, *, page: int | None = None, layer: str | None = None, bbox: BBox | None = None
) -> list[Thread]:
    """Thread callouts in ``text``: ``M8x1.25``, ``M10`` (coarse pitch), ``Tr16x4``, ``1/4-20 UNC``, ``#10-32 UNF``."""
    text = normalize_annotation_text(text)
    return [
        thread.model_copy(update={"page": page, "layer": layer, "bbox": bbox}) for _, thread in _thread_matches(text)
    ]


# --- surface roughness ---------------------------------------------------------------------------------

_ROUGHNESS_PARAMETERS = {"ra": "Ra", "rz": "Rz", "rq": "Rq", "rt": "Rt", "rp": "Rp", "rv": "Rv", "rmax": "Rmax"}
_ROUGHNESS = re.compile(
    rf"""
    (?<![A-Za-z])
    (?P<parameter>(?i:rmax|ra|rz|rq|rt|rp|rv))
    \s*[=:]?\s*
    (?P<value>{_NUM})
    (?:\s*(?P<unit>µm|μm|um|µin|μin|uin|microns?|microinch(?:es)?))?
    (?![\w.])
    """,
    re.VERBOSE,
)


def _roughness_unit(written: str | None) -> str:
    return "uin" if written and ("in" in written.lower()) else "um"


def _roughness_matches(text: str) -> list[tuple[re.Match[str], SurfaceFinish]]:
    return [
        (
            match,
            SurfaceFinish(
                parameter=_ROUGHNESS_PARAMETERS[match["parameter"].lower()],
                value=_to_float(match["value"]),
                unit=_roughness_unit(match["unit"]),
            ),
        )
        for match in _ROUGHNESS.finditer(text)
    ]


def parse_surface_finishes(
    text: str, *, page: int | None = None, layer: str | None = None, bbox: BBox | None = None
) -> list[SurfaceFinish]:
    """Roughness values in ``text``: ``Ra 1.6``, ``Rz6.3``, ``Ra=0.8 µm``, ``Ra 32 µin``."""
    text = normalize_annotation_text(text)
    return [
        finish.model_copy(update={"page": page, "layer": layer, "bbox": bbox}) for _, finish in _roughness_matches(text)
    ]


# --- GD&T ----------------------------------------------------------------------------------------------

GDT_SYMBOLS: dict[str, str] = {
    "⏤": "straightness",
    "⏥": "flatness",
    "○": "circularity",
    "◯": "circularity",
    "⌭": "cylindricity",
    "⌒": "profile of a line",
    "⌓": "profile of a surface",
    "⟂": "perpendicularity",
    "⊥": "perpendicularity",
    "∠": "angularity",
    "∥": "parallelism",
    "//": "parallelism",
    "⌖": "position",
    "◎": "concentricity",
    "⌯": "symmetry",
    "↗": "circular runout",
    "⌰": "total runout",
}
GDT_WORDS: dict[str, str] = {
    "STRAIGHTNESS": "straightness",
    "FLATNESS": "flatness",
    "CIRCULARITY": "circularity",
    "ROUNDNESS": "circularity",
    "CYLINDRICITY": "cylindricity",
    "PROFILE OF A LINE": "profile of a line",
    "LINE PROFILE": "profile of a line",
    "PROFILE OF A SURFACE": "profile of a surface",
    "SURFACE PROFILE": "profile of a surface",
    "PERPENDICULARITY": "perpendicularity",
    "ANGULARITY": "angularity",
    "PARALLELISM": "parallelism",
    "TRUE POSITION": "position",
    "POSITION": "position",
    "CONCENTRICITY": "concentricity",
    "COAXIALITY": "concentricity",
    "SYMMETRY": "symmetry",
    "CIRCULAR RUNOUT": "circular runout",
    "TOTAL RUNOUT": "total runout",
    "RUNOUT": "circular runout",
}


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


_MODIFIER = r"(?:[ⓂⓁⓈⒻⓅⓉⓊⒺ]|\([MLSFPTU]\))"
_GDT = re.compile(
    rf"""
    (?:(?P<symbol>{_alternation(list(GDT_SYMBOLS))})
      |(?<![A-Za-z])(?P<word>(?i:{_alternation(list(GDT_WORDS))}))(?![A-Za-z]))
    \s*\|?\s*
    (?P<zone>Ø)?\s*
    (?P<tolerance>{_NUM})(?![\d.,])
    (?:\s*{_MODIFIER})*
    (?P<datums>(?:\s*\|?\s*[A-Z](?:\s*-\s*[A-Z])?(?:\s*{_MODIFIER})*(?![A-Za-z0-9])){{0,3}})
    (?:\s*\|)?
    """,
    re.VERBOSE,
)
_DATUM = re.compile(r"[A-Z](?:\s*-\s*[A-Z])?")


def _gdt_characteristic(match: re.Match[str]) -> str:
    if match["symbol"]:
        return GDT_SYMBOLS[match["symbol"]]
    return GDT_WORDS[" ".join(match["word"].upper().split())]


def _gdt_matches(text: str) -> list[tuple[re.Match[str], GdtCallout]]:
    found = []
    for match in _GDT.finditer(text):
        datums_text = re.sub(_MODIFIER, " ", match["datums"])
        found.append(
            (
                match,
                GdtCallout(
                    characteristic=_gdt_characteristic(match),
                    tolerance=_to_float(match["tolerance"]),
                    datums=[re.sub(r"\s+", "", d) for d in _DATUM.findall(datums_text)],
                    text=" ".join(match.group(0).split()),
                ),
            )
        )
    return found


def parse_gdt(
    text: str, *, page: int | None = None, layer: str | None = None, bbox: BBox | None = None
) -> list[GdtCallout]:
    """Feature-control frames: a GD&T symbol or word, a tolerance (``Ø`` zone allowed) and up to 3 datums."""
    text = normalize_annotation_text(text)
    return [
        callout.model_copy(update={"page": page, "layer": layer, "bbox": bbox}) for _, callout in _gdt_matches(text)
    ]


# --- dimensions ----------------------------------------------------------------------------------------

_IT_GRADE = r"(?:01|1[0-8]|[0-9])(?!\d)"
# x/X are ISO 286 deviations too, but a lone "x1" is the multiplication sign of "1.0x1.0": only "H8/x7" keeps it.
_HOLE_FIT = rf"(?:ZA|ZB|ZC|CD|EF|FG|JS|[A-HJKMNPR-VYZ]){_IT_GRADE}"
_SHAFT_FIT = rf"(?:za|zb|zc|cd|ef|fg|js|[a-hjkmnpr-vyz]){_IT_GRADE}"
_SHAFT_FIT_AFTER_SLASH = rf"(?:za|zb|zc|cd|ef|fg|js|[a-hjkmnpr-vx-z]){_IT_GRADE}"
_FIT = rf"""
    (?:(?P<hole>{_HOLE_FIT})(?:\s*/\s*(?P<shaft_after_slash>{_SHAFT_FIT_AFTER_SLASH})|\s*(?P<shaft_of_hole>{_SHAFT_FIT}))?
      |(?P<shaft>{_SHAFT_FIT}))
    (?!\w|[.,]\d)
"""
_TOLERANCE = rf"""
    (?:\(\s*)?                              # "820 (+5 -0)", "(-0 +5mm)"
    (?:(?:±|\+/-|\+-)\s*(?P<symmetric>{_NUM})(?![\d.,]|\s*%)\s*°?      # "±10%" is a rating's spread
      |\+\s*(?P<plus>{_NUM})\s*°?\s*/?\s*
        (?:-\s*(?P<minus>{_NUM})|\+\s*(?P<lower_plus>{_NUM})|(?P<minus_zero>0(?:[.,]0+)?)(?![\d.,]))?\s*°?
      |(?P<plus_zero>0(?:[.,]0+)?)\s*/?\s*-\s*(?P<minus_of_zero>{_NUM})\s*°?
      |-\s*(?P<minus_first>{_NUM})\s*°?\s*/?\s*\+\s*(?P<plus_second>{_NUM})\s*°?)
    (?:\s*(?:mm|in)?\s*\))?
"""
_UNIT = r"""(?:mm|cm|m|inches|inch|in(?!\s+[a-z0-9(])|"|''|deg)(?!\w)"""  # "3 in 100": a preposition
_DIMENSION = re.compile(
    rf"""
    (?<![0-9A-WYZa-wyz_.,/\#+±:\-])       # not glued to a word or number ("x" allowed: "0.5x45°")
    (?:(?P<count>\d{{1,3}})\s*[xX\u00d7]\s*(?=S?[ØR]))?
    (?P<prefix>S?Ø|S?R(?=\s?{_NUM}))?\s?
    (?P<number>{_NUM})(?![\d/:]|[.,]\d)
    (?:\s*(?P<degrees>°)
        (?:\s*(?P<minutes>[0-5]?\d)\s*['\u2032]
            (?:\s*(?P<seconds>[0-5]?\d(?:[.,]\d+)?)\s*(?:"|''|\u2032\u2032))?)?)?
    (?:\s*(?P<unit>{_UNIT}))?
    (?:\s*(?P<fit>{_FIT}))?
    (?:\s*(?P<tolerance>{_TOLERANCE}))?
    (?:\s*(?P<unit_after>{_UNIT}))?
    (?:\s*(?P<dia_word>DIA\b\.?))?
    (?:\s*(?P<limit_word>(?i:max|min)\.?)(?![A-Za-z]))?  # "48 MAX", "42.3Max.", "5Min": a one-sided limit
    """,
    re.VERBOSE,
)
_INCH_UNITS = {"in", "inch", "inches", '"', "''"}
_MAX_BARE_INTEGER_DIGITS = 4
_BARE_CONFIDENCE = 0.6


def _unit_of(match: re.Match[str], default_unit: str) -> str:
    written = match["unit"] or match["unit_after"]
    if match["degrees"] or written == "deg":
        return "deg"
    if written in _INCH_UNITS:
        return "in"
    return written or default_unit


def _dimension_type(match: re.Match[str]) -> DimensionType:
    prefix = match["prefix"] or ""
    if prefix.endswith("Ø") or match["dia_word"]:
        return DimensionType.DIAMETER
    if prefix.endswith("R"):
        return DimensionType.RADIUS
    if match["degrees"] or match["unit"] == "deg" or match["unit_after"] == "deg":
        return DimensionType.ANGULAR
    return DimensionType.LINEAR


def _tolerances(match: re.Match[str]) -> tuple[float | None, float | None]:
    """(plus, minus) with minus as a positive magnitude."""
    if match["symmetric"]:
        value = _to_float(match["symmetric"])
        return value, value
    if match["plus"]:
        if match["lower_plus"]:  # "+0,2/+0": the lower deviation is zero; one above zero has no minus magnitude
            lower = _to_float(match["lower_plus"])
            return _to_float(match["plus"]), 0.0 if lower == 0 else None
        minus = match["minus"] or match["minus_zero"]
        return _to_float(match["plus"]), _to_float(minus) if minus else None
    if match["plus_zero"]:
        return _to_float(match["plus_zero"]), _to_float(match["minus_of_zero"])
    if match["minus_first"]:
        return _to_float(match["plus_second"]), _to_float(match["minus_first"])
    return None, None


def _fit(match: re.Match[str]) -> str | None:
    if match["hole"]:
        shaft = match["shaft_after_slash"] or match["shaft_of_hole"]
        return f"{match['hole']}/{shaft}" if shaft else match["hole"]
    return match["shaft"]


def _angle_value(match: re.Match[str]) -> float:
    """Degrees, with minutes and seconds folded in: ``45° 30' 15"`` is 45.504167."""
    value = _to_float(match["number"])
    if match["minutes"]:
        value += int(match["minutes"]) / 60
    if match["seconds"]:
        value += _to_float(match["seconds"]) / 3600
    return round(value, 6) if match["minutes"] else value


# Words after which "R" + number names a release, revision or id ("DXF R2013", "REV R12"), not a radius.
_ID_WORD_BEFORE_R = re.compile(
    r"(?<![A-Za-z])(?:DXF|DWG|AUTOCAD|ACAD|REV|REVISION|VER|VERSION|RELEASE|REL|PART|ITEM|ISSUE)\.?\s*[:#]?\s*$",
    re.IGNORECASE,
)
_GLUED_AFTER = re.compile(r"[-_]?[A-Za-z0-9]")


def _is_named_not_radius(text: str, match: re.Match[str]) -> bool:
    """``R`` + number that is part of a name (``R2013-A``, ``BOXR5``, ``DXF R2013``, ``REV R12``), not a radius."""
    if not (match["prefix"] or "").endswith("R"):
        return False
    prefix_start = match.start("prefix")
    glued_before = match["count"] is None and prefix_start > 0 and text[prefix_start - 1].isalpha()
    glued_after = _GLUED_AFTER.match(text, match.end()) is not None
    return glued_before or glued_after or _ID_WORD_BEFORE_R.search(text, 0, match.start()) is not None


def _is_marked(match: re.Match[str]) -> bool:
    marks = ("prefix", "degrees", "unit", "fit", "tolerance", "unit_after", "dia_word", "limit_word")
    return any(match[name] for name in marks)


def _is_lone_plausible_number(text: str, match: re.Match[str]) -> bool:
    """A bare number is a dimension only when it is the whole run and does not look like an id or year."""
    run = text.strip()
    if run.startswith("(") and run.endswith(")"):
        run = run[1:-1].strip()
    number = match["number"]
    if run != match.group(0).strip():
        return False
    integer_part = re.split(r"[.,]", number.replace(",", "") if _GROUPED.fullmatch(number) else number)[0]
    if len(integer_part) > _MAX_BARE_INTEGER_DIGITS or (len(integer_part) > 1 and integer_part.startswith("0")):
        return False
    is_year = len(integer_part) == 4 and number == integer_part and 1900 <= int(integer_part) <= 2099
    return not is_year


def _claimed_spans(text: str) -> list[tuple[int, int]]:
    """Spans that belong to threads, roughness and GD&T, whose numbers are not dimensions."""
    spans = [m.span() for m, _ in _gdt_matches(text)]
    masked = _mask(text, spans)
    spans += [m.span() for m, _ in _thread_matches(masked)]
    masked = _mask(text, spans)
    spans += [m.span() for m, _ in _roughness_matches(masked)]
    return spans


def _marks(match: re.Match[str]) -> frozenset[str]:
    """The written evidence of a dimension: ``diameter``/``radius`` prefix, ``degrees``, ``unit``, ``fit``,
    ``tolerance``, ``count`` (``4X``); none for a bare number."""
    prefix = match["prefix"] or ""
    found = {name for name in ("degrees", "fit", "tolerance", "count") if match[name]}
    if match["limit_word"]:
        found.add("limit")
    if match["unit"] or match["unit_after"]:
        found.add("unit")
    if prefix.endswith("Ø") or match["dia_word"]:
        found.add("diameter")
    elif prefix.endswith("R"):
        found.add("radius")
    return frozenset(found)


def parse_dimensions(
    text: str,
    *,
    default_unit: str = "mm",
    page: int | None = None,
    layer: str | None = None,
    bbox: BBox | None = None,
) -> list[Dimension]:
    """Dimensions in ``text`` (see the module docstring for what counts as one)."""
    where = {"page": page, "layer": layer, "bbox": bbox}
    return [dimension for dimension, _ in parse_dimensions_with_marks(text, default_unit=default_unit, **where)]


def parse_dimensions_with_marks(
    text: str,
    *,
    default_unit: str = "mm",
    page: int | None = None,
    layer: str | None = None,
    bbox: BBox | None = None,
) -> list[tuple[Dimension, frozenset[str]]]:
    """``parse_dimensions`` with each dimension's written evidence (``_marks``): empty for a bare number."""
    text = normalize_annotation_text(text)
    claimed = _claimed_spans(text) + notations.scale_notes(text)
    where = {"page": page, "layer": layer, "bbox": bbox}
    found: list[tuple[int, Dimension, frozenset[str]]] = []
    for written in _written_lengths(_mask(text, claimed)):
        if written.value > 0 and (written.marked or _is_whole_run(text, written.start, written.end)):
            dimension = _from_notation(text, written, default_unit, **where)
            found.append((written.start, dimension, _notation_marks(written)))
        claimed.append((written.start, written.end))
    secondary = notations.bracketed_spans(text)
    masked = _mask(text, claimed + secondary)
    for match in _DIMENSION.finditer(masked):
        marked = _is_marked(match) or _dual_unit(text, match) is not None
        value = _angle_value(match)
        if (
            value <= 0
            or (not marked and not _is_lone_plausible_number(masked, match))
            or _is_named_not_radius(masked, match)
        ):
            continue
        dimension, marks = _from_match(text, match, default_unit, where)
        found.append((match.start(), dimension, marks))
    return [(dimension, marks) for _, dimension, marks in sorted(found, key=lambda item: item[0])]


def _written_lengths(text: str) -> list[notations.WrittenLength]:
    """Feet-inch, inch fractions and limits, each span read once (feet-inch first: it holds fractions)."""
    found: list[notations.WrittenLength] = []
    for reader in (notations.feet_and_inches, notations.inch_fractions, notations.limits):
        for written in reader(_mask(text, [(w.start, w.end) for w in found])):
            found.append(written)
    return found


def _is_whole_run(text: str, start: int, end: int) -> bool:
    run = text.strip()
    if run.startswith("(") and run.endswith(")"):
        run = run[1:-1].strip()
    return run == text[start:end].strip()


def _notation_marks(written: notations.WrittenLength) -> frozenset[str]:
    if written.tolerance_plus is not None:
        return frozenset({"tolerance"})
    return frozenset({"unit"}) if written.marked else frozenset()


def _from_notation(text: str, written: notations.WrittenLength, default_unit: str, **where: Any) -> Dimension:
    label = " ".join(text[written.start : written.end].split())
    return Dimension(
        value=written.value,
        unit=written.unit or default_unit,
        tolerance_plus=written.tolerance_plus,
        tolerance_minus=written.tolerance_minus,
        label=label,
        text=label,
        confidence=1.0 if written.marked else _BARE_CONFIDENCE,
        **where,
    )


def _dual_unit(text: str, match: re.Match[str]) -> str | None:
    """``in`` for ``.650 [16.50]``, ``mm`` for ``16.50 [.650]``: the bracket holds the same length 25.4 times apart."""
    bracketed = notations.bracketed_after(text, match.end())
    if bracketed is None or match["degrees"]:
        return None
    return notations.dual_unit(_angle_value(match), _to_float(bracketed["number"]))


def _from_match(
    text: str, match: re.Match[str], default_unit: str, where: dict[str, Any]
) -> tuple[Dimension, frozenset[str]]:
    """The dimension of one match, with the ``[16.50]`` of a dual dimension read as its second unit."""
    marks = _marks(match)
    unit = _unit_of(match, default_unit)
    label = " ".join(match.group(0).split())
    bracketed = notations.bracketed_after(text, match.end())
    if bracketed is not None:
        label = " ".join(text[match.start() : bracketed.end()].split())
        dual = _dual_unit(text, match)
        if dual is not None and not (match["unit"] or match["unit_after"]):
            unit = dual
            marks = marks | {"unit"}
    plus, minus = _tolerances(match)
    dimension = Dimension(
        value=_angle_value(match),
        unit=unit,
        tolerance_plus=plus,
        tolerance_minus=minus,
        dimension_type=_dimension_type(match),
        label=label,
        text=label,
        fit=_fit(match),
        confidence=1.0 if marks else _BARE_CONFIDENCE,
        **where,
    )
    return dimension, marks


# --- all at once ---------------------------------------------------------------------------------------


class Annotations(NamedTuple):
    dimensions: list[Dimension]
    threads: list[Thread]
    surface_finishes: list[SurfaceFinish]
    gdt: list[GdtCallout]


def parse_annotations(
    text: str,
    *,
    default_unit: str = "mm",
    page: int | None = None,
    layer: str | None = None,
    bbox: BBox | None = None,
) -> Annotations:
    """Dimensions, threads, surface finishes and GD&T callouts of one text run."""
    where = {"page": page, "layer": layer, "bbox": bbox}
    return Annotations(
        dimensions=parse_dimensions(text, default_unit=default_unit, **where),
        threads=parse_threads(text, **where),
        surface_finishes=parse_surface_finishes(text, **where),
        gdt=parse_gdt(text, **where),
    )
