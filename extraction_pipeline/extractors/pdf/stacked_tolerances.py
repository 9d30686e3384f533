"""Tolerances printed as their own small lines beside a dimension's value, read with the value.

CAD tools print deviations stacked right of the value (``16`` then ``+0`` over ``-0,15``), or as a separate
word after a gap (``24`` ``±1``): the text layer gives them as runs of their own. A run that holds only a deviation
(``+0,1``, ``-0.15``, ``±1``, or a lone ``0``) right after a value, in the value's own reading direction and within
its line height, belongs to that value: the value's text becomes ``16 +0/-0,15`` (upper line first) and the
deviation runs are not read on their own. Works in each run's reading frame, so vertical dimensions read the same.

Deviation lines centred right over (or, failing that, under) a value with nothing beside it are its tolerance too
(``±.010 [±0.25]`` over ``.650 [16.50]``, ``+.010`` over ``-.000`` over ``0.062``); a second unit in brackets stays
after the deviation (``.650 ±.010 [16.50]``).
"""

from __future__ import annotations

import dataclasses
import math
import re

from extraction_pipeline.extractors.pdf.model import Run

_DEVIATION = re.compile(r"\s*(?:[+\-±]\s*\d*[.,]?\d+|0(?:[.,]0+)?)\s*(?:mm)?\s*(?:\[[^\]]*\]?)?\s*")
_SECOND_UNIT = re.compile(r"\s*\[[^\]]*\]?\s*$")
_VALUE_END = re.compile(r"(?:^|[\sØR)])(?:\d+(?:[.,]\d+)?|[.,]\d+)\s*(?:\[[^\]]*\]\s*)?$")
_VALUE_AND_DEVIATION = re.compile(r"(?P<value>.*\d)(?P<deviation>\s+[+\-]\s*\d*[.,]?\d+)")
_MAX_GAP_HEIGHTS = 1.0
_DIRECTION_SLACK = 3.0
_MAX_SIZE_RATIO = 1.2

Box = tuple[float, float, float, float]


def reading_box(run: Run) -> Box:
    """The run's box in its own reading frame: x along the text, y downwards across its lines (a slanted run's
    turned rectangle when it has one)."""
    angle = math.radians(run.rotation or 0.0)
    cos, sin = math.cos(angle), math.sin(angle)
    corners = run.polygon or ((run.x0, run.top), (run.x1, run.top), (run.x1, run.bottom), (run.x0, run.bottom))
    along = [x * cos - y * sin for x, y in corners]
    across = [x * sin + y * cos for x, y in corners]
    return (min(along), min(across), max(along), max(across))


def _same_direction(first: Run, second: Run) -> bool:
    return abs(((first.rotation or 0.0) - (second.rotation or 0.0) + 180) % 360 - 180) <= _DIRECTION_SLACK


def with_stacked_tolerances(runs: list[Run]) -> list[Run]:
    """The runs with each value's deviation runs folded into its text (and left out themselves)."""
    deviations = [run for run in runs if _DEVIATION.fullmatch(run.text)]
    if not deviations:
        return runs
    used: set[int] = set()
    merged: dict[int, Run] = {}
    for index, run in enumerate(runs):
        if _DEVIATION.fullmatch(run.text):
            continue
        free = [d for d in deviations if id(d) not in used]
        beside = [d for d in free if _beside(run, d)] if _VALUE_END.search(run.text) else []
        if beside:
            beside.sort(key=lambda d: reading_box(d)[1])
            used.update(id(d) for d in beside[:2])
            merged[index] = dataclasses.replace(run, text=_with_deviations(run.text, _joined(beside[:2])))
            continue
        completed = _with_other_half(run, free)
        if completed is not None:
            merged[index], other = completed
            used.add(id(other))
    for above in (True, False):  # a deviation over its value first (ASME sheets print it there), then under it
        for index, run in enumerate(runs):
            if index in merged or _DEVIATION.fullmatch(run.text) or not _VALUE_END.search(run.text):
                continue
            stack = _stacked(run, [d for d in deviations if id(d) not in used], above=above)
            if stack:
                used.update(id(d) for d in stack)
                merged[index] = dataclasses.replace(run, text=_with_deviations(run.text, _joined(stack)))
    return [merged.get(index, run) for index, run in enumerate(runs) if id(run) not in used]


