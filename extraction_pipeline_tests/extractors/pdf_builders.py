"""PDF drawings built with fpdf2 for extractor and pipeline tests (exact content known to the tests).

Coordinates are PDF points with a top-left origin, the same space the extractor reports bboxes in.
``build_drawing_pdf`` is the reusable "typical drawing": frame, callouts, a ruled hole table, a BOM and a
bordered title block at the bottom right.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF

PAGE_WIDTH = 842.0  # A4 landscape, points
PAGE_HEIGHT = 595.0
LABEL_FONT_SIZE = 6
VALUE_FONT_SIZE = 9
TEXT_FONT_SIZE = 10

# (text, x, baseline y) of the dimension/thread/roughness callouts of the drawing page
CALLOUTS: list[tuple[str, float, float]] = [
    ("Ø12.5 ±0.05", 80, 120),
    ("M8x1.25", 80, 170),
    ("Ra 1.6", 80, 220),
    ("Ø20 H7/g6", 240, 120),
    ("R5", 240, 170),
    ("45°", 240, 220),
    ("FLATNESS 0.02 A", 240, 270),
]

HOLE_TABLE = [
    ["HOLE", "X", "Y", "SIZE"],
    ["A1", "25.0", "40.0", "Ø6.6"],
    ["A2", "75.0", "40.0", "Ø6.6"],
    ["B1", "50.0", "90.0", "Ø9.0"],
]
HOLE_TABLE_ORIGIN = (442.0, 60.0)
HOLE_TABLE_COLUMN_WIDTHS = (60.0, 60.0, 60.0, 60.0)

BOM_TABLE = [
    ["ITEM", "PART NO", "DESCRIPTION", "QTY"],
    ["1", "P-100", "BASE PLATE", "1"],
    ["2", "P-200", "SHAFT", "2"],
    ["3", "P-300", "BUSHING", "4"],
]
BOM_ORIGIN = (442.0, 330.0)
BOM_COLUMN_WIDTHS = (40.0, 90.0, 190.0, 60.0)
ROW_HEIGHT = 18.0

TITLE_BLOCK_ORIGIN = (442.0, 425.0)
TITLE_BLOCK_WIDTH = 380.0
TITLE_ROW_HEIGHT = 30.0


def title_block_rows(drawing_number: str) -> list[list[tuple[str, str | None, float]]]:
    """Rows of (label, value, width) cells; value None means a one-line ``LABEL: value`` cell."""
    return [
        [("COMPANY: ACME ENGINEERING", None, 230.0), ("ORDER REF: PO-4471", None, 150.0)],
        [("TITLE", "MOUNTING BRACKET", 280.0), ("REV", "B", 100.0)],
        [("DRAWING NO", drawing_number, 190.0), ("DATE", "2024-01-15", 190.0)],
        [("MATERIAL", "AL 6061-T6", 190.0), ("SCALE", "1:2", 95.0), ("SHEET", "1 OF 2", 95.0)],
        [("DRAWN BY", "J. SMITH", 125.0), ("PROJECT", "ALPHA", 125.0), ("FINISH: ANODIZED", None, 130.0)],
    ]


def _new_pdf() -> FPDF:
    pdf = FPDF(orientation="L", unit="pt", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_creator("extraction_pipeline tests")
    pdf.set_title("Test drawing")
    return pdf


def _frame(pdf: FPDF) -> None:
    pdf.set_line_width(1.0)
    pdf.rect(20, 20, PAGE_WIDTH - 40, PAGE_HEIGHT - 40)
    pdf.set_line_width(0.5)


def ruled_table(
    pdf: FPDF,
    origin: tuple[float, float],
    column_widths: Sequence[float],
    rows: Sequence[Sequence[str]],
    *,
    border: int = 1,
    bold_header: bool = True,
) -> None:
    """Cells with borders (``border=0`` gives the same layout unruled); the first row in bold."""
    x0, y = origin
    for index, row in enumerate(rows):
        pdf.set_font("Helvetica", "B" if index == 0 and bold_header else "", VALUE_FONT_SIZE)
        x = x0
        for width, text in zip(column_widths, row, strict=True):
            pdf.set_xy(x, y)
            pdf.cell(width, ROW_HEIGHT, text, border=border)
            x += width
        y += ROW_HEIGHT


def title_block(pdf: FPDF, drawing_number: str) -> None:
    """Bordered cells: a small label at the top left and the value below it, or one ``LABEL: value`` line."""
    x0, y = TITLE_BLOCK_ORIGIN
    for row in title_block_rows(drawing_number):
        x = x0
        for label, value, width in row:
            pdf.rect(x, y, width, TITLE_ROW_HEIGHT)
            if value is None:
                pdf.set_font("Helvetica", "", VALUE_FONT_SIZE)
                pdf.text(x + 4, y + 19, label)
            else:
                pdf.set_font("Helvetica", "", LABEL_FONT_SIZE)
                pdf.text(x + 3, y + 8, label)
                pdf.set_font("Helvetica", "B", VALUE_FONT_SIZE)
                pdf.text(x + 6, y + 23, value)
            x += width
        y += TITLE_ROW_HEIGHT


def callouts(pdf: FPDF) -> None:
    pdf.set_font("Helvetica", "", TEXT_FONT_SIZE)
    for text, x, y in CALLOUTS:
        pdf.text(x, y, text)


def drawing_geometry(pdf: FPDF) -> None:
    """A part outline and a hole, as vector lines (what a CAD plot is made of)."""
    pdf.rect(60, 300, 300, 180)
    pdf.circle(x=210, y=390, radius=40)
    for offset in range(0, 300, 30):
        pdf.line(60 + offset, 480, 60 + offset, 500)


def build_drawing_pdf(path: Path, *, drawing_number: str = "DWG-1001", frame: bool = True) -> Path:
    """One-page drawing: callouts, a ruled hole table, a BOM and a title block (bottom right).

    With ``frame=False`` the title block is a free-standing ruled grid instead of part of the sheet frame.
    """
    pdf = _new_pdf()
    pdf.add_page()
    if frame:
        _frame(pdf)
    drawing_geometry(pdf)
    callouts(pdf)
    ruled_table(pdf, HOLE_TABLE_ORIGIN, HOLE_TABLE_COLUMN_WIDTHS, HOLE_TABLE)
    ruled_table(pdf, BOM_ORIGIN, BOM_COLUMN_WIDTHS, BOM_TABLE)
    title_block(pdf, drawing_number)
    pdf.output(str(path))
    return path


def build_two_page_pdf(path: Path, *, drawing_number: str = "DWG-2002") -> Path:
    """Page 1 holds notes and callouts, page 2 only the title block."""
    pdf = _new_pdf()
    pdf.add_page()
    _frame(pdf)
    pdf.set_font("Helvetica", "", TEXT_FONT_SIZE)
    pdf.text(60, 60, "NOTES:")
    pdf.text(60, 75, "1. BREAK ALL SHARP EDGES")
    pdf.text(60, 90, "2. UNLESS OTHERWISE SPECIFIED")
    callouts(pdf)
    pdf.add_page()
    _frame(pdf)
    title_block(pdf, drawing_number)
    pdf.output(str(path))
    return path


def build_unruled_table_pdf(path: Path, rows: Sequence[Sequence[str]] = HOLE_TABLE) -> Path:
    """A table laid out in columns with no lines at all."""
    pdf = _new_pdf()
    pdf.add_page()
    pdf.set_font("Helvetica", "", TEXT_FONT_SIZE)
    pdf.text(100, 80, "HOLE CHART")
    ruled_table(pdf, (100.0, 100.0), (70.0, 70.0, 70.0, 70.0), rows, border=0, bold_header=False)
    pdf.output(str(path))
    return path


def build_vector_only_pdf(path: Path, *, pages: int = 1, lines_per_page: int = 200) -> Path:
    """Pages of vector lines and no text: what a CAD plot without a text layer looks like."""
    pdf = _new_pdf()
    for _ in range(pages):
        pdf.add_page()
        _frame(pdf)
        for index in range(lines_per_page):
            y = 40 + (index * 2.5) % 500
            pdf.line(40, y, 40 + (index * 7) % 700, y + 10)
    pdf.output(str(path))
    return path


def build_encrypted_pdf(path: Path) -> Path:
    pdf = _new_pdf()
    pdf.add_page()
    pdf.set_font("Helvetica", "", TEXT_FONT_SIZE)
    pdf.text(60, 60, "SECRET")
    pdf.set_encryption(owner_password="owner", user_password="user")
    pdf.output(str(path))
    return path


def build_heavy_page_pdf(path: Path, *, vector_lines: int = 3500, title: str = "DRAWING NO: DWG-3003") -> Path:
    """A plot with more vector paths than pdfminer handles quickly, and a little text (``title`` bottom right)."""
    pdf = _new_pdf()
    pdf.add_page()
    for index in range(vector_lines):
        x, y = 30 + (index * 13) % 780, 30 + (index * 7) % 530
        pdf.line(x, y, x + 5 + index % 20, y + 3)
    pdf.set_font("Helvetica", "", TEXT_FONT_SIZE)
    pdf.text(80, 120, "Ø12.5 ±0.05")
    pdf.text(600, 560, title)
    pdf.output(str(path))
    return path


def build_text_pages_pdf(path: Path, pages: int) -> Path:
    """``pages`` pages, each saying ``PAGE n`` and carrying one radius callout ``R<n>``."""
    pdf = _new_pdf()
    pdf.set_font("Helvetica", "", TEXT_FONT_SIZE)
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.text(60, 60, f"PAGE {number}")
        pdf.text(60, 120, f"R{number}")
    pdf.output(str(path))
    return path


def build_table_pdf(path: Path, rows: Sequence[Sequence[str]], *, bold_header: bool = False) -> Path:
    """One ruled table of ``rows`` (first row bold only when asked) at (100, 100), 80 pt columns."""
    pdf = _new_pdf()
    pdf.add_page()
    ruled_table(pdf, (100.0, 100.0), [80.0] * len(rows[0]), rows, bold_header=bold_header)
    pdf.output(str(path))
    return path


def build_inch_drawing_pdf(path: Path) -> Path:
    """A note saying dimensions are in inches, and a diameter without a unit."""
    pdf = _new_pdf()
    pdf.add_page()
    pdf.set_font("Helvetica", "", TEXT_FONT_SIZE)
    pdf.text(60, 60, "ALL DIMENSIONS ARE IN INCHES")
    pdf.text(60, 200, "Ø.500 ±.005")
    pdf.output(str(path))
    return path


def build_grid_pdf(path: Path, *, cells: int = 60) -> Path:
    """A ``cells`` x ``cells`` grid of ruling lines (like a hatch or a plan grid) with a note on top."""
    pdf = _new_pdf()
    pdf.add_page()
    step_x, step_y = (PAGE_WIDTH - 40) / cells, (PAGE_HEIGHT - 40) / cells
    for index in range(cells + 1):
        pdf.line(20, 20 + index * step_y, PAGE_WIDTH - 20, 20 + index * step_y)
        pdf.line(20 + index * step_x, 20, 20 + index * step_x, PAGE_HEIGHT - 20)
    pdf.set_font("Helvetica", "", TEXT_FONT_SIZE)
    pdf.text(60, 60, "GRID 5 mm")
    pdf.output(str(path))
    return path


CELL_GRID_HEADER = ["HOLE", "X", "Y", "SIZE", "DEPTH"]
CELL_GRID_ROWS = 12  # the header and 11 body rows
CELL_GRID_COLUMNS = 5
CELL_SIZE_MM = (55.0, 7.0)


def cell_grid_rows(page: int, *, header: Sequence[str] | None = CELL_GRID_HEADER) -> list[list[str]]:
    """The cell texts of page ``page`` (0-based) of ``build_cell_grid_pdf``, header row first when there is one."""
    rows = [
        [f"P{page}-{row}-{column} 25.4 +/-0.1" for column in range(CELL_GRID_COLUMNS)] for row in range(CELL_GRID_ROWS)
    ]
    if header is not None:
        rows[0] = list(header)
    return rows


def build_cell_grid_pdf(
    path: Path,
    *,
    pages: int = 1,
    gutter_mm: tuple[float, float] = (5.0, 1.0),
    header: Sequence[str] | None = CELL_GRID_HEADER,
) -> Path:
    """``benchmarks/extractor_throughput.py``'s generated PDF: per A3 page a 12 x 5 table drawn cell by cell.

    Every cell is an fpdf2 ``cell(55, 7, text, border=1)`` (mm); ``gutter_mm`` is the (x, y) gap left between
    neighbouring cells: the benchmark's pitch of 60 x 8 mm leaves (5, 1), (0, 0) gives touching cells. The first
    row holds ``header`` (the benchmark has none: ``header=None``). A bordered ``DRAWING NO: ...`` cell sits
    at the bottom right, apart from the grid.
    """
    pdf = FPDF(format="A3", orientation="landscape")
    pdf.set_font("helvetica", size=9)
    pitch_x, pitch_y = CELL_SIZE_MM[0] + gutter_mm[0], CELL_SIZE_MM[1] + gutter_mm[1]
    for page in range(pages):
        pdf.add_page()
        for row, texts in enumerate(cell_grid_rows(page, header=header)):
            for column, text in enumerate(texts):
                pdf.set_xy(20 + pitch_x * column, 20 + pitch_y * row)
                pdf.cell(CELL_SIZE_MM[0], CELL_SIZE_MM[1], text, border=1)
        pdf.set_xy(300, 260)
        pdf.cell(100, 8, f"DRAWING NO: BM-{page:04d}   REV: B   SCALE: 1:2", border=1)
    pdf.output(str(path))
    return path


def build_side_by_side_tables_pdf(
    path: Path, left: Sequence[Sequence[str]], right: Sequence[Sequence[str]], *, gap: float = 10.0
) -> Path:
    """Two ruled tables of 80 pt columns side by side, ``gap`` points apart, their first rows in bold."""
    pdf = _new_pdf()
    pdf.add_page()
    widths = [80.0] * len(left[0])
    ruled_table(pdf, (100.0, 100.0), widths, left)
    ruled_table(pdf, (100.0 + sum(widths) + gap, 100.0), widths, right)
    pdf.output(str(path))
    return path


TITLE_STRIP_ORIGIN = (440.0, 480.0)  # bottom-right quarter of the A4 landscape page
TITLE_STRIP_LINE_PITCH = 14.0


def build_title_strip_pdf(
    path: Path,
    lines: Sequence[str | tuple[str, str]],
    *,
    origin: tuple[float, float] = TITLE_STRIP_ORIGIN,
) -> Path:
    """Free text lines (no ruling), 9 pt Helvetica unless a line is given as ``(text, font family)``.

    Each line is written as one string, spaces included, so ``"REV: B   SCALE: 1:2"`` keeps its three-space gap.
    """
    pdf = _new_pdf()
    pdf.add_page()
    x, y = origin
    for line in lines:
        text, family = (line, "Helvetica") if isinstance(line, str) else line
        pdf.set_font(family, "", VALUE_FONT_SIZE)
        pdf.text(x, y, text)
        y += TITLE_STRIP_LINE_PITCH
    pdf.output(str(path))
    return path


def build_one_line_pdf(path: Path) -> Path:
    """The smallest real drawing PDF: one page, one line of text ("DRAWING NO. 4711")."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="DRAWING NO. 4711")
    pdf.output(str(path))
    return path


