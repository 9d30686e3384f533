"""Where a page with a text layer also has text drawn as vector glyphs: the regions region OCR reads.

CAD plots often carry some real text (CJK labels, hidden net names, a title line) while their Latin text and
numbers are glyph outlines or stroked (SHX-style) letters. Such glyphs look alike whatever the tool: small path
groups (one outline per letter, or a few strokes touching each other) of about one text height, standing apart
from each other and lined up in a row. The outline of a curved part tessellated into tiny segments is no such
thing: its segments touch end to end, so the group they form is far larger than a letter.

``find_glyph_regions`` groups the page's small paths that lie outside the text layer's text into letter-sized
groups, lines the groups up into rows (horizontal or vertical), and returns the boxes of the rows as regions
(displayed page points, top-left origin) when the page holds enough of them to be worth reading.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from extraction_pipeline.extractors.schema import BBox

GLYPH_MAX = 24.0
"""A path larger than this (pt, either side) is no letter: text on drawings is at most ~8 mm high."""
_TOUCH = 0.3
"""Paths whose boxes come this close (pt) belong to one group (the strokes of one stroked letter)."""
_MIN_GLYPH = 1.5
"""A group smaller than this (pt, both sides) is a dot or an arrow tip: it neither starts nor breaks a row."""
_ROW_GAP = 1.2
"""Neighbouring letters of a row are at most this many letter heights apart."""
_ROW_OVERLAP = 0.5
_MIN_ROW_GLYPHS = 3
"""A row has at least this many letters (``4.5``, ``M6x``); two shapes side by side are as often an arrowhead at
an extension line or a pair of symbols."""
MIN_PAGE_GLYPHS = 12
"""A page is region-read only when its rows hold at least this many letters (a few stray shapes are not)."""
_HEIGHT_RATIO = 2.5
"""Letters of one row differ in height by at most this factor."""
_SAME_SHAPE = 0.1
"""Letter boxes within this share of the row's median size are the same shape..."""
_PATTERN_SHARE = 0.8
"""...and a row with this share of them alike is a pattern."""
_WORD_SEGMENTS = 4.0
_WORD_PATHS = 3.0
"""A word longer than a letter has at least ``_WORD_SEGMENTS`` segments and at most ``_WORD_PATHS`` paths per
letter height of its length (a stroked letter is one to three paths of ~8 segments)."""
_CELL = 16.0
_MARGIN = 0.5
"""A region is its row's box grown by this share of the row's letter height (the detector needs white around)."""


@dataclass
class _Group:
    box: list[float]
    paths: int = 1
    segments: int = 0

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def size(self) -> float:
        """A letter's larger side; a word's height (its smaller side)."""
        short, long = sorted((self.width, self.height))
        return long if long <= GLYPH_MAX else short


def find_glyph_regions(paths: Iterable[tuple[BBox, int]], text: Iterable[BBox]) -> list[BBox]:
    """Regions of glyph-like paths (each given as its box and segment count) that no text-layer box covers, when
    rows of them show the page has text drawn as glyphs; [] otherwise, and when most glyph-like paths lie under
    the text layer's text (a plot that draws its text as strokes and adds it again as invisible text)."""
    covered = _Index(list(text))
    glyphs = [(box, segments) for box, segments in paths if _glyph_like(box, segments)]
    small = [(box, segments) for box, segments in glyphs if not covered.holds(box)]
    if len(small) < len(glyphs) - len(small):  # most glyph-like paths lie under text: they are its drawing
        return []
    letters = [g for g in _touching_groups(small) if _letter_sized(g)]
    if sum(len(row) for row in _rows(letters)) < MIN_PAGE_GLYPHS:
        return []
    # The page has glyph text: every letter-sized group is read (stroked letters whose strokes do not touch, a
    # lone digit, a word in a table cell), in clusters of neighbours.
    return [_region(cluster) for cluster in _clusters(letters)]


