"""Tiles of a large page, and one set of lines again from the tiles' overlapping readings.

A 36 x 24 in sheet at 300 dpi is 78 million pixels: it is rendered and read tile by tile, so memory stays that
of one tile. Neighbouring tiles overlap by ``TILE_OVERLAP`` pixels, so a line cut by one tile's edge is usually
whole in its neighbour. ``merge_tiles`` then keeps each line once:

- a line both tiles read whole (it lies in the overlap) is kept once, the larger reading; a reading lying
  almost wholly inside a larger one (the detector boxed a letter of a line again) is dropped;
- a line one tile cut at an inner edge ("clipped") and the other read whole is kept whole;
- a line longer than the overlap is cut by both tiles: the two fragments are joined at the characters both read
  in the overlap, or else the first one's text up to the middle of the overlap and the second one's after it.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field, replace

from extraction_pipeline.extractors.ocr.engine import Point, RecognizedText

TILE_PIXELS = 3400
"""Longest tile side: a letter page at 300 dpi is one tile (~25 MB as BGR), a 36 x 24 in sheet six."""
TILE_OVERLAP = 300
"""1 in at 300 dpi: more than the height of any drawing text, so a cut line is whole in the neighbour."""
_EDGE_MARGIN = 0.3
"""A reading closer to a tile's inner edge than this share of its height (at least 8 px) was cut by it: the
detector's box of a cut line ends a few pixels short of the edge."""
_MIN_EDGE_MARGIN = 8.0
_SAME_AREA_SHARE = 0.5
_NESTED_SHARE = 0.6
_SAME_LINE_SHARE = 0.5
_MAX_ANGLE_DIFFERENCE = 20.0


@dataclass(frozen=True)
class Tile:
    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


def plan_tiles(width: int, height: int, size: int = TILE_PIXELS, overlap: int = TILE_OVERLAP) -> list[Tile]:
    """Equal tiles of at most ``size`` pixels a side covering ``width`` x ``height``, overlapping by >= ``overlap``."""
    if width <= 0 or height <= 0:
        return []
    xs, ys = _spans(width, size, overlap), _spans(height, size, overlap)
    return [Tile(x0, y0, x1, y1) for y0, y1 in ys for x0, x1 in xs]


def _spans(length: int, size: int, overlap: int) -> list[tuple[int, int]]:
    if length <= size:
        return [(0, length)]
    count = math.ceil((length - overlap) / (size - overlap))
    span = math.ceil((length + (count - 1) * overlap) / count)
    starts = [round(i * (length - span) / (count - 1)) for i in range(count)]
    return [(start, start + span) for start in starts]


@dataclass(frozen=True)
class PlacedText:
    """A reading in page pixels, the tile that read it, and whether an inner edge of that tile cut it."""

    line: RecognizedText
    tile: Tile
    clipped: bool
    box: tuple[float, float, float, float] = field(init=False)
    """The axis-aligned box of the line's polygon (computed once: merging compares every pair)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "box", _box(self.line.polygon))


def place(lines: list[RecognizedText], tile: Tile, page_width: int, page_height: int) -> list[PlacedText]:
    """The tile's readings moved into page pixels, each marked when it touches an inner edge of the tile."""
    inner = (tile.x0 > 0, tile.y0 > 0, tile.x1 < page_width, tile.y1 < page_height)
    placed = []
    for line in lines:
        polygon = tuple((x + tile.x0, y + tile.y0) for x, y in line.polygon)
        x0, y0, x1, y1 = _box(polygon)
        margin = max(_EDGE_MARGIN * min(x1 - x0, y1 - y0), _MIN_EDGE_MARGIN)
        touches = (x0 - tile.x0 <= margin, y0 - tile.y0 <= margin, tile.x1 - x1 <= margin, tile.y1 - y1 <= margin)
        clipped = any(i and t for i, t in zip(inner, touches, strict=True))
        placed.append(PlacedText(replace(line, polygon=polygon), tile, clipped))  # type: ignore[arg-type]
    return placed


def merge_tiles(placed: list[PlacedText]) -> list[RecognizedText]:
    """Each line once (see the module docstring), in reading order: top to bottom, then left to right."""
    kept: list[PlacedText] = []
    near: dict[tuple[int, int], list[int]] = {}  # grid cell -> indices into kept (a sheet has thousands of lines)
    for item in sorted(placed, key=lambda p: (p.clipped, -_area(p.box))):
        candidates = sorted({i for cell in _cells(item.box) for i in near.get(cell, ())})
        if any(_nested(kept[i], item) for i in candidates):
            continue
        index = next((i for i in candidates if kept[i].tile != item.tile and _same_text(kept[i], item)), None)
        if index is None:
            kept.append(item)
            index = len(kept) - 1
        elif item.clipped and kept[index].clipped:
            kept[index] = _joined(kept[index], item)
        else:
            continue
        for cell in _cells(kept[index].box):
            near.setdefault(cell, []).append(index)
    lines = [k.line for k in kept]
    lines.sort(key=lambda line: (round(_box(line.polygon)[1]), _box(line.polygon)[0]))
    return lines