def _stacked(value: Run, deviations: list[Run], *, above: bool) -> list[Run]:
    """The deviation lines right over (or under) the value, centred on it: one (``±.010``) or two (``+.010`` over
    ``-.000``), upper line first."""
    found: list[Run] = []
    edge = value
    for _ in range(2):
        candidates = [d for d in deviations if d not in found and _next_line(edge, d, above=above)]
        if not candidates:
            break
        nearest = min(candidates, key=lambda d: abs(reading_box(d)[1] - reading_box(edge)[1]))
        found.append(nearest)
        edge = nearest
    return sorted(found, key=lambda d: reading_box(d)[1])


def _next_line(line: Run, deviation: Run, *, above: bool) -> bool:
    if not _same_direction(line, deviation):
        return False
    x0, top, x1, bottom = reading_box(line)
    dx0, dtop, dx1, dbottom = reading_box(deviation)
    height = bottom - top
    if height <= 0 or (dbottom - dtop) > _MAX_SIZE_RATIO * height:
        return False
    centred = x0 <= (dx0 + dx1) / 2 <= x1 or dx0 <= (x0 + x1) / 2 <= dx1
    gap = top - dbottom if above else dtop - bottom
    return centred and -0.3 * height <= gap <= 0.8 * height


def _with_deviations(text: str, deviations: str) -> str:
    """``.650 [16.50]`` + ``±.010`` is ``.650 ±.010 [16.50]``: the deviation goes before the second unit."""
    second = _SECOND_UNIT.search(text)
    if second is None:
        return f"{text} {deviations}"
    return f"{text[: second.start()]} {deviations} {text[second.start() :].strip()}"


def _with_other_half(run: Run, deviations: list[Run]) -> tuple[Run, Run] | None:
    """A run that reads ``16 -0,15`` (the lower deviation on the value's baseline) with its ``+0`` over its tail,
    or ``16 +0`` with its ``-0,15`` under it: the value's text with both halves."""
    match = _VALUE_AND_DEVIATION.fullmatch(run.text)
    if match is None:
        return None
    x0, top, x1, bottom = reading_box(run)
    height = bottom - top
    tail_start = x0 + (x1 - x0) * len(match["value"]) / len(run.text)
    lower_on_line = match["deviation"].lstrip().startswith("-")
    for deviation in deviations:
        dx0, dtop, _, dbottom = reading_box(deviation)
        if not _same_direction(run, deviation):
            continue
        if not tail_start - 0.5 * height <= dx0 <= x1 or (dbottom - dtop) > _MAX_SIZE_RATIO * height:
            continue
        above = top - 0.8 * height <= dbottom <= top + 0.6 * height
        below = bottom - 0.6 * height <= dtop <= bottom + 0.8 * height
        if lower_on_line and above:
            return dataclasses.replace(
                run, text=f"{match['value']} {_joined([deviation, _as_run(run, match)])}"
            ), deviation
        if not lower_on_line and below:
            return dataclasses.replace(
                run, text=f"{match['value']} {_joined([_as_run(run, match), deviation])}"
            ), deviation
    return None


def _as_run(run: Run, match: re.Match[str]) -> Run:
    return dataclasses.replace(run, text=match["deviation"].strip())


def _joined(deviations: list[Run]) -> str:
    texts = [_SECOND_UNIT.sub("", d.text).strip() for d in deviations]
    if len(texts) == 2 and texts[0] in ("0", "0,0", "0.0"):
        texts[0] = "+" + texts[0]
    return "/".join(texts)


def _beside(value: Run, deviation: Run) -> bool:
    """Just after the value along its line, in the same direction, no larger, level with its line."""
    if not _same_direction(value, deviation):
        return False
    _, vtop, vx1, vbottom = reading_box(value)
    dx0, dtop, _, dbottom = reading_box(deviation)
    height = vbottom - vtop
    if height <= 0 or (dbottom - dtop) > _MAX_SIZE_RATIO * height:
        return False
    gap = dx0 - vx1
    middle = (dtop + dbottom) / 2
    return -0.3 * height <= gap <= _MAX_GAP_HEIGHTS * height and vtop - 0.5 * height <= middle <= vbottom + 0.5 * height
