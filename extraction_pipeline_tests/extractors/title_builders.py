"""Title block sheets for the title block tests: ruled cells and texts in a Unicode font (accents, Czech letters).

A sheet is data: rectangles (the ruling of its cells) and texts (``x``, baseline ``y``, size, text). The templates
are the kinds of title blocks CAD tools print in several languages:

- ``CATALAN_SOLIDWORKS``: a label over its value in one cell, a row of labels printed *under* its values
  (``1 | AW 2030`` over ``Quant. | Material``), ``Peça:`` with its value right of it;
- ``GERMAN_GRID``: label | value cells side by side (``Zeichnungsnr. | ZN-4711-02``);
- ``FRENCH_ROWS``: rows of label cells over rows of value cells;
- ``CZECH_INVENTOR``: bilingual labels (``NÁZEV / TITLE:``), a sheet printed ``1`` ``2`` (its slash drawn);
- ``EMPTY_CELLS_BESIDE_VALUES``: SCALE, REV and DATE cells left empty beside cells holding other values;
- ``REVISION_TABLE_SHEET``: a title block without REV and a revision table whose rows are not in date order;
- ``ARCHITECTURAL_STRIP``: a Revit sheet's right strip without labels;
- ``notes_named_sheet``: MATERIAL and FINISH cells saying where their value is (``SEE NOTES``, ``VER NOTAS``) and
  the notes that give it (``MATERIAL: ALUMINIUM``), in English or Spanish;
- ``WATERMARKED_CATALAN``: ``CATALAN_SOLIDWORKS`` under an educational licence's watermark, a line of larger text
  laid across the cells on the values' baseline;
- ``ocr_read_cells_page``: the page OCR gives of a ruled title block whose ``Title:`` label it sized a tenth
  larger than the value under it in the same cell (sizes OCR estimates from the boxes of the lines);
- ``build_vertical_strip_pdf``: a civil sheet's right strip, its lines turned a quarter (read bottom to top) over
  a labelled block: the firm's logo word at the strip's far end, the sheet title, the client and the address.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import ezdxf
import matplotlib
from fpdf import FPDF

from extraction_pipeline.extractors.pdf.model import Edge, Page, PageObjects, Rules, Run

Rect = tuple[float, float, float, float]  # x, y, width, height
Text = tuple[float, float, float, str]  # x, baseline y, size, text
Sheet = tuple[list[Rect], list[Text]]

_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
_LABEL, _VALUE = 7.0, 10.0


def build_sheet_pdf(path: Path, sheet: Sheet, *, turned: Sequence[Text] = ()) -> Path:
    """An A4 landscape sheet with a frame, the rectangles ruled and the texts in DejaVu Sans; the ``turned`` texts
    written a quarter turn counter-clockwise from their start."""
    rects, texts = sheet
    pdf = FPDF(orientation="L", unit="pt", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_font("DejaVu", "", str(_FONTS / "DejaVuSans.ttf"))
    pdf.add_page()
    pdf.set_line_width(1.0)
    pdf.rect(20, 20, 802, 555)
    pdf.set_line_width(0.4)
    for x, y, width, height in rects:
        pdf.rect(x, y, width, height)
    for x, y, size, text in texts:
        pdf.set_font("DejaVu", "", size)
        pdf.text(x, y, text)
    for x, y, size, text in turned:
        pdf.set_font("DejaVu", "", size)
        with pdf.rotation(90, x, y):
            pdf.text(x, y, text)
    pdf.output(str(path))
    return path


def _cell(x: float, y: float, w: float, h: float, label: str, value: str = "", at: str = "below") -> Sheet:
    """A ruled cell with its label at the top left and its value under it, right of it, or alone (``at``)."""
    texts: list[Text] = []
    if label:
        texts.append((x + 3, y + 9, _LABEL, label))
    if value and at == "below":
        texts.append((x + 6, y + 9 + 14, _VALUE, value))
    elif value and at == "right":
        texts.append((x + w / 2, y + 9, _VALUE, value))
    elif value and at == "low-right":
        texts.append((x + w / 2, y + h - 5, _VALUE, value))
    return [(x, y, w, h)], texts


def _value_cell(x: float, y: float, w: float, h: float, value: str) -> Sheet:
    return [(x, y, w, h)], [(x + 4, y + h - 5, _VALUE, value)] if value else []


def _sheet(*parts: Sheet) -> Sheet:
    return [r for rects, _ in parts for r in rects], [t for _, texts in parts for t in texts]


CATALAN_SOLIDWORKS = _sheet(
    _value_cell(420, 400, 40, 18, "1"), _value_cell(460, 400, 100, 18, "AW 2030"),
    _value_cell(560, 400, 100, 18, "18 x 15 x 10"),
    _cell(420, 418, 40, 16, "Quant."), _cell(460, 418, 100, 16, "Material"), _cell(560, 418, 100, 16, "Mides màx."),
    _cell(420, 434, 140, 40, "Referència", "BCN-M06-P03A"), _cell(560, 434, 100, 40, "Peça:", "Hot block", "right"),
    _cell(420, 474, 70, 32, "Escala", "2:1"), _cell(490, 474, 70, 32, "Dibuixat", "Vicenç Villa"),
    _cell(560, 474, 100, 32, "Versió plànol", "V1.1"),
    _cell(420, 506, 70, 32, "Full / Total", "1/1"), _cell(490, 506, 70, 32, "Comprovat", "Bernat Poll"),
    _cell(560, 506, 100, 32, "Data de creació", "03/09/2015", "low-right"),
)  # fmt: skip


def _label_value_row(y: float, *pairs: tuple[str, str]) -> Sheet:
    x, parts = 440.0, []
    for label, value in pairs:
        parts += [_cell(x, y, 80, 18, label), _value_cell(x + 80, y, 110, 18, value)]
        x += 190
    return _sheet(*parts)


GERMAN_GRID = _sheet(
    _label_value_row(470, ("Zeichnungsnr.", "ZN-4711-02"), ("Blatt", "1 von 2")),
    _label_value_row(488, ("Benennung", "Lagerdeckel"), ("Maßstab", "1:2")),
    _label_value_row(506, ("Werkstoff", "S235JR"), ("Datum", "14.03.2023")),
    _label_value_row(524, ("Oberfläche", "verzinkt"), ("Gezeichnet", "M. Müller")),
    _label_value_row(542, ("Änderung", "B"), ("Firma", "Müller GmbH")),
)


def _labels_over_values(y: float, columns: Sequence[tuple[float, str, str]]) -> Sheet:
    x, parts = 400.0, []
    for width, label, value in columns:
        parts += [_cell(x, y, width, 14, label), _value_cell(x, y + 14, width, 20, value)]
        x += width
    return _sheet(*parts)


FRENCH_ROWS = _sheet(
    _labels_over_values(
        480,
        [(90, "N° de plan", "PL-220-A"), (130, "Désignation", "Support moteur"), (60, "Échelle", "1:5"),
         (110, "Matière", "Aluminium 6061"), (50, "Indice", "C")],
    ),
    _labels_over_values(
        514,
        [(90, "Date", "05/04/2022"), (130, "Dessiné par", "A. Martin"), (60, "Feuille", "2/3"),
         (110, "Société", "Ateliers Martin"), (50, "", "")],
    ),
)  # fmt: skip

CZECH_INVENTOR = _sheet(
    _cell(480, 430, 200, 28, "MATERIÁL:", "EN AW-7075 T6", "low-right"),
    ([(480, 458, 80, 30)], [(483, 467, _LABEL, "MĚŘÍTKO / SCALE:"), (530, 483, 14, "3 : 1")]),
    ([(560, 458, 120, 30)], [(563, 467, _LABEL, "SHEET:"), (620, 483, 14, "1"), (655, 483, 14, "2")]),
    _cell(480, 488, 200, 34, "NÁZEV / TITLE:", "MINI HEATERBLOCK"),
    _cell(480, 522, 200, 34, "ČÍSLO VÝKRESU / NUMBER:", "mini-heaterblock-1D"),
    _cell(680, 430, 100, 28, "DATUM:", "8.1.2020"),
    _cell(680, 458, 100, 30, "KRESLIL:", "Dan Novák"),
    _cell(680, 488, 100, 68, "REVIZE", "1D"),
)

EMPTY_CELLS_BESIDE_VALUES = _sheet(
    _cell(440, 440, 60, 30, "REV"), _value_cell(500, 440, 300, 30, "ANGULAR ± 1°"),
    _cell(440, 470, 60, 30, "SCALE"), _cell(500, 470, 120, 30, "DWG NO", "4910"),
    _cell(620, 470, 60, 30, "DATE"), _value_cell(680, 470, 120, 30, "2.5X"),
    _cell(440, 500, 60, 30, "DRAWN", "BOONE"), _cell(500, 500, 300, 30, "TITLE", "SPADE TERMINAL"),
)  # fmt: skip

_REVISIONS = [("REV", "DESCRIPTION", "DATE"), ("B", "HOLE MOVED", "2024-03-02"), ("A", "RELEASED", "2024-01-15"),
              ("C", "THICKER WALL", "2024-05-20")]  # fmt: skip
REVISION_TABLE_SHEET = _sheet(
    *(
        _value_cell(560 + x, 40 + 18 * row, width, 18, cells[col])
        for row, cells in enumerate(_REVISIONS)
        for col, (x, width) in enumerate([(0, 40), (40, 160), (200, 60)])
    ),
    _label_value_row(520, ("DWG NO", "RT-100"), ("TITLE", "BRACKET")),
)

ARCHITECTURAL_STRIP = _sheet(
    ([(700, 300, 120, 120), (700, 420, 120, 60), (700, 480, 120, 90)], []),
    ([], [(715, 330, 12, "David/Susan"), (730, 346, 12, "Schultz"), (705, 370, 12, "3232 Aalseth Lane")]),
    ([], [(705, 440, 12, "Building Sections"), (775, 490, 6, "12.11.2014"), (725, 530, 24, "A-301")]),
    ([], [(770, 562, 6, '1/4" = 1\'-0"'), *((60 + 90 * i, 200, 6, f"GRID {i}") for i in range(6))]),
)


VERTICAL_STRIP = _sheet(
    _cell(765, 420, 57, 30, "SCALE", "AS SHOWN"), _cell(765, 450, 57, 30, "DATE", "4-30-13"),
    _cell(765, 480, 57, 30, "DRAWN", "JDOY"), _cell(765, 510, 57, 30, "SHEET", "1 OF 1"),
    ([(765, 20, 57, 400)], [(40, 60, 8, "GENERAL NOTES"), (40, 75, 7, "ALL WORK PER CITY STANDARDS")]),
    ([], [(40 + 120 * i, 300, 7, f"STATION {i}+00") for i in range(5)]),
)  # fmt: skip
VERTICAL_STRIP_TURNED: list[Text] = [
    (785, 150, 16, "acmeworks"), (800, 150, 6, "surveyors engineers"),  # the logo at the far end
    (780, 400, 8, "CITY OF RIVERTON, OAK COUNTY"), (792, 400, 9, "100 MAIN STREET"),
    (804, 400, 9, "RIVERSIDE HOLDINGS"), (816, 400, 12, "GRADING PLAN"),
]  # fmt: skip
"""Lines of the strip turned a quarter counter-clockwise: x, y of their start, size, text."""


WATERMARKED_CATALAN = _sheet(
    CATALAN_SOLIDWORKS,
    ([], [(400, 527, 14, "Edición para educación de SolidWorks."), (404, 545, 14, "Sólo para uso educativo.")]),
)


_NOTES_WORDS = {
    "en": ("NOTES:", "MATERIAL", "FINISH", "DRAWING NO", "TITLE", "SEE NOTES", "ALUMINIUM 6082-T6", "ANODIZED BLACK"),
    "es": ("NOTAS:", "MATERIAL", "ACABADO", "Nº PLANO", "TÍTULO", "VER NOTAS", "ACERO S275JR", "GALVANIZADO"),
}


def notes_named_sheet(language: str) -> Sheet:
    """A title block whose MATERIAL and FINISH cells refer to the notes, and the notes naming both (top left)."""
    notes, material, finish, number, title, see_notes, material_value, finish_value = _NOTES_WORDS[language]
    return _sheet(
        ([], [(40, 60, 9, notes), (40, 75, 9, f"1. {material}: {material_value}"),
              (40, 90, 9, f"2. {finish}: {finish_value}"), (40, 105, 9, "3. BREAK ALL SHARP EDGES.")]),
        _cell(440, 480, 120, 30, material, see_notes), _cell(560, 480, 120, 30, finish, see_notes),
        _cell(440, 510, 120, 30, number, "NT-5120"), _cell(560, 510, 120, 30, title, "SENSOR BRACKET"),
    )  # fmt: skip


def ocr_read_cells_page(value_size: float) -> Page:
    """An A4 landscape page as read by OCR: three ruled cells (label at the top, value under it), the label lines
    10.9 pt as OCR estimated them and the values ``value_size``."""
    page = Page(1, 842.0, 595.0, 0, PageObjects())
    cells = [(600.0, 460.0, "Title:", "Specification"), (700.0, 460.0, "Drawing No:", "SM42-1684"),
             (600.0, 512.0, "Date:", "2015-03-09")]  # fmt: skip
    for x, y, label, value in cells:
        page.runs.append(_ocr_run(label, x + 3, y + 4, 10.9))
        page.runs.append(_ocr_run(value, x + 8, y + 28, value_size))
    xs, ys = (600.0, 700.0, 800.0), (460.0, 512.0, 564.0)
    page.rules = Rules(
        [Edge(xs[0], y, xs[-1], y) for y in ys], [Edge(x, ys[0], x, ys[-1]) for x in xs]
    )  # fmt: skip
    return page


def _ocr_run(text: str, x: float, top: float, size: float) -> Run:
    width = 0.55 * size * len(text)
    return Run(text, 1, x, top, x + width, top + 1.5 * size, font_size=size, source="ocr", confidence=0.95)


def build_vertical_strip_pdf(path: Path) -> Path:
    """``VERTICAL_STRIP`` with ``VERTICAL_STRIP_TURNED`` written bottom to top along the right edge."""
    return build_sheet_pdf(path, VERTICAL_STRIP, turned=VERTICAL_STRIP_TURNED)


def build_nested_title_block_dxf(path: Path) -> Path:
    """A sheet border block placed in paper space holding a nested, attributed title block insert (QCAD's
    templates): the title block's ATTRIBs belong to the nested insert, not to any insert of a layout."""
    doc = ezdxf.new("R2010")
    title = doc.blocks.new("Title")
    for tag in ("Title", "Date", "Scale"):
        title.add_attdef(tag, (0, 0))
    border = doc.blocks.new("Border")
    border.add_lwpolyline([(0, 0), (297, 0), (297, 210), (0, 210)], close=True)
    border.add_blockref("Title", (200, 10)).add_auto_attribs({"Title": "Flange", "Date": "11/10/2017", "Scale": "1:1"})
    doc.paperspace().add_blockref("Border", (0, 0))
    doc.modelspace().add_line((0, 0), (100, 0))
    doc.saveas(path)
    return path