_CELL_PIXELS = 256


def _cells(box: tuple[float, float, float, float]) -> list[tuple[int, int]]:
    x0, y0, x1, y1 = (int(v // _CELL_PIXELS) for v in box)
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def _nested(kept: PlacedText, item: PlacedText) -> bool:
    """A smaller reading lying mostly inside a kept one: a piece of it read again (two fragments of one line cut
    by neighbouring tiles are no such piece: they are joined)."""
    if kept.clipped and item.clipped and kept.tile != item.tile:
        return False
    a, b = kept.box, item.box
    if a[0] >= b[2] or b[0] >= a[2] or a[1] >= b[3] or b[1] >= a[3]:  # apart: the common case, decided fast
        return False
    return _intersection(a, b) >= _NESTED_SHARE * _area(b)


def _same_text(kept: PlacedText, item: PlacedText) -> bool:
    a, b = kept.box, item.box
    if a[0] >= b[2] or b[0] >= a[2] or a[1] >= b[3] or b[1] >= a[3]:
        return False
    angle = abs(kept.line.rotation - item.line.rotation) % 360
    if min(angle, 360 - angle) > _MAX_ANGLE_DIFFERENCE:
        return False
    overlap = _intersection(kept.box, item.box)
    if overlap <= 0:
        return False
    if not (kept.clipped and item.clipped):
        return overlap >= _SAME_AREA_SHARE * min(_area(kept.box), _area(item.box))
    # Two fragments of one long line: they share a line across the reading direction.
    horizontal = _reads_horizontally(item.line.rotation)
    low, high = (1, 3) if horizontal else (0, 2)
    across = min(kept.box[high], item.box[high]) - max(kept.box[low], item.box[low])
    thickness = min(kept.box[high] - kept.box[low], item.box[high] - item.box[low])
    return across >= _SAME_LINE_SHARE * thickness


def _joined(a: PlacedText, b: PlacedText) -> PlacedText:
    """One line from two fragments read by neighbouring tiles."""
    direction = _direction(a.line.rotation)
    first, second = sorted((a, b), key=lambda p: _along(p.line.polygon[0], direction))
    text = _shared_join(first.line.text, second.line.text) or _midline_join(first, second, direction)
    polygon = (first.line.polygon[0], second.line.polygon[1], second.line.polygon[2], first.line.polygon[3])
    line = RecognizedText(text, min(a.line.confidence, b.line.confidence), polygon, first.line.rotation)
    return PlacedText(line, first.tile, True)


_MIN_SHARED_CHARS = 2


def _shared_join(first: str, second: str) -> str | None:
    """``first`` up to the longest run of characters both fragments read in the overlap, ``second`` from there.

    A character cut by a tile's edge is often still read (``SECTIOI`` + ``SECTION``), so the fragments are
    aligned on what they share rather than cut by position alone.
    """
    match = difflib.SequenceMatcher(None, first, second, autojunk=False).find_longest_match()
    if match.size < _MIN_SHARED_CHARS:
        return None
    return first[: match.a] + second[match.b :]


def _midline_join(first: PlacedText, second: PlacedText, direction: Point) -> str:
    """Characters of ``first`` before the middle of the tiles' overlap, of ``second`` after it (evenly spaced)."""
    shared = Tile(
        max(first.tile.x0, second.tile.x0),
        max(first.tile.y0, second.tile.y0),
        min(first.tile.x1, second.tile.x1),
        min(first.tile.y1, second.tile.y1),
    )
    middle = _along(((shared.x0 + shared.x1) / 2, (shared.y0 + shared.y1) / 2), direction)
    return (
        first.line.text[: _chars_before(first, middle, direction)]
        + second.line.text[_chars_before(second, middle, direction) :]
    )


def _chars_before(placed: PlacedText, position: float, direction: Point) -> int:
    start, end = (_along(placed.line.polygon[i], direction) for i in (0, 1))
    count = len(placed.line.text)
    pitch = (end - start) / max(count, 1)
    return sum(1 for i in range(count) if start + (i + 0.5) * pitch < position)


def _direction(rotation: float) -> Point:
    """Unit vector of the reading direction in image coordinates (y down)."""
    radians = math.radians(rotation)
    return (math.cos(radians), -math.sin(radians))


def _along(point: Point, direction: Point) -> float:
    return point[0] * direction[0] + point[1] * direction[1]


def _reads_horizontally(rotation: float) -> bool:
    return abs(math.cos(math.radians(rotation))) >= abs(math.sin(math.radians(rotation)))


def _box(polygon: tuple[Point, ...]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    return (min(xs), min(ys), max(xs), max(ys))


def _area(box: tuple[float, float, float, float]) -> float:
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)


def _intersection(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    return _area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))
