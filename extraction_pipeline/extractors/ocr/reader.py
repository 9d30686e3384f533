"""Read one page (a PDF page through PDFium, or a raster image) with an OCR engine, tile by tile, in page units.

Coordinates come out in points (1/72 in) with the top-left origin of the displayed page, like the PDF
extractor's: a PDF page is rendered at ``dpi`` and each pixel is ``72 / dpi`` points; a raster image is placed at
its own resolution. Pages over ``MAX_PAGE_PIXELS`` at the requested resolution are read at a lower one (time
grows with pixels), and tiles keep memory bounded whatever the page size.

A ``deadline`` (``time.monotonic()`` value) stops the reading between tiles: the page's reading then says it is
incomplete and keeps the lines of the tiles read so far.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from extraction_pipeline.extractors.ocr.engine import OcrEngine, Point, RecognizedText
from extraction_pipeline.extractors.ocr.repair import repair_text
from extraction_pipeline.extractors.ocr.tiles import Tile, merge_tiles, place, plan_tiles
from extraction_pipeline.extractors.ocr.upscale import typical_text_height, upscale_factor

MAX_PAGE_PIXELS = 40_000_000
"""A 36 x 24 in sheet is read at ~215 dpi instead of 300 (a letter page at 300 dpi is 8.4 million pixels)."""
POINTS_PER_INCH = 72.0
DETECTION_DPI = 180.0
"""Text is located on each tile scaled to this resolution (finding text needs less than reading it, and the
detector is most of the time: RapidOCR's own default puts a letter page at ~180 dpi) and read at the full one."""
DETECTION_MAX_PIXELS = 3_200_000
"""...and at most this many pixels: the detector's memory grows with its input (a 5-million-pixel input needs more
than the sandbox's default 2 GiB of address space; a letter page at 180 dpi is 3 million)."""
_OVERLAP_TEXT_HEIGHTS = 8
_MIN_OVERLAP_PIXELS = 64
_TILE_TIME_MARGIN = 1.5
"""A tile is started only when the time left exceeds the slowest tile so far (or the prior) times this."""
_PRIOR_SECONDS_PER_MEGAPIXEL = 0.3
"""What a tile is expected to take before any has been read (one thread of a current x86 core)."""


@dataclass(frozen=True)
class OcrLine:
    """A line read by OCR, in page units (points, top-left origin)."""

    text: str
    confidence: float
    polygon: tuple[Point, Point, Point, Point]
    rotation: float

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        xs, ys = [p[0] for p in self.polygon], [p[1] for p in self.polygon]
        return (min(xs), min(ys), max(xs), max(ys))

    @property
    def thickness(self) -> float:
        """The line's height across its reading direction (text height plus the detector's margin)."""
        (x0, y0), (x3, y3) = self.polygon[0], self.polygon[3]
        return math.hypot(x3 - x0, y3 - y0)


@dataclass(frozen=True)
class PageReading:
    lines: list[OcrLine]
    dpi: float
    tiles_read: int
    tiles_total: int
    seconds: float
    out_of_memory: bool = False

    @property
    def complete(self) -> bool:
        return self.tiles_read == self.tiles_total


def reading_dpi(width_inches: float, height_inches: float, dpi: float) -> float:
    """``dpi``, or less so that the page stays within ``MAX_PAGE_PIXELS``."""
    pixels = width_inches * height_inches * dpi * dpi
    if pixels <= MAX_PAGE_PIXELS:
        return float(dpi)
    return math.floor(dpi * math.sqrt(MAX_PAGE_PIXELS / pixels))


def read_pdf_page(
    page: Any,
    engine: OcrEngine,
    *,
    dpi: float,
    min_confidence: float,
    deadline: float | None = None,
    regions: list[tuple[float, float, float, float]] | None = None,
) -> PageReading:
    """OCR of a ``pypdfium2.PdfPage`` rendered in grayscale, one tile at a time; only ``regions`` of it (boxes in
    points of the displayed page, top-left origin) when given."""
    width_pt, height_pt = page.get_size()
    dpi = reading_dpi(width_pt / POINTS_PER_INCH, height_pt / POINTS_PER_INCH, dpi)
    scale = dpi / POINTS_PER_INCH
    width_px, height_px = math.ceil(width_pt * scale), math.ceil(height_pt * scale)

    def render(tile: Tile) -> np.ndarray:
        # pypdfium2 rounds crops up to whole pixels: a hair under each edge lands exactly on it.
        crop = tuple(
            max(pixels - 0.25, 0.0) / scale for pixels in (tile.x0, height_px - tile.y1, width_px - tile.x1, tile.y0)
        )
        bitmap = page.render(scale=scale, crop=crop, grayscale=True)
        try:
            return np.array(bitmap.to_numpy(), copy=True)
        finally:
            bitmap.close()

    tiles = None if regions is None else region_tiles(regions, scale, width_px, height_px)
    read_tile = None if regions is None else _read_tall_both_ways
    return _read(width_px, height_px, render, engine, dpi, min_confidence, deadline, tiles, read_tile=read_tile)


def region_tiles(
    regions: list[tuple[float, float, float, float]], scale: float, width_px: int, height_px: int
) -> list[Tile]:
    """Tiles covering the regions (points, scaled to pixels): regions that overlap are read as one."""
    boxes = [
        [
            max(0, math.floor(x0 * scale)),
            max(0, math.floor(y0 * scale)),
            min(width_px, math.ceil(x1 * scale)),
            min(height_px, math.ceil(y1 * scale)),
        ]
        for x0, y0, x1, y1 in regions
    ]
    merged: list[list[int]] = []
    for box in sorted((b for b in boxes if b[2] > b[0] and b[3] > b[1]), key=lambda b: (b[1], b[0])):
        overlapping = [m for m in merged if box[0] < m[2] and m[0] < box[2] and box[1] < m[3] and m[1] < box[3]]
        for other in overlapping:
            merged.remove(other)
            box = [min(box[0], other[0]), min(box[1], other[1]), max(box[2], other[2]), max(box[3], other[3])]
        merged.append(box)
    if len(merged) != len(boxes):  # a union can overlap a region merged earlier
        return region_tiles([tuple(v / scale for v in m) for m in merged], scale, width_px, height_px)  # type: ignore[misc]
    return [
        Tile(x0 + tile.x0, y0 + tile.y0, x0 + tile.x1, y0 + tile.y1)
        for x0, y0, x1, y1 in merged
        for tile in plan_tiles(x1 - x0, y1 - y0)
    ]


def read_image(
    image: np.ndarray, engine: OcrEngine, *, dpi: float, min_confidence: float, deadline: float | None = None
) -> PageReading:
    """OCR of a raster image (2-D grayscale or H x W x 3 BGR) whose resolution is ``dpi``.

    An image whose letters are too small for the detector (a sheet exported at screen resolution) is searched for
    text enlarged (``upscale``), in tiles small enough for the detector's pixel cap at that scale; the recognizer
    scales each line's crop to its own input height anyway."""
    height_px, width_px = image.shape[:2]
    capped = reading_dpi(width_px / dpi, height_px / dpi, dpi)
    if capped < dpi:
        import cv2

        factor = capped / dpi
        size = (max(1, round(width_px * factor)), max(1, round(height_px * factor)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        height_px, width_px = image.shape[:2]
    tiles_of = lambda tile: image[tile.y0 : tile.y1, tile.x0 : tile.x1]  # noqa: E731
    text_height = typical_text_height(image)
    enlarge = upscale_factor(text_height)
    if enlarge == 1.0:
        return _read(width_px, height_px, tiles_of, engine, capped, min_confidence, deadline)
    # Tiles overlap by a few text heights (not an inch): small text, and each pixel costs ``enlarge`` squared.
    overlap = max(round(_OVERLAP_TEXT_HEIGHTS * (text_height or 0.0)), _MIN_OVERLAP_PIXELS)
    size = max(math.floor(math.sqrt(DETECTION_MAX_PIXELS) / enlarge), 3 * overlap)
    tiles = plan_tiles(width_px, height_px, size=size, overlap=overlap)
    return _read(width_px, height_px, tiles_of, engine, capped, min_confidence, deadline, tiles, lambda _: enlarge)


def _read(
    width_px: int,
    height_px: int,
    render: Callable[[Tile], np.ndarray],
    engine: OcrEngine,
    dpi: float,
    min_confidence: float,
    deadline: float | None,
    tiles: list[Tile] | None = None,
    scale_of: Callable[[Tile], float] | None = None,
    read_tile: Callable[[OcrEngine, np.ndarray, float], list[RecognizedText]] | None = None,
) -> PageReading:
    started = time.monotonic()
    tiles = plan_tiles(width_px, height_px) if tiles is None else tiles
    placed = []
    slowest = 0.0
    read = 0
    out_of_memory = False
    for tile in tiles:
        now = time.monotonic()
        expected = max(slowest, tile.width * tile.height / 1e6 * _PRIOR_SECONDS_PER_MEGAPIXEL)
        if deadline is not None and deadline - now < expected * _TILE_TIME_MARGIN:
            break
        try:
            scale = scale_of(tile) if scale_of is not None else detection_scale(tile, dpi)
            if read_tile is None:
                recognized = engine.recognize(render(tile), detection_scale=scale)
            else:
                recognized = read_tile(engine, render(tile), scale)
        except MemoryError:  # the rest of the page is lost, not the file (the session warns)
            out_of_memory = True
            break
        placed.extend(place(recognized, tile, width_px, height_px))
        slowest = max(slowest, time.monotonic() - now)
        read += 1
    points_per_pixel = POINTS_PER_INCH / dpi
    lines = [_to_points(line, points_per_pixel) for line in merge_tiles(placed) if line.confidence >= min_confidence]
    seconds = time.monotonic() - started
    return PageReading([line for line in lines if line.text], dpi, read, len(tiles), seconds, out_of_memory)


_TALL = 2.0
"""A region at least this much taller than wide holds text running up or down the page."""
_SAME_LINE_SHARE = 0.5
_FRAGMENT_CHARS = 2
"""A line of at most this many characters in a region with vertical text may be a piece of a longer one."""


def _read_tall_both_ways(engine: OcrEngine, image: np.ndarray, scale: float) -> list[RecognizedText]:
    """A region read as it is and, when it is tall or holds vertical text, turned a quarter clockwise too.

    The detector finds a vertical line of widely spaced characters as pieces (``5`` and ``04mm`` for
    ``5.04mm``); turned so that the line is horizontal, it boxes it whole. The turned reading gives the vertical
    lines (those it reads horizontally), the plain one the rest, less what lies on a line of the turned one."""
    as_is = engine.recognize(image, detection_scale=scale)
    height, width = image.shape[:2]
    if height < _TALL * width and not any(not _horizontal(line) for line in as_is):
        return as_is
    if as_is and all(len(line.text) > _FRAGMENT_CHARS for line in as_is):
        return as_is  # read whole already (the turned reading is for lines found in pieces)
    turned = engine.recognize(np.ascontiguousarray(np.rot90(image, -1)), detection_scale=scale)
    vertical = [_turned_back(line, height) for line in turned if _horizontal(line)]
    rest = [line for line in as_is if not any(_on(line, other) for other in vertical)]
    return rest + vertical


def _horizontal(line: RecognizedText) -> bool:
    return abs(math.cos(math.radians(line.rotation))) >= math.cos(math.radians(30))


def _on(line: RecognizedText, other: RecognizedText) -> bool:
    """``line`` lies mostly on ``other``'s box (a piece of the same text)."""
    a, b = _polygon_box(line.polygon), _polygon_box(other.polygon)
    shared = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return shared >= _SAME_LINE_SHARE * max((a[2] - a[0]) * (a[3] - a[1]), 1e-6)


def _polygon_box(polygon: tuple[Point, ...]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    return (min(xs), min(ys), max(xs), max(ys))


def _turned_back(line: RecognizedText, height: float) -> RecognizedText:
    """A line read on the image turned a quarter clockwise, in the unturned image (``height`` high)."""
    polygon = tuple((y, height - x) for x, y in line.polygon)
    return RecognizedText(line.text, line.confidence, polygon, (line.rotation + 90.0) % 360)  # type: ignore[arg-type]


def detection_scale(tile: Tile, dpi: float) -> float:
    """The scale a tile is searched for text at: ``DETECTION_DPI``, within ``DETECTION_MAX_PIXELS``, never up."""
    return min(DETECTION_DPI / dpi, math.sqrt(DETECTION_MAX_PIXELS / max(tile.width * tile.height, 1)), 1.0)


def _to_points(line: RecognizedText, points_per_pixel: float) -> OcrLine:
    polygon = tuple((round(x * points_per_pixel, 2), round(y * points_per_pixel, 2)) for x, y in line.polygon)
    return OcrLine(repair_text(line.text), line.confidence, polygon, line.rotation)  # type: ignore[arg-type]
