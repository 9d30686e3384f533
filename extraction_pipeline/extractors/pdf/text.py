"""Text of a page: pdfplumber words grouped into runs (one line, no wide gap or rule inside) and runs into blocks.

``read_text_layer`` fills ``Page.runs`` and ``Page.rules``; ``page_text_blocks`` turns any page's runs (from
pdfplumber, PDFium or OCR) into the result's positioned text blocks.
"""

from __future__ import annotations

import dataclasses
import itertools
import statistics
from typing import Any

from pdfplumber.utils import cluster_objects
from pdfplumber.utils.text import WordExtractor

from extraction_pipeline.extractors.pdf.model import LINE_TOLERANCE, Edge, Page, Rules, Run, rounded, union
from extraction_pipeline.extractors.pdf.orientation import text_direction
from extraction_pipeline.extractors.pdf.slanted_text import is_slanted, slanted_runs
from extraction_pipeline.extractors.schema import TextBlock

_WORD_ATTRIBUTES = ["size", "fontname"]
_VERTICAL_READING = {90: ("btt", "ltr"), 270: ("ttb", "rtl")}
"""Text direction (counter-clockwise) -> pdfplumber's (char_dir, line_dir) for it: upwards, downwards."""


def read_text_layer(plumber_page: Any, page: Page) -> None:
    """The page's ruling lines and its words grouped into runs, from pdfplumber (pages with a text layer)."""
    page.rules = read_rules(plumber_page)
    plumber_page = plumber_page.dedupe_chars(tolerance=1)  # text printed twice (fake bold) is read once
    slanted = [char for char in plumber_page.chars if is_slanted(char)]
    if slanted:  # pdfminer calls slanted glyphs upright and would mix them into the level lines they cross
        plumber_page = plumber_page.filter(lambda obj: not is_slanted(obj))
    words = plumber_page.extract_words(extra_attrs=_WORD_ATTRIBUTES)
    page.runs = _runs_from_words([w for w in words if w["upright"]], page.number, page.rules)
    for direction, word in _vertical_words(plumber_page.chars):  # vertical text: a word is a run
        page.runs.append(_run_from_words([word], page.number, rotation=direction))
    page.runs.extend(slanted_runs(slanted, page.number, plumber_page.height))
    page.runs.sort(key=lambda r: (r.top, r.x0))


