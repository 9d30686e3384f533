"""PDF drawings (vector text, fpdf2) that print dimensions in the notations real sheets use.

Each builder's module constant says what a person reads on it: value, unit, tolerances.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from extraction_pipeline_tests.extractors.pdf_builders import (
    TEXT_FONT_SIZE,
    _arrowhead,
    _frame,
    _new_pdf,
    dimension_line,
    ruled_table,
)


def _stacked_deviations(pdf: FPDF, value: str, x: float, y: float, upper: str, lower: str) -> None:
    """``value`` with its two deviations printed small, one over the other, right of it (as CAD tools do)."""
    pdf.set_font("Helvetica", "", TEXT_FONT_SIZE)
    pdf.text(x, y, value)
    right = x + pdf.get_string_width(value) + 1.5
    pdf.set_font("Helvetica", "", 7)
    pdf.text(right, y - 5, upper)
    pdf.text(right, y + 1.5, lower)
    pdf.set_font("Helvetica", "", TEXT_FONT_SIZE)


def _vertical_text(pdf: FPDF, x: float, y: float, text: str) -> None:
    """Text turned to read upwards, starting at (x, y)."""
    with pdf.rotation(90, x, y):
        pdf.text(x, y, text)


# (value, unit, plus, minus) a person reads on build_metric_notations_pdf
METRIC_NOTATIONS_TRUTH = [
    (16.0, "mm", 0.0, 0.15),  # 16 with +0 over -0,15 stacked right of it
    (6.1, "mm", None, None),  # 6,10 turned to read upwards (a decimal comma in vertical text)
    (820.0, "mm", 5.0, 0.0),  # 820 (+5 -0)
    (24.0, "mm", 1.0, 1.0),  # 24 and ±1 as a separate word after a gap
]


def build_metric_notations_pdf(path: Path) -> Path:
    """A metric part: stacked deviations, a vertical value with a decimal comma, a parenthesised tolerance and a
    tolerance written apart from its value, all on dimension lines; a note names the unit."""
    pdf = _new_pdf()
    pdf.add_page()
    _frame(pdf)
    pdf.set_line_width(0.25)
    pdf.rect(100, 150, 300, 200)
    pdf.set_font("Helvetica", "", TEXT_FONT_SIZE)
    dimension_line(pdf, (100, 390), (400, 390), "")
    _stacked_deviations(pdf, "16", 240, 387, "+0", "-0,15")
    dimension_line(pdf, (70, 150), (70, 350), "")
    _vertical_text(pdf, 67, 262, "6,10")
    dimension_line(pdf, (100, 430), (400, 430), "820 (+5 -0)")
    dimension_line(pdf, (450, 150), (450, 350), "")
    pdf.text(455, 250, "24")
    pdf.text(472, 250, "±1")
    pdf.text(60, 540, "UNITS: MM")
    pdf.output(str(path))
    return path


# (printed, value in inches) a person reads on build_feet_inch_pdf
FEET_INCH_TRUTH = [("10' - 8\"", 128.0), ("3'-4 1/2\"", 40.5), ("2' - 10 1/4\"", 34.25)]


def build_feet_inch_pdf(path: Path) -> Path:
    """An architectural section: feet-inch dimensions on tick-ended lines and a scale note (no unit note)."""
    return _feet_inch_sheet(path, FEET_INCH_TRUTH, [(500, 'SECTION A  1/4" = 1\'-0"')])


def _feet_inch_sheet(path: Path, truth: list[tuple[str, float]], notes: list[tuple[int, str]]) -> Path:
    """Feet-inch dimensions on tick-ended lines, one a row, and notes at the given heights."""
    pdf = _new_pdf()
    pdf.add_page()
    _frame(pdf)
    pdf.set_font("Helvetica", "", TEXT_FONT_SIZE)
    for row, (printed, _) in enumerate(truth):
        dimension_line(pdf, (100, 150 + row * 60), (400, 150 + row * 60), printed, ticks=True)
    for y, note in notes:
        pdf.text(100, y, note)
    pdf.output(str(path))
    return path


# (text, inches) a person reads on build_scanned_feet_inch_pdf: 20' - 3" and 19' - 1" written as OCR of a low-
# resolution scan gives them (foot mark lost, foot and inch marks read as degree signs)
SCANNED_FEET_INCH_TRUTH = [('20 - 3"', 243.0), ("19° - 1°", 229.0)]


def build_scanned_feet_inch_pdf(path: Path) -> Path:
    """A floor plan's feet-inch dimensions on tick-ended lines, each alone on its line as a scan's OCR reads them,
    and notes whose hyphens are no feet-inch values: a count and size (``4 - 3" BOLTS``), an angle's note."""
    return _feet_inch_sheet(
        path, SCANNED_FEET_INCH_TRUTH, [(400, 'ANCHORS: 4 - 3" BOLTS'), (430, "CHAMFER 30° - 2 PLACES")]
    )


# (value, plus, minus) in inches a person reads on build_dual_unit_pdf
DUAL_UNIT_TRUTH = [(0.65, 0.01, 0.01), (0.312, None, None), (0.178, 0.008, 0.008), (0.062, 0.01, 0.0)]


def build_dual_unit_pdf(path: Path) -> Path:
    """An inch drawing with millimetres in brackets after each value."""
    pdf = _new_pdf()
    pdf.add_page()
    _frame(pdf)
    pdf.set_font("Helvetica", "", TEXT_FONT_SIZE)
    dimension_line(pdf, (100, 200), (400, 200), ".650±.010 [16.50±0.25]")
    dimension_line(pdf, (100, 300), (400, 300), ".312 [7.92]")
    # the tolerance printed on its own line(s) over the value, as ASME sheets do
    dimension_line(pdf, (100, 400), (400, 400), ".178 [4.52]")
    pdf.text(225, 385, "±.008 [±0.20]")
    dimension_line(pdf, (500, 200), (500, 450), "")
    pdf.text(510, 300, "+.010 [0.25]")
    pdf.text(510, 311, "-.000 [-0.0]")
    pdf.text(510, 322, "0.062 [1.57]")
    pdf.output(str(path))
    return path


PARTS_LIST_WITH_SIZES = [
    ["ITEM", "QTY", "DESCRIPTION", "SUPPLIER"],
    ["1", "2", "Cable USB 1,8m", "ACME"],
    ["2", "4", "Screw DIN 912 M3 x 12mm", "ACME"],
    ["3", "1", "Belt GT2 6mm 810mm", "BELTCO"],
    ["4", "1", "Rod Ø8 x 300mm", "RODS"],
    ["5", "2", "Spacer 360mm +1", "RODS"],
]


def build_parts_list_document_pdf(path: Path) -> Path:
    """A BOM document: a ruled parts list whose descriptions hold sizes (1,8m, 300mm, 360mm +1) and no drawing."""
    pdf = _new_pdf()
    pdf.add_page()
    pdf.set_font("Helvetica", "", TEXT_FONT_SIZE)
    pdf.text(60, 60, "BILL OF MATERIALS")
    ruled_table(pdf, (60.0, 90.0), (40.0, 40.0, 260.0, 100.0), PARTS_LIST_WITH_SIZES, border=1, bold_header=True)
    pdf.output(str(path))
    return path


def build_schematic_with_arrows_pdf(path: Path) -> Path:
    """A schematic whose port and bus arrows end near designators and part values (R31, 2n2, 6V0, 4k7)."""
    pdf = _new_pdf()
    pdf.add_page()
    pdf.set_font("Helvetica", "", 8)
    names = ["R31", "R5", "C12", "C3", "U4", "Q2", "D7", "R101"]
    values = ["2n2", "6V0", "4k7", "2u2", "16V0", "1 D3", "100nF", "10k"]
    for index, (name, value) in enumerate(zip(names, values, strict=True)):
        x, y = 80 + (index % 4) * 180, 120 + (index // 4) * 200
        pdf.rect(x, y, 30, 12)
        dimension_line(pdf, (x - 60, y + 6), (x, y + 6), name)
        pdf.text(x, y + 24, value)
    pdf.output(str(path))
    return path


def build_slanted_dimension_pdf(path: Path, degrees: float = 28.0) -> Path:
    """An aligned dimension's value tilted by ``degrees``: ``Ø6`` with ``+0,2`` over ``+0`` stacked right of it,
    next to level text it must not be mixed with."""
    pdf = _new_pdf()
    pdf.add_page()
    _frame(pdf)
    pdf.set_font("Helvetica", "", TEXT_FONT_SIZE)
    pdf.text(150, 305, "SECTION B-B")
    with pdf.rotation(degrees, 200, 300):
        pdf.line(150, 305, 300, 305)
        _stacked_deviations(pdf, "Ø6", 200, 300, "+0,2", "+0")
    pdf.output(str(path))
    return path


def _open_arrow(pdf: FPDF, tip: tuple[float, float], toward_x: float, length: float = 24.0) -> None:
    """A long, narrow open arrowhead of three strokes (Altium and KiCad plots draw them so)."""
    direction = 1.0 if toward_x > tip[0] else -1.0
    base_x = tip[0] + direction * length
    pdf.line(*tip, base_x, tip[1] - 3.6)
    pdf.line(*tip, base_x, tip[1] + 3.6)
    pdf.line(base_x, tip[1] - 3.6, base_x, tip[1] + 3.6)


def build_open_arrow_dimension_pdf(path: Path, *, hatch_lines: int = 0) -> Path:
    """A bare ``85`` in a gap of its dimension line, whose ends carry long open arrowheads; ``hatch_lines`` short
    strokes in a corner make it a heavy page (read through PDFium)."""
    pdf = _new_pdf()
    pdf.add_page()
    for index in range(hatch_lines):
        x, y = 600 + (index * 7) % 220, 400 + (index * 3) % 60
        pdf.line(x, y, x + 4, y + 4)
    pdf.set_line_width(0.25)
    pdf.rect(100, 200, 400, 150)
    pdf.line(100, 150, 290, 150)
    pdf.line(310, 150, 500, 150)
    _open_arrow(pdf, (100, 150), 500)
    _open_arrow(pdf, (500, 150), 100)
    pdf.set_font("Helvetica", "", 12)
    pdf.text(293, 154, "85")
    pdf.output(str(path))
    return path


# (printed value, distance of its extension line below the datum in points) of build_ordinate_dimension_pdf:
# the plate is drawn at 0.5 mm per point, so each value is half its distance
ORDINATE_VALUES: list[tuple[str, float]] = [("12.50", 25.0), ("30.00", 60.0), ("45.25", 90.5), ("70.00", 140.0)]
ORDINATE_NOTE = "Fans"
"""The note printed before the second value on its line (``Fans 30.00``)."""


def build_ordinate_dimension_pdf(path: Path) -> Path:
    """A plate with ordinate dimensions down its left side: a ``0`` at the datum (its top edge) and the values
    right-aligned at the free ends of thin extension lines, no dimension lines, no arrowheads; one value follows
    a short note. Right of the plate, a ruled table whose number column (``0``, ``10`` ... at an even pitch, the
    row rules beside it) is no ordinate dimension."""
    pdf = _new_pdf()
    pdf.add_page()
    _frame(pdf)
    pdf.set_line_width(0.25)
    datum, plate_left, text_right = 150.0, 300.0, 250.0
    pdf.rect(plate_left, datum, 200, 180)
    pdf.set_font("Helvetica", "", TEXT_FONT_SIZE)
    rows = [("0", 0.0)] + [
        (f"{ORDINATE_NOTE} {value}" if index == 1 else value, distance)
        for index, (value, distance) in enumerate(ORDINATE_VALUES)
    ]
    for text, distance in rows:
        y = datum + distance
        pdf.line(text_right + 3, y, plate_left + 40, y)  # extension line, past the plate edge to the feature
        pdf.text(text_right - pdf.get_string_width(text), y + 0.3 * TEXT_FONT_SIZE, text)
    ruled_table(
        pdf,
        (560.0, 150.0),
        (90.0, 60.0),
        [["STEP", "TEMP"], ["start", "0"], ["ramp", "10"], ["hold", "20"], ["cool", "30"], ["end", "40"]],
        bold_header=True,
    )
    pdf.output(str(path))
    return path


SMALL_DIMENSION_VALUE = 4.6
"""What a person reads on build_small_dimension_pdf: ``4.60`` (bare, two decimals) between two close edges."""


def build_small_dimension_pdf(path: Path) -> Path:
    """A small dimension: two edges 13 pt apart, too close for arrows between them, so each arrow points in from
    outside on a short stem (barely longer than its arrowhead) and the value ``4.60`` sits at the end of a shoulder
    bent off the upper stem. Beside it, numbers that are no dimensions: ``7`` at the end of a bent stroke without
    an arrowhead and ``3`` at the tip of a lone filled triangle (a marker)."""
    pdf = _new_pdf()
    pdf.add_page()
    pdf.set_line_width(0.25)
    pdf.line(200, 200, 330, 200)  # the edges, extended
    pdf.line(200, 213, 330, 213)
    pdf.line(300, 187, 300, 200)  # upper stem, its arrow pointing down at the upper edge
    _arrowhead(pdf, (300, 200), (300, 187), size=9.4)
    pdf.line(300, 187, 318, 187)  # the shoulder
    pdf.line(300, 213, 300, 231)  # lower stem, its arrow pointing up at the lower edge
    _arrowhead(pdf, (300, 213), (300, 231), size=9.4)
    pdf.set_font("Helvetica", "", TEXT_FONT_SIZE)
    pdf.text(321, 191, "4.60")
    pdf.line(450, 187, 450, 200)  # a bent stroke without arrowhead
    pdf.line(450, 187, 468, 187)
    pdf.text(471, 191, "7")
    _arrowhead(pdf, (500, 260), (500, 250), size=9.4)  # a lone marker
    pdf.text(503, 264, "3")
    pdf.output(str(path))
    return path


SMALL_VERTICAL_VALUE = 6.14
"""What a person reads on build_small_vertical_dimension_pdf."""


def build_small_vertical_dimension_pdf(path: Path) -> Path:
    """A small vertical dimension with open arrows: two horizontal extension lines 36 pt apart, an open arrow (two
    strokes, no stem) pointing down at the upper one and another pointing up at the lower one, both from outside,
    and ``6.14`` written level between the two tips, on the axis. Beside it, ``8`` beside a lone open arrow
    pointing at a line (a view's direction arrow, no dimension)."""
    pdf = _new_pdf()
    pdf.add_page()
    pdf.set_line_width(0.25)
    pdf.line(296, 281, 420, 281)  # the extension lines
    pdf.line(296, 317, 420, 317)
    for tip, far in (((300, 281), 258), ((300, 317), 340)):
        pdf.line(tip[0], tip[1], tip[0] - 3.6, far)
        pdf.line(tip[0], tip[1], tip[0] + 3.6, far)
    pdf.set_font("Helvetica", "", TEXT_FONT_SIZE)
    pdf.text(300 - pdf.get_string_width("6.14") / 2, 302, "6.14")
    pdf.line(500, 281, 600, 281)  # a line with one open arrow at it, and a number beside the arrow
    pdf.line(550, 281, 546.4, 258)
    pdf.line(550, 281, 553.6, 258)
    pdf.text(550 - pdf.get_string_width("8") / 2, 302, "8")
    pdf.output(str(path))
    return path