def build_rotated_copy(source: Path, path: Path, degrees: int) -> Path:
    """``source`` with ``/Rotate degrees`` set on every page (content unchanged): a viewer shows it turned."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(source))
    try:
        for page in document:
            page.set_rotation(degrees)
        document.save(str(path))
    finally:
        document.close()
    return path


LONG_PARTS_LIST = [
    ["ITEM", "PART NO", "DESCRIPTION", "MATERIAL", "QTY"],
    *[[str(n), f"P-{100 * n}", f"SPACER {n}", "AL 6061", str(n % 4 + 1)] for n in range(1, 31)],
]


def build_parts_list_pdf(path: Path, rows: Sequence[Sequence[str]] = LONG_PARTS_LIST, *, grid_cells: int = 0) -> Path:
    """A long parts list drawn cell by cell (every inner rule drawn twice, as CAD exports do) at (40, 40).

    ``grid_cells`` > 0 adds a square plan grid of that many cells per side on the right half of the page.
    """
    pdf = _new_pdf()
    pdf.add_page()
    x0, y = 40.0, 40.0
    pdf.set_font("Helvetica", "", 7)
    for row in rows:
        x = x0
        for width, text in zip((30.0, 60.0, 90.0, 60.0, 30.0), row, strict=True):
            pdf.set_xy(x, y)
            pdf.cell(width, 12.0, text, border=1)
            x += width
        y += 12.0
    if grid_cells:
        left, top, size = 450.0, 60.0, 360.0
        for index in range(grid_cells + 1):
            offset = index * size / grid_cells
            pdf.line(left, top + offset, left + size, top + offset)
            pdf.line(left + offset, top, left + offset, top + size)
    pdf.output(str(path))
    return path


# --- bills of materials in other languages: a BOM document over pages, a parts list beside a title grid ----------

CATALAN_BOM_HEADER = ["Núm.", "Referència", "Descripció", "Quantitat", "Proveïdor"]
CATALAN_BOM_ITEMS = [
    [str(n), f"R-{1000 + n}", f"Conjunto tornillería {n}" if n % 10 == 0 else f"Cargol M{n % 5 + 3} x {10 + n}",
     str(n % 6 + 1), ["FARGUELL", "OLFER", "RS"][n % 3]]
    for n in range(1, 53)
]  # fmt: skip
"""Items 10, 20, ... are kits ("Conjunto ...": the word a Spanish title block labels an assembly with)."""
CATALAN_BOM_CAPTION = "SIGMA Escandall 31 Març 2016"
CATALAN_BOM_FIRST_PAGE_ITEMS = 30
_BOM_DOCUMENT_WIDTHS = (30.0, 70.0, 200.0, 60.0, 120.0)
_BOM_DOCUMENT_ROW = 12.0


def build_bom_document_pdf(path: Path, *, caption_cell: bool = False) -> Path:
    """A BOM document (A4 portrait, nothing else on it): ``CATALAN_BOM_ITEMS`` under ``CATALAN_BOM_HEADER`` in a
    table drawn cell by cell, 30 items on page 1 and the rest on page 2 without the header again.

    ``caption_cell``: the header row's cell rules are not drawn; one cell spanning the table holds the caption
    ``CATALAN_BOM_CAPTION`` over the header words, each written at its column's left (as spreadsheet exports do).
    """
    pdf = FPDF(orientation="P", unit="pt", format="A4")
    pdf.set_auto_page_break(False)
    pages = [CATALAN_BOM_ITEMS[:CATALAN_BOM_FIRST_PAGE_ITEMS], CATALAN_BOM_ITEMS[CATALAN_BOM_FIRST_PAGE_ITEMS:]]
    x0, width = 40.0, sum(_BOM_DOCUMENT_WIDTHS)
    for number, items in enumerate(pages, start=1):
        pdf.add_page()
        y = 60.0
        if number == 1 and caption_cell:
            pdf.rect(x0, y, width, 30.0)
            pdf.set_font("Helvetica", "B", 10)
            pdf.text(x0 + (width - pdf.get_string_width(CATALAN_BOM_CAPTION)) / 2, y + 11, CATALAN_BOM_CAPTION)
            pdf.set_font("Helvetica", "B", 7)
            x = x0
            for column_width, name in zip(_BOM_DOCUMENT_WIDTHS, CATALAN_BOM_HEADER, strict=True):
                pdf.text(x + 2, y + 26, name)
                x += column_width
            y += 30.0
        elif number == 1:
            _bom_row(pdf, x0, y, CATALAN_BOM_HEADER, bold=True)
            y += _BOM_DOCUMENT_ROW
        for item in items:
            _bom_row(pdf, x0, y, item, bold=False)
            y += _BOM_DOCUMENT_ROW
    pdf.output(str(path))
    return path


def _bom_row(pdf: FPDF, x: float, y: float, cells: Sequence[str], *, bold: bool) -> None:
    pdf.set_font("Helvetica", "B" if bold else "", 7)
    for column_width, text in zip(_BOM_DOCUMENT_WIDTHS, cells, strict=True):
        pdf.set_xy(x, y)
        pdf.cell(column_width, _BOM_DOCUMENT_ROW, text, border=1)
        x += column_width


SPANISH_PARTS_LIST = [
    ["Pos.", "Denominación", "Cantidad"],
    ["1", "Cable 18 AWG negro", "2"],
    ["2", "Conector MOLEX 39-01-4040", "2"],
    ["3", "Tubo termorretráctil", "1"],
]
# (x, y, width, text) cells of 20 pt rows, in the layout CAD templates print: fields of many widths, so the
# grid's columns are the union of everyone's edges and no row fills half of them
SPANISH_TITLE_GRID: list[tuple[float, float, float, str]] = [
    (442, 455, 120, "Escala 1:2"), (562, 455, 150, "Dibujado Joan Puig"), (712, 455, 110, "Hoja 1/1"),
    (442, 475, 200, "Referencia: BCN-M09C00"), (642, 475, 180, "Fecha de creación: 30/10/2015"),
    (442, 495, 90, "Versión V1.3"), (532, 495, 170, "Pieza: Soporte motor"), (702, 495, 120, "Material: PLA"),
    (442, 515, 260, "Tolerancias generales según ISO 2768-m"), (702, 515, 120, "Formato A4"),
]  # fmt: skip


_SIGNATURE_COLUMNS = [(442, 60), (502, 60), (562, 60), (622, 60), (682, 60), (742, 80)]
_SIGNATURE_LABELS = ["REV.", "QTY.", "No.", "SIG.", "DATE", "BM-4471"]
# a vendor's title block: a title cell, a row of labels with the drawing number, signature rows left blank
SIGNATURE_TITLE_GRID: list[tuple[float, float, float, str]] = [
    (442, 435, 380, "Title: Motor bracket"),
    *[(x, 455, w, text) for (x, w), text in zip(_SIGNATURE_COLUMNS, _SIGNATURE_LABELS, strict=True)],
    *[(x, y, w, label if x == 442 else "") for y, label in [(475, "DESIGN"), (495, "CHECK"), (515, "APPR."),
                                                              (535, "PROC.")] for x, w in _SIGNATURE_COLUMNS],
]  # fmt: skip


def build_parts_list_with_title_grid_pdf(
    path: Path, grid: Sequence[tuple[float, float, float, str]] = SPANISH_TITLE_GRID
) -> Path:
    """A drawing: part outline, ``SPANISH_PARTS_LIST`` ruled at (442, 330) and a title block grid of 20 pt rows
    at the bottom right, its cells sharing their rules: ``SPANISH_TITLE_GRID`` (label and value in one cell,
    Spanish labels) or ``SIGNATURE_TITLE_GRID`` (labels whose value cells are blank)."""
    pdf = _new_pdf()
    pdf.add_page()
    _frame(pdf)
    drawing_geometry(pdf)
    ruled_table(pdf, (442.0, 330.0), (40.0, 250.0, 90.0), SPANISH_PARTS_LIST)
    pdf.set_font("Helvetica", "", 7)
    for x, y, width, text in grid:
        pdf.rect(x, y, width, 20)
        pdf.text(x + 3, y + 13, text)
    pdf.output(str(path))
    return path


# --- dimension evidence: a dimensioned part, a schematic, a data table -----------------------------------


def _arrowhead(pdf: FPDF, tip: tuple[float, float], toward: tuple[float, float], size: float = 7.0) -> None:
    """A filled arrowhead with its tip at ``tip``, its body along the line towards ``toward``."""
    (tx, ty), (ox, oy) = tip, toward
    length = ((ox - tx) ** 2 + (oy - ty) ** 2) ** 0.5
    ux, uy = (ox - tx) / length, (oy - ty) / length
    base = (tx + ux * size, ty + uy * size)
    half = size / 3.5
    pdf.polygon(
        [tip, (base[0] - uy * half, base[1] + ux * half), (base[0] + uy * half, base[1] - ux * half)], style="F"
    )


def dimension_line(
    pdf: FPDF, start: tuple[float, float], end: tuple[float, float], text: str, *, ticks: bool = False
) -> None:
    """A dimension line between ``start`` and ``end`` with arrowheads (or architectural ticks) and its text
    written beside its middle (above a horizontal line, left of a vertical one, turned to read upwards)."""
    pdf.line(*start, *end)
    for tip, toward in ((start, end), (end, start)):
        if ticks:
            pdf.line(tip[0] - 4, tip[1] + 4, tip[0] + 4, tip[1] - 4)
        else:
            _arrowhead(pdf, tip, toward)
    middle = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    width = pdf.get_string_width(text)
    if start[1] == end[1]:
        pdf.text(middle[0] - width / 2, middle[1] - 2.5, text)
    else:
        with pdf.rotation(90, middle[0] - 2.5, middle[1] + width / 2):
            pdf.text(middle[0] - 2.5, middle[1] + width / 2, text)


def leader(pdf: FPDF, tip: tuple[float, float], elbow: tuple[float, float], text: str) -> None:
    """An arrow pointing at ``tip`` from ``elbow``, its text just right of the elbow."""
    pdf.line(*elbow, *tip)
    _arrowhead(pdf, tip, elbow)
    pdf.text(elbow[0] + 2, elbow[1] + 3, text)


# (label, value, dimension type, confidence) of build_dimensioned_part_pdf, in reading order
DIMENSIONED_PART_TRUTH: list[tuple[str, float, str, float]] = [
    ("R5", 5.0, "radius", 1.0),  # leader to the corner
    ("Ø20", 20.0, "diameter", 0.9),  # a written diameter without a line
    ("80", 80.0, "linear", 0.8),  # vertical dimension, text turned to read upwards
    ("120", 120.0, "linear", 0.8),  # bare number on a dimension line with arrowheads
    ("45 ±0.1", 45.0, "linear", 1.0),  # marked and on a line
    ("2400", 2400.0, "linear", 0.8),  # architectural ticks
]


def build_dimensioned_part_pdf(path: Path, *, hatch_lines: int = 0) -> Path:
    """A plate with dimension lines (arrowheads, ticks), a leader, a written Ø, and numbers that are no dimensions:
    a note's count, a detail bubble, pin-like numbers next to plain lines and an item number in a balloon.

    ``hatch_lines`` short slanted strokes in the top-right corner make it a heavy page (read through PDFium)."""
    pdf = _new_pdf()
    pdf.add_page()
    for index in range(hatch_lines):
        x, y = 600 + (index * 7) % 220, 30 + (index * 3) % 60
        pdf.line(x, y, x + 4, y + 4)
    pdf.set_line_width(0.25)
    pdf.rect(100, 150, 300, 200)  # the plate, 120 x 80 at 1:2.5
    pdf.set_font("Helvetica", "", TEXT_FONT_SIZE)
    leader(pdf, (400, 150), (440, 110), "R5")
    pdf.text(230, 250, "Ø20")
    pdf.circle(x=250, y=250, radius=20)
    dimension_line(pdf, (100, 390), (400, 390), "120")
    pdf.line(100, 350, 100, 395)  # extension lines
    pdf.line(400, 350, 400, 395)
    dimension_line(pdf, (70, 150), (70, 350), "80")
    dimension_line(pdf, (100, 420), (212.5, 420), "45 ±0.1")
    dimension_line(pdf, (450, 420), (700, 420), "2400", ticks=True)
    # numbers without dimension evidence
    pdf.text(500, 200, "3")  # a lone count
    pdf.line(480, 240, 560, 240)
    pdf.text(500, 237, "7")  # a pin number over a plain line
    pdf.circle(x=620, y=250, radius=10)
    pdf.text(617, 254, "4")  # an item balloon
    pdf.text(480, 300, "NOTE 2: BREAK EDGES")
    pdf.output(str(path))
    return path


SCHEMATIC_PARTS = [f"R{n}" for n in range(1, 19)] + [f"C{n}" for n in range(1, 6)] + ["U1", "U2", "Q1", "D1"]


def build_schematic_pdf(path: Path) -> Path:
    """A schematic sheet: reference designators (R1-R18, C1-C5, U1, U2, Q1, D1), part values, pin numbers beside
    wire stubs, net labels and a junction dot. Nothing on it is a dimension."""
    pdf = _new_pdf()
    pdf.add_page()
    pdf.set_font("Helvetica", "", 8)
    values = ["10k", "4k7", "100nF", "1uF", "BC547", "1N4148", "2R2", "5V"]
    for index, name in enumerate(SCHEMATIC_PARTS):
        x, y = 60 + (index % 9) * 85, 80 + (index // 9) * 150
        pdf.rect(x, y, 30, 12)
        pdf.text(x, y - 4, name)
        pdf.text(x, y + 24, values[index % len(values)])
        pdf.line(x - 20, y + 6, x, y + 6)  # wire stubs
        pdf.line(x + 30, y + 6, x + 50, y + 6)
        pdf.text(x - 14, y + 4, str(index % 8 + 1))  # pin numbers
        pdf.text(x + 36, y + 4, str(index % 8 + 2))
    pdf.circle(x=400, y=520, radius=2, style="F")
    pdf.text(420, 540, "VCC")
    pdf.text(420, 555, "GND")
    pdf.output(str(path))
    return path


DATA_TABLE_ROWS = [
    ["PART", "STOCK", "SOLD", "PRICE"],
    ["A-100", "804,006", "1,221", "12.50"],
    ["A-200", "15,300", "960", "8.75"],
    ["A-300", "2,048", "512", "101.00"],
    ["A-400", "77", "12", "3.20"],
]


def build_data_table_pdf(path: Path) -> Path:
    """A data sheet: an unruled table of counts (thousands separators) and prices, and a paragraph of prose."""
    pdf = _new_pdf()
    pdf.add_page()
    pdf.set_font("Helvetica", "", TEXT_FONT_SIZE)
    pdf.text(60, 60, "Stock report, week 12: 804,006 parts in store, 1,221 shipped.")
    ruled_table(pdf, (60.0, 100.0), (90.0, 90.0, 90.0, 90.0), DATA_TABLE_ROWS, border=0, bold_header=False)
    pdf.output(str(path))
    return path


# --- title blocks: ruled label|value grids, CAD drawing templates, repeated labels ----------------------


def _cell_text(pdf: FPDF, x: float, y: float, w: float, h: float, text: str, size: float, *, at: str) -> None:
    """``at``: "label" (top-left corner, tiny), "center" (centred in the cell), "left" (vertically centred)."""
    pdf.set_font("Helvetica", "", size)
    if at == "label":
        pdf.text(x + 2, y + size + 1, text)
    elif at == "center":
        pdf.text(x + (w - pdf.get_string_width(text)) / 2, y + h / 2 + size / 2 + 2, text)
    else:
        pdf.text(x + 4, y + h / 2 + size / 3, text)


LABEL_VALUE_GRID = [("DRAWING NO", "BM-2040"), ("TITLE", "GEAR HOUSING"), ("MATERIAL", "42CrMo4"),
                    ("SCALE", "1:5"), ("REV", "C"), ("DATE", "2024-03-01")]  # fmt: skip


def build_label_value_grid_pdf(path: Path, rows: Sequence[tuple[str, str]] = LABEL_VALUE_GRID) -> Path:
    """A ruled two-column grid at the bottom right: label cell (no colon) left of its value cell, same font."""
    pdf = _new_pdf()
    pdf.add_page()
    _frame(pdf)
    x, y = 560.0, 420.0
    for label, value in rows:
        pdf.rect(x, y, 90, 20)
        pdf.rect(x + 90, y, 170, 20)
        _cell_text(pdf, x, y, 90, 20, label, 8, at="left")
        _cell_text(pdf, x + 90, y, 170, 20, value, 8, at="left")
        y += 20
    pdf.output(str(path))
    return path


LABELS_ABOVE_GRID = [[("DRAWING NO", "BM-2041"), ("REV", "D"), ("SCALE", "2:1")],
                     [("MATERIAL", "S355"), ("SHEET", "1 OF 3"), ("DATE", "2024-03-02")]]  # fmt: skip


def build_labels_above_grid_pdf(path: Path) -> Path:
    """A ruled grid at the bottom right: a row of label cells over a row of value cells, twice."""
    pdf = _new_pdf()
    pdf.add_page()
    _frame(pdf)
    y = 440.0
    for pairs in LABELS_ABOVE_GRID:
        x = 520.0
        for label, value in pairs:
            pdf.rect(x, y, 100, 16)
            pdf.rect(x, y + 16, 100, 20)
            _cell_text(pdf, x, y, 100, 16, label, 8, at="left")
            _cell_text(pdf, x, y + 16, 100, 20, value, 9, at="left")
            x += 100
        y += 36
    pdf.output(str(path))
    return path


# (x, y, width, height, label, value) in the bottom-right corner; label tiny at the top left, value centred
ANSI_TEMPLATE_CELLS: list[tuple[float, float, float, float, str, str]] = [
    (462, 455, 60, 14, "", ""), (522, 455, 70, 14, "NAME", ""), (592, 455, 50, 14, "DATE", ""),
    (462, 469, 60, 16, "DRAWN", ""), (522, 469, 70, 16, "", "J. DOE"), (592, 469, 50, 16, "", "2024-02-03"),
    (462, 485, 60, 16, "CHECKED", ""), (522, 485, 70, 16, "", "K. LEE"), (592, 485, 50, 16, "", "2024-02-04"),
    (642, 455, 180, 46, "TITLE:", "SHAFT COUPLING"),
    (462, 501, 180, 34, "MATERIAL", "AISI 304"), (642, 501, 40, 34, "SIZE", "A"),
    (682, 501, 100, 34, "DWG. NO.", "SC-7781"), (782, 501, 40, 34, "REV", "B"),
    (462, 535, 180, 22, "FINISH", "PASSIVATED"), (642, 535, 60, 22, "SCALE: 1:2", ""),
    (702, 535, 60, 22, "WEIGHT:", ""), (762, 535, 60, 22, "SHEET 1 OF 1", ""),
]  # fmt: skip
ISO_TEMPLATE_CELLS: list[tuple[float, float, float, float, str, str]] = [
    (432, 440, 95, 28, "Created by", "J. Doe"), (527, 440, 95, 28, "Approved by", "K. Lee"),
    (622, 440, 100, 28, "Document type", "DETAIL DRAWING"), (722, 440, 100, 28, "Document status", "RELEASED"),
    (432, 468, 190, 28, "Legal owner", "ACME GMBH"), (622, 468, 200, 28, "Title", "SHAFT COUPLING"),
    (432, 496, 95, 28, "Material", "1.4301"), (527, 496, 95, 28, "Scale", "1:1"),
    (622, 496, 110, 28, "Identification number", "SC-7782"), (732, 496, 30, 28, "Rev.", "A"),
    (762, 496, 60, 28, "Date of issue", "2024-02-05"),
    (732, 524, 90, 28, "Sheet", "1/2"), (432, 524, 300, 28, "Supplementary title", "FLANGE SIDE"),
]  # fmt: skip


def build_template_title_block_pdf(path: Path, cells: Sequence[tuple[float, float, float, float, str, str]]) -> Path:
    """A CAD drawing template's title block: small ruled cells, 5 pt labels at their top left, 9 pt values centred
    (``ANSI_TEMPLATE_CELLS``: SolidWorks' ANSI layout with a NAME/DATE grid; ``ISO_TEMPLATE_CELLS``: ISO 7200)."""
    pdf = _new_pdf()
    pdf.add_page()
    _frame(pdf)
    pdf.set_line_width(0.3)
    for x, y, width, height, label, value in cells:
        pdf.rect(x, y, width, height)
        if label:
            _cell_text(pdf, x, y, width, height, label, 5, at="label")
        if value:
            _cell_text(pdf, x, y, width, height, value, 9, at="center")
    pdf.output(str(path))
    return path


def build_repeated_label_pdf(path: Path) -> Path:
    """Labels that print twice: overprinted (fake bold, 0.3 pt apart) and a label run repeated in one line
    ("Sheet Sheet"), each with its value in the cell below."""
    pdf = _new_pdf()
    pdf.add_page()
    _frame(pdf)
    pdf.set_font("Helvetica", "", 7)
    for dx in (0.0, 0.3):  # overprint
        pdf.text(560 + dx, 470, "Document Number")
    pdf.text(700, 470, "Sheet Sheet")
    pdf.rect(555, 460, 140, 40)
    pdf.rect(695, 460, 120, 40)
    pdf.set_font("Helvetica", "", 10)
    pdf.text(560, 488, "DN-5521")
    pdf.text(700, 488, "2 of 4")
    pdf.output(str(path))
    return path


# --- table evidence: tables joined to the sheet frame, three-column prose ------------------------------------

REVISION_TABLE = [
    ["REV", "DESCRIPTION", "DATE", "BY"],
    ["A", "FIRST ISSUE", "2024-01-15", "JS"],
    ["B", "HOLE MOVED", "2024-02-20", "KL"],
]
FRAME_TABLE_ROWS = [["HOLE", "X", "Y", "SIZE"], ["A1", "25.0", "40.0", "Ø6.6"], ["A2", "75.0", "40.0", "Ø6.6"]]


def build_tables_on_frame_pdf(path: Path) -> Path:
    """A revision table in the frame's top-right corner and a hole table on its left border, both sharing the
    frame's lines (pdfplumber sees frame and tables as one grid with a page-sized cell), and a parts list on
    the bottom border."""
    pdf = _new_pdf()
    pdf.add_page()
    _frame(pdf)  # 20..822 x 20..575
    ruled_table(pdf, (822.0 - 320, 20.0), (40.0, 140.0, 80.0, 60.0), REVISION_TABLE)
    ruled_table(pdf, (20.0, 200.0), (60.0, 60.0, 60.0, 60.0), FRAME_TABLE_ROWS)
    ruled_table(pdf, (300.0, 575.0 - 4 * ROW_HEIGHT), BOM_COLUMN_WIDTHS, BOM_TABLE)
    pdf.output(str(path))
    return path


PROSE = (
    "The bracket is machined from one billet and anodized after all holes are drilled and reamed to size. "
    "Deburr every edge before the part is cleaned, and keep the datum faces free of tool marks and scratches. "
    "Inspect the bores with a plug gauge; record the measured values on the inspection sheet for each batch. "
)


def build_three_column_prose_pdf(path: Path, paragraphs: int = 3) -> Path:
    """A page of prose set in three justified columns (a datasheet or a standard): no table on it."""
    pdf = _new_pdf()
    pdf.add_page()
    pdf.set_font("Helvetica", "", 9)
    for column in range(3):
        pdf.set_xy(40 + column * 260, 60)
        pdf.set_left_margin(40 + column * 260)
        pdf.multi_cell(240, 12, (PROSE * 2 + "\n") * paragraphs, align="L")
    pdf.output(str(path))
    return path


def build_outlined_dimension_pdf(path: Path, *, hatch_lines: int = 0) -> Path:
    """A plate with a dimension line (filled arrowheads, extension lines) whose value ``120`` and a note are glyph
    outlines, no text layer: only OCR reads the text, and only the drawn line makes ``120`` a dimension.

    ``hatch_lines`` short strokes in the top-right corner make it a heavy page (geometry read with PDFium)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import PathPatch, Polygon
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    figure = Figure(figsize=(PAGE_WIDTH / 72, PAGE_HEIGHT / 72))
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, PAGE_WIDTH)
    axes.set_ylim(0, PAGE_HEIGHT)
    axes.axis("off")

    def line(x0: float, y0: float, x1: float, y1: float) -> None:  # top-left coordinates
        axes.plot([x0, x1], [PAGE_HEIGHT - y0, PAGE_HEIGHT - y1], color="black", linewidth=0.8)

    def text(value: str, x: float, baseline: float, size: float = 14.0) -> None:
        outline = TextPath((0, 0), value, size=size, prop=FontProperties(family="DejaVu Sans"))
        place = Affine2D().translate(x, PAGE_HEIGHT - baseline)
        axes.add_patch(PathPatch(place.transform_path(outline), facecolor="black", linewidth=0))

    for x0, y0, x1, y1 in [(150, 200, 450, 200), (450, 200, 450, 350), (450, 350, 150, 350), (150, 350, 150, 200)]:
        line(x0, y0, x1, y1)  # the plate
    line(150, 350, 150, 400)  # extension lines
    line(450, 350, 450, 400)
    line(150, 390, 450, 390)  # the dimension line
    for tip, direction in (((150.0, 390.0), 1), ((450.0, 390.0), -1)):
        base = tip[0] + direction * 9
        corners = [(tip[0], PAGE_HEIGHT - tip[1]), (base, PAGE_HEIGHT - tip[1] - 3), (base, PAGE_HEIGHT - tip[1] + 3)]
        axes.add_patch(Polygon(corners, closed=True, facecolor="black", linewidth=0))
    text("120", 283, 384)
    for index in range(hatch_lines):
        x, y = 600 + (index * 7) % 170, 30 + (index * 3) % 60
        line(x, y, x + 4, y + 4)
    text("7", 600, 150)  # a lone number: no dimension
    text("NOTE: BREAK EDGES", 520, 500, size=12)
    figure.savefig(path, format="pdf")
    return path


def build_neighbouring_labels_pdf(path: Path) -> Path:
    """What OCR and crowded title blocks give: a label run that ends in the next cell's label
    (``DRAWN BY: CHECKED``), and a ``DATE:`` label with a vertical note just under it; neither has a value."""
    pdf = _new_pdf()
    pdf.add_page()
    pdf.set_font("Helvetica", "", 8)
    pdf.text(560, 470, "DRAWING NO: DN-7")
    pdf.text(560, 490, "DRAWN BY: CHECKED")
    pdf.text(700, 470, "DATE:")
    with pdf.rotation(90, 704, 520):
        pdf.text(704, 520, "WRITTEN")
    pdf.output(str(path))
    return path


def build_notes_in_title_area_pdf(path: Path) -> Path:
    """A title block with a small unknown label over its value (PROJECT / ALPHA) and, inside the same area, a
    note in small capitals whose sentence goes on in a larger font (not a label and its value)."""
    pdf = _new_pdf()
    pdf.add_page()
    pdf.set_font("Helvetica", "", 9)
    pdf.text(560, 470, "DRAWING NO: DN-8")
    pdf.set_font("Helvetica", "", 6)
    pdf.text(560, 490, "PROJECT")
    pdf.text(680, 490, "ADJUSTABLE FEET.")
    pdf.set_font("Helvetica", "", 9)
    pdf.text(560, 502, "ALPHA")
    pdf.text(680, 502, "SPACE FOR TRASH CAN,")
    pdf.text(760, 530, "REV: A")  # the title block area spans the note
    pdf.output(str(path))
    return path
