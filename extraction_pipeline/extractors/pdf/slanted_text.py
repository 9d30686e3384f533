"""Text written at an angle that is not a quarter turn (aligned dimensions' values, their stacked deviations).

pdfminer calls such glyphs upright and pdfplumber groups them into lines by their bottoms, which scatters a
value tilted by 28 degrees over several level "lines" (``(cid:80) 6 + + 0 , 2``). Here they are read in their own
frame instead: grouped by direction, turned level, clustered into lines across the baseline and cut into runs
at wide gaps along it. Each run keeps its direction (``rotation``, degrees counter-clockwise on the page) and
its turned rectangle (``polygon``), so a value's deviations can be found beside it in its own reading frame.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from typing import Any

from extraction_pipeline.extractors.pdf.model import Run

_QUARTER_TURN_SLACK = 2.0
"""Glyphs within this many degrees of a quarter turn are level or vertical text, read elsewhere."""
_LINE_HEIGHTS = 0.3
_RUN_GAP_EM = 1.0
_SPACE_EM = 0.2
_SIZE_CHANGE = 1.25


def direction(char: dict[str, Any]) -> float:
    """The direction a glyph's baseline runs in, degrees counter-clockwise on the page (from its text matrix)."""
    a, b = char["matrix"][0], char["matrix"][1]
    return math.degrees(math.atan2(b, a))


def is_slanted(obj: dict[str, Any]) -> bool:
    if obj.get("object_type") != "char" or "matrix" not in obj or not obj.get("text", "").strip():
        return False
    off_quarter = direction(obj) % 90
    return _QUARTER_TURN_SLACK < off_quarter < 90 - _QUARTER_TURN_SLACK


def slanted_runs(chars: list[dict[str, Any]], page_number: int, page_height: float) -> list[Run]:
    """Runs of the slanted glyphs, one per line piece, read along their own direction."""
    by_direction: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for char in chars:
        by_direction[round(direction(char))].append(char)
    runs: list[Run] = []
    for degrees, group in by_direction.items():
        frame = _Frame(math.radians(degrees))
        for line in _lines(group, frame):
            runs.extend(_pieces(line, frame, page_number, page_height, float(degrees)))
    return runs


class _Frame:
    """PDF user space (y up) turned so the text's baseline is level: ``u`` along it, ``v`` up across it."""

    def __init__(self, angle: float) -> None:
        self.cos, self.sin = math.cos(angle), math.sin(angle)

    def level(self, x: float, y: float) -> tuple[float, float]:
        return x * self.cos + y * self.sin, -x * self.sin + y * self.cos

    def back(self, u: float, v: float) -> tuple[float, float]:
        return u * self.cos - v * self.sin, u * self.sin + v * self.cos


def _origin(char: dict[str, Any], frame: _Frame) -> tuple[float, float]:
    return frame.level(char["matrix"][4], char["matrix"][5])


def _lines(chars: list[dict[str, Any]], frame: _Frame) -> list[list[dict[str, Any]]]:
    """Glyphs on one baseline (within a third of their size across it), top line first."""
    ordered = sorted(chars, key=lambda c: -_origin(c, frame)[1])
    lines: list[list[dict[str, Any]]] = []
    for char in ordered:
        v = _origin(char, frame)[1]
        if lines and abs(_origin(lines[-1][-1], frame)[1] - v) <= _LINE_HEIGHTS * char["size"]:
            lines[-1].append(char)
        else:
            lines.append([char])
    return [sorted(line, key=lambda c: _origin(c, frame)[0]) for line in lines]


def _pieces(
    line: list[dict[str, Any]], frame: _Frame, page_number: int, page_height: float, degrees: float
) -> list[Run]:
    pieces: list[list[dict[str, Any]]] = [[line[0]]]
    for previous, char in itertools.pairwise(line):
        gap = _origin(char, frame)[0] - (_origin(previous, frame)[0] + previous.get("adv", 0.0))
        resized = max(char["size"], previous["size"]) > _SIZE_CHANGE * min(char["size"], previous["size"])
        if gap > _RUN_GAP_EM * char["size"] or resized:  # a smaller deviation printed after its value
            pieces.append([char])
        else:
            pieces[-1].append(char)
    return [_run(piece, frame, page_number, page_height, degrees) for piece in pieces]


def _run(chars: list[dict[str, Any]], frame: _Frame, page_number: int, page_height: float, degrees: float) -> Run:
    text = chars[0]["text"]
    for previous, char in itertools.pairwise(chars):
        gap = _origin(char, frame)[0] - (_origin(previous, frame)[0] + previous.get("adv", 0.0))
        text += (" " if gap > _SPACE_EM * char["size"] else "") + char["text"]
    size = max(c["size"] for c in chars)
    u0 = _origin(chars[0], frame)[0]
    u1 = _origin(chars[-1], frame)[0] + chars[-1].get("adv", 0.0)
    v = _origin(chars[0], frame)[1]
    corners = [
        frame.back(u, v + dv) for u, dv in ((u0, -0.2 * size), (u1, -0.2 * size), (u1, 0.8 * size), (u0, 0.8 * size))
    ]
    polygon = tuple((round(x, 2), round(page_height - y, 2)) for x, y in corners)
    return Run(
        text=" ".join(text.split()),
        page=page_number,
        x0=min(c["x0"] for c in chars),
        top=min(c["top"] for c in chars),
        x1=max(c["x1"] for c in chars),
        bottom=max(c["bottom"] for c in chars),
        font_size=round(size, 2),
        rotation=degrees,
        polygon=polygon,
    )