def scanned_site_plan_pages() -> list[Page]:
    """A scanned civil permit set as OCR reads it (runs in points, A3 landscape).

    Page 1: site data at the left (``Lot area | 12,000`` ...) on the same lines as the title block's stacked labels
    and values at the right edge (DATE over ``4-30--13``, the OCR doubling a hyphen; DRAFTER over JDOY; CHECKED);
    the firm's name and SCALE over the labels, DWG. NO. under them and the title last; a city's approval stamp in
    the drawing with ``ID#`` over ``ORIGINAL``.
    Page 2: the city's permit form, ``Description:`` over ``Change of use``, another template.
    """
    sheet = Page(1, 1190.0, 842.0, 0, PageObjects())
    data = [("Lot area", "12,000"), ("Building", "2,500"), ("Parking", "14")]
    labels = ["DATE", "4-30--13", "DRAFTER", "JDOY", "CHECKED"]
    for row, top in enumerate((600.0, 615.0, 630.0, 645.0, 660.0)):
        if row < len(data):
            sheet.runs += [_ocr_run(data[row][0], 100.0, top, 8.0), _ocr_run(data[row][1], 200.0, top, 8.0)]
        sheet.runs.append(_ocr_run(labels[row], 1110.0, top, 8.0))
    sheet.runs += [
        _ocr_run("ACME CIVIL LLC", 1105.0, 553.0, 8.0),
        _ocr_run("SCALE", 1110.0, 570.0, 8.0),
        _ocr_run("AS SHOWN", 1110.0, 582.0, 8.0),
        _ocr_run("DWG. NO.", 1110.0, 700.0, 8.0),
        _ocr_run("C-1", 1115.0, 715.0, 12.0),
        _ocr_run("SITE PLAN", 1105.0, 734.0, 10.0),
        _ocr_run("ID#", 700.0, 300.0, 8.0),
        _ocr_run("ORIGINAL", 700.0, 315.0, 8.0),
    ]
    form = Page(2, 612.0, 792.0, 0, PageObjects())
    for top, label, value in ((100.0, "Description:", "Change of use"), (120.0, "Status:", "Approved")):
        form.runs += [_ocr_run(label, 60.0, top, 9.0), _ocr_run(value, 200.0, top, 9.0)]
    return [sheet, form]


def zoning_data_page() -> Page:
    """A site plan's zoning data as ``Label: value`` lines from one left edge (as read: runs), a numbered note and a
    two-line list beside it, and a title block whose fields are ``LABEL: value`` lines too."""
    page = Page(1, 1190.0, 842.0, 0, PageObjects())
    lines = ["Building Height: N/A", "Lot Area: 12,000 S.F.", "Total Square Footage of Building: 26,663 S.F."]
    page.runs += [_ocr_run(text, 100.0, 500.0 + 14.0 * row, 8.0) for row, text in enumerate(lines)]
    page.runs += [_ocr_run("1. MATERIAL: SEE BOM", 400.0, 500.0, 8.0), _ocr_run("2. FINISH: NONE", 400.0, 514.0, 8.0)]
    page.runs += [_ocr_run("Parking: 14", 600.0, 500.0, 8.0), _ocr_run("Bicycles: 4", 600.0, 514.0, 8.0)]
    fields = ["DRAWN BY: J. DOE", "DATE: 2024-03-01", "SCALE: 1:100", "DWG NO: C-101"]
    page.runs += [_ocr_run(text, 1000.0, 740.0 + 14.0 * row, 8.0) for row, text in enumerate(fields)]
    return page