def _vertical_words(chars: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """Words written upwards or downwards, each read in its own direction (pdfplumber reads all of them downwards).

    Their ``size`` is the word's width across the baseline (pdfminer gives a turned glyph's advance instead).
    """
    found = []
    for direction, (char_dir, line_dir) in _VERTICAL_READING.items():
        turned = [c for c in chars if not c["upright"] and text_direction(c["matrix"]) == direction]
        if not turned:
            continue
        # not split by "size": for a turned glyph pdfminer gives its advance, so "6,10" would break at the comma
        extractor = WordExtractor(char_dir_rotated=char_dir, line_dir_rotated=line_dir, extra_attrs=["fontname"])
        found.extend((direction, {**w, "size": w["x1"] - w["x0"]}) for w in extractor.extract_words(turned))
    return found


_GLYPH_MARGIN = 1.0
_BUCKET = 50.0


def without_outlined_text(plumber_page: Any, runs: list[Run]) -> Any:
    """The page without the vector objects that lie inside a run's box: the strokes of text drawn as outlines,
    which OCR has read. Their straight pieces would otherwise be taken as table rules and dimension lines."""
    buckets: dict[tuple[int, int], list[Run]] = {}
    for run in runs:
        for i in range(int(run.x0 // _BUCKET), int(run.x1 // _BUCKET) + 1):
            for j in range(int(run.top // _BUCKET), int(run.bottom // _BUCKET) + 1):
                buckets.setdefault((i, j), []).append(run)

    def outside_text(obj: dict[str, Any]) -> bool:
        if obj.get("object_type") not in ("line", "rect", "curve"):
            return True
        key = (int(obj["x0"] // _BUCKET), int(obj["top"] // _BUCKET))
        return not any(
            run.x0 - _GLYPH_MARGIN <= obj["x0"]
            and obj["x1"] <= run.x1 + _GLYPH_MARGIN
            and run.top - _GLYPH_MARGIN <= obj["top"]
            and obj["bottom"] <= run.bottom + _GLYPH_MARGIN
            for run in buckets.get(key, ())
        )

    return plumber_page.filter(outside_text)


def split_at_rules(runs: list[Run], rules: Rules) -> list[Run]:
    """Runs read without character positions (OCR) cut at the vertical rules they cross, between words.

    OCR reads ``2  ISO 4762`` across a table's column rule as one line; a text layer's runs never cross one
    (``_runs_from_words``). A character's place is estimated from its index (the run's width shared evenly).
    """
    cut: list[Run] = []
    pending = list(runs)
    while pending:
        run = pending.pop()
        piece = _split_once(run, rules)
        if piece is None:
            cut.append(run)
        else:
            pending.extend(piece)
    return sorted(cut, key=lambda r: (r.top, r.x0))


def _split_once(run: Run, rules: Rules) -> tuple[Run, Run] | None:
    width = (run.x1 - run.x0) / max(len(run.text), 1)
    for index, char in enumerate(run.text):
        if char != " ":
            continue
        x = run.x0 + width * (index + 0.5)
        if rules.vertical_between(x - 1.5 * width, x + 1.5 * width, run.top, run.bottom):
            left, right = run.text[:index].rstrip(), run.text[index + 1 :].lstrip()
            if left and right:
                middle = run.x0 + width * index
                return (
                    dataclasses.replace(run, text=left, x1=middle, spaced=None),
                    dataclasses.replace(run, text=right, x0=middle + width, spaced=None),
                )
    return None


_AXIS_TOLERANCE = 0.5


def read_rules(plumber_page: Any) -> Rules:
    """Axis-parallel ruling lines only (pdfplumber also labels slanted lines as "v" edges)."""
    horizontal, vertical = [], []
    for edge in plumber_page.edges:
        as_edge = Edge(edge["x0"], edge["top"], edge["x1"], edge["bottom"])
        if abs(edge["bottom"] - edge["top"]) <= _AXIS_TOLERANCE:
            horizontal.append(as_edge)
        elif abs(edge["x1"] - edge["x0"]) <= _AXIS_TOLERANCE:
            vertical.append(as_edge)
    return Rules(horizontal, vertical)


_RUN_GAP_EM = 1.0


def _runs_from_words(words: list[dict[str, Any]], number: int, rules: Rules) -> list[Run]:
    """Upright words on one baseline form a run until a gap wider than 1 em or a vertical ruling line."""
    runs: list[Run] = []
    lines = cluster_objects(words, "bottom", LINE_TOLERANCE)
    for line in (part for words_of_line in lines for part in _overprinted_apart(words_of_line)):
        current = [line[0]]
        for word in line[1:]:
            previous = current[-1]
            em = max(previous["size"], word["size"])
            gap = word["x0"] - previous["x1"]
            split = gap > _RUN_GAP_EM * em or rules.vertical_between(
                previous["x1"],
                word["x0"],
                min(previous["top"], word["top"]),
                max(previous["bottom"], word["bottom"]),
            )
            if split:
                runs.append(_run_from_words(current, number))
                current = [word]
            else:
                current.append(word)
        runs.append(_run_from_words(current, number))
    return runs


_OVERPRINT_EM = 0.3


def _overprinted_apart(line: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """A line's words sorted left to right; words overprinted by text of another size (a watermark such as an
    educational licence's, a stamp laid over the title block's cells) taken apart, one line per font size.

    Words of one line never overlap; where they do, two lines of text lie over each other within the line
    tolerance, and joining them by x would interleave their words (``Edición 1/1 para educación``).
    """
    line = sorted(line, key=lambda w: w["x0"])
    overprinted = any(
        b["x0"] < a["x1"] - _OVERPRINT_EM * max(a["size"], b["size"]) and round(a["size"]) != round(b["size"])
        for a, b in itertools.pairwise(line)
    )
    if not overprinted:
        return [line]
    by_size: dict[int, list[dict[str, Any]]] = {}
    for word in line:
        by_size.setdefault(round(word["size"]), []).append(word)
    return list(by_size.values())


def _run_from_words(words: list[dict[str, Any]], number: int, rotation: float | None = None) -> Run:
    sizes = [w["size"] for w in words]
    bold_chars = sum(len(w["text"]) for w in words if "bold" in w["fontname"].lower())
    return Run(
        text=" ".join(w["text"] for w in words),
        page=number,
        x0=min(w["x0"] for w in words),
        top=min(w["top"] for w in words),
        x1=max(w["x1"] for w in words),
        bottom=max(w["bottom"] for w in words),
        font_size=round(statistics.median(sizes), 2),
        bold=bold_chars * 2 > sum(len(w["text"]) for w in words),
        spaced=_spaced_text(words),
        rotation=rotation,
    )


_WIDE_GAP_RATIO = 1.8
_WIDE_GAP_EM = 0.45


def _spaced_text(words: list[dict[str, Any]]) -> str | None:
    """The words with wide gaps written as two spaces, or None when no gap is wide.

    The narrowest gap of the run is taken as one space (font independent: a monospaced space is 0.6 em, a
    Helvetica one 0.28 em); a gap is wide at ``_WIDE_GAP_RATIO`` times that and at least ``_WIDE_GAP_EM`` em. A run
    of two words (one gap) has nothing to compare with and no wide gap.
    """
    pairs = list(itertools.pairwise(words))
    if len(pairs) < 2:
        return None
    narrowest = max(min(b["x0"] - a["x1"] for a, b in pairs), 0.0)
    wide = [
        b["x0"] - a["x1"] >= max(_WIDE_GAP_RATIO * narrowest, _WIDE_GAP_EM * max(a["size"], b["size"]))
        for a, b in pairs
    ]
    if not any(wide):
        return None
    parts = [words[0]["text"]]
    for word, is_wide in zip(words[1:], wide, strict=True):
        parts.append("  " if is_wide else " ")
        parts.append(word["text"])
    return "".join(parts)


_BLOCK_GAP_HEIGHTS = 0.6
_LEVEL_SLACK_DEGREES = 2.0
_BLOCK_SIZE_RATIO = 1.25


def page_text_blocks(page: Page) -> list[TextBlock]:
    blocks = _group_runs(page)
    return [
        TextBlock(
            text="\n".join(run.text for run in block),
            page=page.number,
            bbox=rounded(union(run.bbox for run in block)),
            font_size=block[0].font_size,
            **_ocr_fields(block),
        )
        for block in blocks
    ]


def _ocr_fields(block: list[Run]) -> dict[str, Any]:
    """Source, lowest confidence, rotation and (one rotated line) polygon of a block read by OCR."""
    if block[0].source is None:
        return {}
    polygon = block[0].polygon if len(block) == 1 and block[0].polygon else None
    return {
        "source": block[0].source,
        "confidence": min(run.confidence or 0.0 for run in block),
        "rotation": block[0].rotation,
        "polygon": [tuple(point) for point in polygon] if polygon else None,
    }


def _group_runs(page: Page) -> list[list[Run]]:
    """Stack runs into blocks: next line close below, overlapping in x, same size, no rule between."""
    runs = sorted(page.runs, key=lambda r: (r.top, r.x0))
    parent = list(range(len(runs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, upper in enumerate(runs):
        for j in range(i + 1, len(runs)):
            lower = runs[j]
            if lower.top > upper.bottom + _BLOCK_GAP_HEIGHTS * upper.height:
                break
            if _stacks(page, upper, lower):
                parent[root(j)] = root(i)
    groups: dict[int, list[Run]] = {}
    for i, run in enumerate(runs):
        groups.setdefault(root(i), []).append(run)
    return list(groups.values())


def _quarter_turns(run: Run) -> float:
    """The run's direction in quarter turns; a slanted run (not near a quarter turn) keeps its own angle."""
    turns = (run.rotation or 0.0) / 90
    return round(turns) % 4 if abs(turns - round(turns)) * 90 <= _LEVEL_SLACK_DEGREES else round(turns * 90) % 360 + 0.5


def _stacks(page: Page, upper: Run, lower: Run) -> bool:
    if (upper.source, _quarter_turns(upper)) != (lower.source, _quarter_turns(lower)):  # OCR: only with its like
        return False
    if lower.top < upper.bottom - 0.5 * upper.height:  # same line, not a line below
        return False
    if lower.x0 >= upper.x1 or lower.x1 <= upper.x0:
        return False
    sizes = (upper.font_size or upper.height, lower.font_size or lower.height)
    if max(sizes) > _BLOCK_SIZE_RATIO * min(sizes):
        return False
    span = (max(upper.x0, lower.x0), min(upper.x1, lower.x1))
    return not page.rules.horizontal_between(upper.bottom - 0.5, lower.top + 0.5, *span)
