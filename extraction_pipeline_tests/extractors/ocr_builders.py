"""Drawings whose text exists only as pictures: glyph outlines drawn as PDF paths, or a raster image.

One sheet (landscape letter, 792 x 612 pt) with a frame, a ruled title block of ``LABEL: value`` cells, a
horizontal and a vertical toleranced dimension (the vertical one's text turned 90 degrees, read bottom to top), a
thread callout with a leader and a small ruled BOM. Every string is drawn with matplotlib's ``TextPath`` (DejaVu
Sans outlines filled as paths), so PDFium finds no character on the page: only OCR can read it.

- ``build_outlined_text_pdf``: the sheet as vector paths (a CAD plot with stroked text);
- ``build_raster_pdf``: the sheet as one 300 dpi image on a PDF page (a scan);
- ``build_drawing_png`` / ``build_multipage_tiff``: the sheet as raster uploads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.textpath import TextPath
from matplotlib.transforms import Affine2D
from PIL import Image

PAGE_WIDTH, PAGE_HEIGHT = 792.0, 612.0
RASTER_DPI = 300
_FONT = FontProperties(family="DejaVu Sans")


@dataclass(frozen=True)
class Label:
    text: str
    x: float  # left end of the baseline, points from the left edge
    y: float  # baseline, points from the top edge
    size: float = 11.0
    rotation: float = 0.0  # counter-clockwise; 90 reads bottom to top


TITLE_BLOCK = [
    Label("DRAWING NO: BM-2041", 500, 500),
    Label("TITLE: MOUNTING BRACKET", 500, 530),
    Label("REV: C", 500, 560),
    Label("SCALE: 1:2", 620, 560),
    Label("MATERIAL: AL6061-T6", 500, 590),
]
BOM_ROWS = [
    ("ITEM", "PART NO", "DESCRIPTION", "QTY"),
    ("1", "BM-2041-01", "BRACKET", "1"),
    ("2", "ISO 4762", "SCREW", "4"),
    ("3", "ISO 7089", "WASHER", "4"),
]
BOM_COLUMNS = (470.0, 520.0, 620.0, 720.0, 770.0)  # x of the vertical rules
BOM_TOP, BOM_ROW_HEIGHT = 60.0, 24.0
ANNOTATIONS = [
    Label("105.50±0.20", 140, 236),  # over the horizontal dimension line at y=250
    Label("67.20±0.20", 86, 380, rotation=90),  # left of the vertical dimension line at x=100
    Label("M8x1.25-6H", 300, 330),  # at the end of a leader
    Label("ALL DIMENSIONS IN MM", 60, 470, size=9),
]


def _labels() -> list[Label]:
    bom = [
        Label(cell, BOM_COLUMNS[column] + 6, BOM_TOP + (row + 1) * BOM_ROW_HEIGHT - 8, size=10)
        for row, cells in enumerate(BOM_ROWS)
        for column, cell in enumerate(cells)
    ]
    return [*TITLE_BLOCK, *ANNOTATIONS, *bom]


def _rules() -> list[tuple[float, float, float, float]]:
    """(x0, y0, x1, y1) in points from the top-left: frame, title block, BOM grid, dimension lines, leader."""
    frame = [(20, 20, 772, 20), (772, 20, 772, 592), (772, 592, 20, 592), (20, 592, 20, 20)]
    title = [(490, 478, 772, 478), (490, 478, 490, 592)] + [(490, y, 772, y) for y in (508, 538, 568)]
    title.append((610, 538, 610, 568))
    bom_bottom = BOM_TOP + len(BOM_ROWS) * BOM_ROW_HEIGHT
    grid = [
        (BOM_COLUMNS[0], BOM_TOP + i * BOM_ROW_HEIGHT, BOM_COLUMNS[-1], BOM_TOP + i * BOM_ROW_HEIGHT)
        for i in range(len(BOM_ROWS) + 1)
    ]
    grid += [(x, BOM_TOP, x, bom_bottom) for x in BOM_COLUMNS]
    part = [(100, 250, 100, 420), (100, 420, 340, 420), (340, 420, 340, 250), (340, 250, 100, 250)]
    dimensions = [(100, 244, 340, 244), (100, 238, 100, 250), (340, 238, 340, 250)]
    dimensions += [(94, 250, 94, 420), (88, 250, 100, 250), (88, 420, 100, 420)]
    leader = [(300, 334, 260, 360)]
    return frame + title + grid + part + dimensions + leader


def _figure() -> Figure:
    figure = Figure(figsize=(PAGE_WIDTH / 72, PAGE_HEIGHT / 72))
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, PAGE_WIDTH)
    axes.set_ylim(0, PAGE_HEIGHT)  # y up, as the glyph outlines are
    axes.axis("off")
    for x0, y0, x1, y1 in _rules():
        axes.plot([x0, x1], [PAGE_HEIGHT - y0, PAGE_HEIGHT - y1], color="black", linewidth=0.8)
    for label in _labels():
        outline = TextPath((0, 0), label.text, size=label.size, prop=_FONT)
        place = Affine2D().rotate_deg(label.rotation).translate(label.x, PAGE_HEIGHT - label.y)
        axes.add_patch(PathPatch(place.transform_path(outline), facecolor="black", linewidth=0))
    return figure


def build_outlined_text_pdf(path: Path) -> Path:
    """The sheet with every letter an outline path: no text layer, ~1,000 vector paths."""
    _figure().savefig(path, format="pdf")
    return path


def render_sheet(dpi: int = RASTER_DPI) -> Image.Image:
    """The sheet as an 8-bit grayscale image at ``dpi``."""
    figure = _figure()
    figure.set_dpi(dpi)
    canvas = figure.canvas
    canvas.draw()
    return Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("L")


def build_raster_pdf(path: Path) -> Path:
    """The sheet as a single scanned image on a letter-size PDF page."""
    render_sheet().save(path, format="PDF", resolution=RASTER_DPI)
    return path


def build_drawing_png(path: Path, dpi: int = RASTER_DPI) -> Path:
    render_sheet(dpi).save(path, format="PNG", dpi=(dpi, dpi))
    return path


def build_multipage_tiff(path: Path) -> Path:
    """Two pages: the sheet, then a notes page (a second TIFF frame)."""
    notes = Image.new("L", (1500, 600), 255)
    figure = Figure(figsize=(5, 2))
    FigureCanvasAgg(figure)
    figure.text(0.05, 0.5, "NOTE: DEBURR ALL EDGES", fontsize=14, fontproperties=_FONT)
    figure.set_dpi(RASTER_DPI)
    figure.canvas.draw()
    notes = Image.frombuffer("RGBA", figure.canvas.get_width_height(), figure.canvas.buffer_rgba()).convert("L")
    render_sheet().save(
        path,
        format="TIFF",
        save_all=True,
        append_images=[notes],
        compression="tiff_deflate",
        dpi=(RASTER_DPI, RASTER_DPI),
    )
    return path


MIXED_TEXT_LAYER = [Label("NOTES: BREAK ALL EDGES", 60, 80, size=12), Label("FINISH: ANODIZE BLACK", 60, 100, size=12)]
MIXED_OUTLINED = [
    Label("105.50±0.20", 300, 236),
    Label("42.3 MAX", 300, 300),
    Label("4X M3x0.5", 300, 360),
    Label("67.20±0.20", 250, 400, rotation=90),  # read bottom to top
]


def build_mixed_text_pdf(
    path: Path, *, text_layer: list[Label] = MIXED_TEXT_LAYER, outlined: list[Label] = MIXED_OUTLINED
) -> Path:
    """A page with a real text layer (``text_layer``, TrueType text PDFium reads) and, elsewhere, dimension values
    drawn as glyph outlines (``MIXED_OUTLINED``): a CAD plot whose Latin numbers are outlines."""
    import matplotlib

    with matplotlib.rc_context({"pdf.fonttype": 42}):
        figure = Figure(figsize=(PAGE_WIDTH / 72, PAGE_HEIGHT / 72))
        FigureCanvasAgg(figure)
        axes = figure.add_axes((0, 0, 1, 1))
        axes.set_xlim(0, PAGE_WIDTH)
        axes.set_ylim(0, PAGE_HEIGHT)
        axes.axis("off")
        axes.plot([300, 380], [PAGE_HEIGHT - 250, PAGE_HEIGHT - 250], color="black", linewidth=0.8)
        for label in text_layer:
            axes.text(label.x, PAGE_HEIGHT - label.y, label.text, fontsize=label.size, fontproperties=_FONT)
        for label in outlined:
            outline = TextPath((0, 0), label.text, size=label.size, prop=_FONT)
            place = Affine2D().rotate_deg(label.rotation).translate(label.x, PAGE_HEIGHT - label.y)
            for contour in _contours(place.transform_path(outline)):  # one path per contour, as CAD plots draw
                axes.add_patch(PathPatch(contour, facecolor="black", linewidth=0))
        figure.savefig(path, format="pdf")
    return path


def _contours(path: MplPath) -> list[MplPath]:
    pieces: list[MplPath] = []
    start = 0
    codes = path.codes if path.codes is not None else [MplPath.LINETO] * len(path.vertices)
    for index in range(1, len(codes) + 1):
        if index == len(codes) or codes[index] == MplPath.MOVETO:
            pieces.append(MplPath(path.vertices[start:index], codes[start:index]))
            start = index
    return pieces
