"""Engineering annotations in free text: dimensions, threads, surface roughness and GD&T callouts.

Pure functions over one text run (a PDF line, a DXF TEXT/MTEXT/DIMENSION string) that return schema
objects. Shared by the PDF and DXF extractors, so both read ``Ø12.5 ±0.05`` the same way.

Modules: ``normalize``, ``threads``, ``roughness``, ``gdt``, ``dimensions`` and ``notations`` (feet-inch, inch
fractions, limits, dual units); numbers as printed are read by ``extractors.numbers``.

Normalisation (``normalize_annotation_text``) runs first: AutoCAD control codes ``%%c``/``%%d``/``%%p``
become ``Ø``/``°``/``±``, ``%%v`` (tolerance-frame separator) becomes ``|``, ``{\\Fgdt;j}`` GDT-font
characters become their Unicode symbols, ``\\U+XXXX`` escapes are decoded, and the look-alike characters
(other diameter signs, the ordinal sign for degrees, minus signs and dashes) are folded onto one spelling.

Dimension rule (how false positives are kept out): a number is a dimension when its value is above zero
and it carries a mark of one: a prefix ``Ø``/``R``/``SØ``/``SR`` (optionally with a count, ``4X Ø6.6``),
a degree sign, an explicit unit (``mm cm m in inch "``), an ISO 286 fit (``H7``, ``H7/g6``), a tolerance
(``±0.05``, ``+0.1/-0.05``, ``+0.1 -0.05``, ``(+5 -0)``, ``+0,2/+0``; not ``±10%``), a trailing ``DIA`` or a one-sided
limit ``MAX``/``MIN`` (``48MAX``). Feet-inch, inch fractions, limits ``12.00-12.05`` and dual ``.650 [16.50]`` values
are read by ``notations``. A *bare* number only counts when it is
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

from typing import NamedTuple

from extraction_pipeline.extractors.annotations.dimensions import parse_dimensions, parse_dimensions_with_marks
from extraction_pipeline.extractors.annotations.gdt import GDT_SYMBOLS, GDT_WORDS, parse_gdt
from extraction_pipeline.extractors.annotations.normalize import normalize_annotation_text
from extraction_pipeline.extractors.annotations.roughness import parse_surface_finishes
from extraction_pipeline.extractors.annotations.threads import ISO_METRIC_COARSE_PITCH, parse_threads
from extraction_pipeline.extractors.schema import BBox, Dimension, GdtCallout, SurfaceFinish, Thread

__all__ = [
    "GDT_SYMBOLS",
    "GDT_WORDS",
    "ISO_METRIC_COARSE_PITCH",
    "Annotations",
    "normalize_annotation_text",
    "parse_annotations",
    "parse_dimensions",
    "parse_dimensions_with_marks",
    "parse_gdt",
    "parse_surface_finishes",
    "parse_threads",
]


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