def _varied(row: list[_Group]) -> bool:
    """Letters differ in shape (``1`` is narrow, ``0`` round): a row of shapes nearly all alike is a pattern
    (joists, brick hatching, connector pins, arrowheads), not text."""
    widths, heights = sorted(g.width for g in row), sorted(g.height for g in row)
    width, height = widths[len(row) // 2], heights[len(row) // 2]
    alike = sum(
        1
        for g in row
        if abs(g.width - width) <= _SAME_SHAPE * max(width, 0.5)
        and abs(g.height - height) <= _SAME_SHAPE * max(height, 0.5)
    )
    return alike < _PATTERN_SHARE * len(row)


def _glyph_like(box: BBox, segments: int) -> bool:
    """A path that may be (part of) a letter, or a word written as one path."""
    short, long = sorted((box[2] - box[0], box[3] - box[1]))
    return long <= GLYPH_MAX or (short <= GLYPH_MAX and segments >= _WORD_SEGMENTS * long / max(short, _MIN_GLYPH))


def _letter_sized(group: _Group) -> bool:
    """A letter, or a word of letters that touch (tightly set stroked text): at most a letter high, and when longer
    than a letter, made of few paths with many segments (a curve tessellated into pieces is many short paths)."""
    short, long = sorted((group.width, group.height))
    if long < _MIN_GLYPH or short > GLYPH_MAX:
        return False
    if long <= GLYPH_MAX:
        return True
    letters = long / max(short, _MIN_GLYPH)
    return group.segments >= _WORD_SEGMENTS * letters and group.paths <= _WORD_PATHS * letters


class _Index:
    """Boxes in a grid, for 'is this path inside (or on) any of them' queries."""

    def __init__(self, boxes: list[BBox]) -> None:
        self._cells: dict[tuple[int, int], list[BBox]] = defaultdict(list)
        for box in boxes:
            for cell in _cells(box):
                self._cells[cell].append(box)

    def holds(self, box: BBox, margin: float = 1.0) -> bool:
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        return any(
            b[0] - margin <= cx <= b[2] + margin and b[1] - margin <= cy <= b[3] + margin
            for b in self._cells.get((int(cx // _CELL), int(cy // _CELL)), ())
        )


def _cells(box: BBox | list[float]) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i in range(int(box[0] // _CELL), int(box[2] // _CELL) + 1)
        for j in range(int(box[1] // _CELL), int(box[3] // _CELL) + 1)
    ]


def _union_find(size: int) -> tuple[Callable[[int], int], Callable[[int, int], None]]:
    """``find`` and ``join`` over items ``0..size-1`` (path halving), for grouping boxes that touch or line up."""
    parent = list(range(size))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    return find, join


def _touching_groups(paths: list[tuple[BBox, int]]) -> list[_Group]:
    """Union of paths whose boxes touch (within ``_TOUCH``): the strokes of a stroked letter, touching letters,
    or a tessellated curve."""
    boxes = [box for box, _ in paths]
    find, join = _union_find(len(boxes))

    grid: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, box in enumerate(boxes):
        grown = (box[0] - _TOUCH, box[1] - _TOUCH, box[2] + _TOUCH, box[3] + _TOUCH)
        for cell in _cells(grown):
            for other in grid[cell]:
                if _overlap(grown, boxes[other]):
                    join(index, other)
            grid[cell].append(index)
    groups: dict[int, _Group] = {}
    for index, (box, segments) in enumerate(paths):
        root = find(index)
        if root in groups:
            group = groups[root]
            group.box = [
                min(group.box[0], box[0]),
                min(group.box[1], box[1]),
                max(group.box[2], box[2]),
                max(group.box[3], box[3]),
            ]
            group.paths += 1
            group.segments += segments
        else:
            groups[root] = _Group(list(box), 1, segments)
    return list(groups.values())


def _overlap(a: BBox | list[float], b: BBox | list[float]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _rows(letters: list[_Group]) -> list[list[_Group]]:
    """Letters chained into rows: side by side on one line (horizontal text), else stacked in one column (text
    turned a quarter), each within ``_ROW_GAP`` letter heights of the next. A letter is in one row only."""
    horizontal = [row for row in _chains(letters, horizontal=True) if _is_text(row, horizontal=True)]
    placed = {id(letter) for row in horizontal for letter in row}
    rest = [letter for letter in letters if id(letter) not in placed]
    return horizontal + [row for row in _chains(rest, horizontal=False) if _is_text(row, horizontal=False)]


def _is_text(row: list[_Group], *, horizontal: bool) -> bool:
    """Separate letters in a row (a word drawn as one path is read once the page shows glyph text, but does not
    show it by itself: a curve drawn as one path looks the same)."""
    return len(row) >= _MIN_ROW_GLYPHS and _varied(row)


def _chains(letters: list[_Group], *, horizontal: bool) -> list[list[_Group]]:
    find, join = _union_find(len(letters))

    grid: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, letter in enumerate(letters):
        reach = _ROW_GAP * max(letter.width, letter.height)
        box = (letter.box[0] - reach, letter.box[1] - reach, letter.box[2] + reach, letter.box[3] + reach)
        for cell in _cells(box):
            for other in grid[cell]:
                if find(other) != find(index) and _in_line(letter, letters[other], horizontal=horizontal):
                    join(index, other)
        for cell in _cells(letter.box):
            grid[cell].append(index)
    rows: dict[int, list[_Group]] = defaultdict(list)
    for index, letter in enumerate(letters):
        rows[find(index)].append(letter)
    return list(rows.values())


def _clusters(letters: list[_Group]) -> list[list[_Group]]:
    """Letters grouped with every neighbour within ``_ROW_GAP`` letter sizes, in any direction."""
    find, join = _union_find(len(letters))

    grid: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, letter in enumerate(letters):
        reach = _ROW_GAP * letter.size
        box = (letter.box[0] - reach, letter.box[1] - reach, letter.box[2] + reach, letter.box[3] + reach)
        for cell in _cells(box):
            for other in grid[cell]:
                if find(other) != find(index) and _overlap(box, letters[other].box):
                    join(index, other)
        for cell in _cells(letter.box):
            grid[cell].append(index)
    clusters: dict[int, list[_Group]] = defaultdict(list)
    for index, letter in enumerate(letters):
        clusters[find(index)].append(letter)
    return list(clusters.values())


def _in_line(a: _Group, b: _Group, *, horizontal: bool) -> bool:
    """Two letters next to each other along a row: sharing most of their extent across it, a small gap along."""
    across0, across1, along0, along1 = (1, 3, 0, 2) if horizontal else (0, 2, 1, 3)
    size_a, size_b = a.box[across1] - a.box[across0], b.box[across1] - b.box[across0]
    if min(size_a, size_b) <= 0 or max(size_a, size_b) > _HEIGHT_RATIO * min(size_a, size_b):
        return False
    shared = min(a.box[across1], b.box[across1]) - max(a.box[across0], b.box[across0])
    if shared < _ROW_OVERLAP * min(size_a, size_b):
        return False
    gap = max(a.box[along0], b.box[along0]) - min(a.box[along1], b.box[along1])
    return gap <= _ROW_GAP * max(size_a, size_b)


def _region(row: list[_Group]) -> BBox:
    x0 = min(g.box[0] for g in row)
    y0 = min(g.box[1] for g in row)
    x1 = max(g.box[2] for g in row)
    y1 = max(g.box[3] for g in row)
    margin = _MARGIN * max(g.size for g in row)
    return (x0 - margin, y0 - margin, x1 + margin, y1 + margin)
