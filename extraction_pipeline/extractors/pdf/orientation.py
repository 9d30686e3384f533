"""Reading a page in the direction its text runs, whatever its ``/Rotate`` and content transform.

pdfminer gives every object in the displayed page's space (``/Rotate`` applied). A page whose text reads
sideways there (a landscape sheet stored with ``/Rotate 90``, or a rotated copy of a page) gives one-letter,
non-upright words: no runs, no tables, no title block. ``upright_view`` turns such a page by the quarter turn
that makes most characters upright (a ``TurnedPage``: pdfplumber's own page type, so words, edges and the table
finder work unchanged), and ``Turn`` maps what is found there back to the displayed page's coordinates.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from pdfplumber.page import DerivedPage, Page

from extraction_pipeline.extractors.schema import BBox


@dataclass(frozen=True)
class Turn:
    """A quarter turn of a ``width`` x ``height`` displayed page (top-left origin, y down).

    ``degrees`` is the direction the text runs on the displayed page, counter-clockwise: 90 reads upwards,
    270 downwards, 180 upside down. ``to_reading`` turns the page so that text runs left to right.
    """

    degrees: int
    width: float
    height: float

    @property
    def reading_size(self) -> tuple[float, float]:
        return (self.height, self.width) if self.degrees in (90, 270) else (self.width, self.height)

    def to_reading(self, x: float, y: float) -> tuple[float, float]:
        if self.degrees == 90:
            return self.height - y, x
        if self.degrees == 270:
            return y, self.width - x
        if self.degrees == 180:
            return self.width - x, self.height - y
        return x, y

    def to_display(self, u: float, v: float) -> tuple[float, float]:
        if self.degrees == 90:
            return v, self.height - u
        if self.degrees == 270:
            return self.width - v, u
        if self.degrees == 180:
            return self.width - u, self.height - v
        return u, v

    def bbox_to_display(self, bbox: BBox) -> BBox:
        return _box(self.to_display(bbox[0], bbox[1]), self.to_display(bbox[2], bbox[3]))

    def bbox_to_reading(self, bbox: BBox) -> BBox:
        return _box(self.to_reading(bbox[0], bbox[1]), self.to_reading(bbox[2], bbox[3]))


def _box(a: tuple[float, float], b: tuple[float, float]) -> BBox:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))


def text_direction(matrix: tuple[float, ...]) -> int:
    """The direction of a character's baseline on the displayed page, counter-clockwise, to the nearest 90°."""
    a, b = matrix[0], matrix[1]
    return round(math.degrees(math.atan2(b, a)) / 90) % 4 * 90


def dominant_direction(chars: list[dict[str, Any]]) -> int:
    """The direction most non-blank characters run in (0 when there are none, or on a tie with 0)."""
    counts = Counter(text_direction(c["matrix"]) for c in chars if not c["text"].isspace() and "matrix" in c)
    if not counts:
        return 0
    best, best_count = counts.most_common(1)[0]
    return 0 if counts[0] >= best_count else best


class TurnedPage(DerivedPage):
    """A pdfplumber page whose objects are turned by ``turn`` so its text reads left to right."""

    def __init__(self, parent_page: Page, turn: Turn) -> None:
        super().__init__(parent_page)
        self.turn = turn
        self._origin = (parent_page.bbox[0], parent_page.bbox[1])
        width, height = turn.reading_size
        self.bbox = (0, 0, width, height)

    @property
    def objects(self) -> dict[str, list[dict[str, Any]]]:
        if hasattr(self, "_objects"):
            return self._objects
        self._objects: dict[str, list[dict[str, Any]]] = {
            kind: [self._turned(obj) for obj in objects] for kind, objects in self.parent_page.objects.items()
        }
        return self._objects

    def _turned(self, obj: dict[str, Any]) -> dict[str, Any]:
        ox, oy = self._origin
        x0, top, x1, bottom = self.turn.bbox_to_reading(
            (obj["x0"] - ox, obj["top"] - oy, obj["x1"] - ox, obj["bottom"] - oy)
        )
        height = self.bbox[3]
        turned = {
            **obj,
            "x0": x0,
            "x1": x1,
            "top": top,
            "bottom": bottom,
            "doctop": obj.get("doctop", obj["top"]) - obj["top"] + top,
            "y0": height - bottom,
            "y1": height - top,
            "width": x1 - x0,
            "height": bottom - top,
        }
        if "pts" in obj:
            turned["pts"] = [self.turn.to_reading(x - ox, y - oy) for x, y in obj["pts"]]
        if obj.get("object_type") == "char" and "matrix" in obj:
            turned.update(self._turned_char(obj, x1 - x0, bottom - top))
        return turned

    def _turned_char(self, char: dict[str, Any], width: float, height: float) -> dict[str, Any]:
        direction = (text_direction(char["matrix"]) - self.turn.degrees) % 360
        a, b, c, d, e, f = char["matrix"]
        cos, sin = round(math.cos(math.radians(self.turn.degrees))), round(math.sin(math.radians(self.turn.degrees)))
        return {
            "upright": direction == 0,
            "size": height if direction in (0, 180) else width,
            "matrix": (a * cos + b * sin, -a * sin + b * cos, c * cos + d * sin, -c * sin + d * cos, e, f),
        }


def upright_view(plumber_page: Page) -> tuple[Page, Turn | None]:
    """The page itself when most of its text reads left to right, else a ``TurnedPage`` and its ``Turn``."""
    direction = dominant_direction(plumber_page.chars)
    if direction == 0:
        return plumber_page, None
    x0, top, x1, bottom = plumber_page.bbox
    turn = Turn(direction, x1 - x0, bottom - top)
    return TurnedPage(plumber_page, turn), turn
