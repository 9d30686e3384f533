"""Dimensions, threads, surface finishes and GD&T from every run, through the shared annotation parser.

A number becomes a dimension only with evidence, and its ``confidence`` says which:

- written on or beside a dimension line, at the free end of a leader (``dimension_lines``) or as an ordinate
  dimension (``ordinate_dimensions``: at the end of an extension line, in scale with a ``0`` datum): 1.0 with a
  written mark, 0.8 for a bare number (which needs this evidence: pin numbers, counts and table cells have none);
- a written mark without a line: a tolerance, fit, unit, degree sign or diameter sign 0.9; a radius ``R`` + size
  0.9, but ``R`` + a whole number (``R18``) 0.7, and none at all on a page of reference designators (``R18``,
  ``C5``, ``U3``: a schematic), where it names a resistor, as ``4k7`` (not 4 with a k7 fit) is a part value;
- inside a table or the title block, a number needs a written mark or a dimension line (quantities, coordinates,
  revision numbers have neither; a drawing's outline mistaken for a table still has its arrowheads).

Documents give none: on a page of reference designators (a schematic) only a written unit, Ø, ° or tolerance
makes a dimension (``R31``, ``2n2``, ``6V0``, ``1 D3`` and numbers beside port arrows do not), and a page without
any line art that holds tables or much text (a BOM, a parts list, prose) gives none at all. Deviations printed as
their own lines beside, over or under a value are read with it first (``stacked_tolerances``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from extraction_pipeline.extractors.annotations import (
    parse_dimensions_with_marks,
    parse_gdt,
    parse_surface_finishes,
    parse_threads,
)
from extraction_pipeline.extractors.pdf.dimension_lines import DimensionLines
from extraction_pipeline.extractors.pdf.drawing_units import unit_named_in
from extraction_pipeline.extractors.pdf.model import Page, Run, inside
from extraction_pipeline.extractors.pdf.ordinate_dimensions import ordinate_values
from extraction_pipeline.extractors.pdf.stacked_tolerances import with_stacked_tolerances
from extraction_pipeline.extractors.schema import BBox, Dimension, ExtractionResult

_STRONG_MARKS = frozenset({"diameter", "degrees", "unit", "fit", "tolerance"})
_SCHEMATIC_MARKS = frozenset({"diameter", "degrees", "unit", "tolerance"})
"""What still makes a dimension on a page of reference designators: a written unit, Ø, ° or a tolerance."""
_WHOLE_NUMBER_RADIUS = re.compile(r"R\d{1,3}")
_DESIGNATOR = re.compile(r"(?P<prefix>R|C|L|D|Q|U|J|P|K|F|T|Y|SW|TP|IC|LED|CN|RN|VR|FB|JP|BT)(?P<number>\d{1,4})[A-Z]?")
_MIN_OTHER_DESIGNATORS = 3
"""A page with this many distinct non-``R`` designators (``C5``, ``U3``, ``Q1``) of two kinds or more is a schematic."""

_DOCUMENT_RUNS = 100
"""A page without line art that holds this many runs is a text document."""

ON_LINE_CONFIDENCE = 1.0
BARE_ON_LINE_CONFIDENCE = 0.8
MARKED_CONFIDENCE = 0.9
WHOLE_NUMBER_RADIUS_CONFIDENCE = 0.7


def find_named_unit(pages: list[Page]) -> str | None:
    """The unit a note on the sheet names (``UNITS: MM``, ``DIMENSIONS IN INCHES``), or None."""
    return unit_named_in(run.text for page in pages for run in page.runs)


def relabel_default_unit(dimensions: list[Dimension], default_unit: str, unit: str) -> None:
    """Dimensions that took ``default_unit`` for want of a written one are in ``unit`` (what the others say)."""
    for dimension in dimensions:
        written_mm = "mm" in (dimension.label or "").lower()
        if dimension.unit == default_unit and not written_mm:
            dimension.unit = unit


def add_annotations(
    result: ExtractionResult, pages: list[Page], quiet_areas: set[tuple[int, BBox]], default_unit: str
) -> None:
    for page in pages:
        quiet = [box for number, box in quiet_areas if number == page.number]
        schematic = is_designator_page(page.runs)
        undimensioned = is_text_document(page)
        ordinates = ordinate_values(page.runs, page.dimension_lines)
        for run in with_stacked_tolerances(page.runs):
            where = {"page": page.number, "bbox": run.bbox}
            in_quiet_area = any(inside(run, box) for box in quiet)
            # an ordinate value may follow a note on its line (``Fans 19.00``): the value alone is read
            measured_text = ordinates.get(run, run.text)
            for dimension, marks in parse_dimensions_with_marks(measured_text, default_unit=default_unit, **where):
                judged = _judged(dimension, marks, page.dimension_lines, run, in_quiet_area, schematic, ordinates)
                if judged is not None and not undimensioned:
                    result.dimensions.append(judged)
            result.threads.extend(parse_threads(run.text, **where))
            result.surface_finishes.extend(parse_surface_finishes(run.text, **where))
            result.gdt.extend(parse_gdt(run.text, **where))


def _judged(
    dimension: Dimension,
    marks: frozenset[str],
    lines: DimensionLines | None,
    run: Run,
    in_quiet_area: bool,
    schematic: bool,
    ordinates: dict[Run, str],
) -> Dimension | None:
    """The dimension with the confidence its evidence earns, or None when it has too little."""
    on_line = run in ordinates or (lines is not None and lines.supports(run.bbox, upright=not _is_vertical(run)))
    whole_number_radius = marks <= {"radius"} and "radius" in marks and _is_whole_number_radius(dimension)
    if schematic and not marks & _SCHEMATIC_MARKS:
        # "R31", "2n2", "6V0", "1 D3", pin numbers: designators and part values in IEC 60062 code; on a schematic
        # the arrows of ports and buses are no dimension lines either
        return None
    if on_line:
        confidence = ON_LINE_CONFIDENCE if marks else BARE_ON_LINE_CONFIDENCE
    elif marks & _STRONG_MARKS or ("radius" in marks and not whole_number_radius):
        confidence = MARKED_CONFIDENCE
    elif whole_number_radius and not schematic:
        confidence = WHOLE_NUMBER_RADIUS_CONFIDENCE
    else:
        return None
    if in_quiet_area and not marks and not on_line:  # a table's or title block's rules carry no arrowheads
        return None
    return dimension.model_copy(update={"confidence": confidence})


def is_text_document(page: Page) -> bool:
    """A page of tables or much text without any line art (a parts list, a BOM, prose): nothing on it is drawn,
    so nothing is dimensioned. A searchable scan (a page image under its text) has no rectangles and is not one."""
    objects = page.objects
    if page.text_from_ocr or objects.lines or objects.curves or objects.polylines or not objects.chars:
        return False
    return (objects.rects > 0 or objects.images == 0) and (bool(page.tables) or len(page.runs) >= _DOCUMENT_RUNS)


def needs_line_evidence(run: Run) -> bool:
    """The run holds a number that is a dimension only on a dimension line (a bare number, ``R`` + whole number)."""
    return any(
        not marks & _STRONG_MARKS and not ("radius" in marks and not _is_whole_number_radius(dimension))
        for dimension, marks in parse_dimensions_with_marks(run.text)
    )


def _is_whole_number_radius(dimension: Dimension) -> bool:
    return _WHOLE_NUMBER_RADIUS.fullmatch((dimension.label or "").replace(" ", "")) is not None


def _is_vertical(run: Run) -> bool:
    """Text written along the page's height (a vertical dimension's value): a word taller than it is wide."""
    if run.rotation is not None:
        return round(run.rotation / 90) % 2 == 1
    return len(run.text) >= 2 and (run.bottom - run.top) > 1.5 * (run.x1 - run.x0)


def is_designator_page(runs: Iterable[Run]) -> bool:
    """Reference designators of several kinds (``R18``, ``C5``, ``U3``): a schematic, where ``R`` + number is a part."""
    tokens = {
        match.group(0): match["prefix"]
        for run in runs
        for word in run.text.split()
        if (match := _DESIGNATOR.fullmatch(word))
    }
    others = {token for token, prefix in tokens.items() if prefix != "R"}
    return len(others) >= _MIN_OTHER_DESIGNATORS and len(set(tokens.values())) >= 2
