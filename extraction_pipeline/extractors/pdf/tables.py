"""Tables: pdfplumber's ruled grids (frame dropped, bordered-cell grids stitched) and unruled aligned columns."""

from __future__ import annotations

import bisect
import itertools
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pdfplumber.table import Table as PlumberTable
from pdfplumber.table import cells_to_tables
from pdfplumber.utils import cluster_objects, extract_text

from extraction_pipeline.extractors.pdf.dense_grids import BoundedTableFinder
from extraction_pipeline.extractors.pdf.model import (
    LINE_TOLERANCE,
    FoundTable,
    Page,
    Run,
    bbox_area,
    inside,
    rounded,
    union,
)

_FRAME_CELL_SHARE = 0.25
_STITCH_TOLERANCE = 3.0
"""Row/column boundaries of neighbouring grids that differ by at most this much (pt) line up (pdfplumber's snap)."""
_STITCH_GAP_ROWS = 1.0
_GAP_FILL_MIN_SHARE = 0.75
"""A row's missing cell is filled from the page when the row has at least this share of its cells."""
"""Grids that line up are one table when the gutter between them is at most this many (median) row heights."""


@dataclass
class _Grid:
    """A ruled table before cleanup: cell texts by row, and the x/y boundaries of its columns/rows."""

    bbox: tuple[float, float, float, float]
    rows: list[list[str]]
    bold_rows: set[int]
    row_edges: list[float]  # the top of every row, then the bottom of the last one
    column_edges: list[float]  # the left of every column, then the right of the last one
    title: str | None = None
    row_height: float = field(init=False)

    def __post_init__(self) -> None:
        self.row_height = statistics.median(b - a for a, b in itertools.pairwise(self.row_edges))


def ruled_tables(plumber_page: Any, page: Page) -> list[FoundTable]:
    """pdfplumber's ruled tables, with neighbouring grids that line up stitched together.

    A table drawn as separately bordered cells with a gutter between them (``cell(..., border=1)`` at a pitch
    wider than the cell) reaches pdfplumber as one grid per column, or as lone cells (which pdfplumber drops):
    those are joined again. Cell text comes from the page's characters sorted once by height, not from
    ``Table.extract`` (which scans every character of the page once per row of every table: most of the time
    on a page with a table).
    """
    page_area = page.width * page.height
    finder = BoundedTableFinder(plumber_page)
    page.dense_grids = finder.dense_grids
    grouped = {cell for table in finder.tables for cell in table.cells}
    tables = _without_frame_cells(
        plumber_page,
        [*finder.tables, *(PlumberTable(plumber_page, [c]) for c in finder.cells if c not in grouped)],
        _FRAME_CELL_SHARE * page_area,
    )
    if not tables:
        return []
    # no text layer: the runs OCR read; a text layer with regions OCR read (outlined Latin beside CJK text): both
    ocr_runs = [run for run in page.runs if run.source == "ocr"]
    chars = [*plumber_page.chars, *map(_run_as_char, ocr_runs)] or [_run_as_char(run) for run in page.runs]
    cells_per_table = [_row_cells(table) for table in tables]
    chars_per_cell = _chars_per_cell(
        chars, (cell for rows in cells_per_table for row in rows for cell in row if cell is not None)
    )
    grids = _stitched(
        [_grid(table, cells, chars_per_cell) for table, cells in zip(tables, cells_per_table, strict=True)]
    )
    found = []
    for grid in grids:
        rows, bold_rows = _drop_empty_rows_and_columns(grid.rows, grid.bold_rows)
        if len(rows) >= 2 and len(rows[0]) >= 2 and sum(1 for row in rows for cell in row if cell) >= 2:
            found.append(FoundTable(page.number, rounded(grid.bbox), rows, bold_rows, grid.title))
    return found


_Cell = tuple[float, float, float, float]


def _run_as_char(run: Run) -> dict[str, Any]:
    """A run of a page without a text layer (read by OCR) as one pdfplumber "character" with the run's text."""
    return {
        "text": run.text,
        "x0": run.x0,
        "x1": run.x1,
        "top": run.top,
        "bottom": run.bottom,
        "doctop": run.top,
        "upright": True,
        "size": run.height,
        "fontname": "",
        "object_type": "char",
    }


def _without_frame_cells(plumber_page: Any, tables: list[PlumberTable], max_cell_area: float) -> list[PlumberTable]:
    """The tables with the drawing frame's page-sized cells taken out.

    A table drawn in a corner of the frame shares the frame's lines, so pdfplumber returns frame and table as one
    grid; the table's own cells, regrouped without the frame cell, are the table.
    """
    kept = []
    for table in tables:
        cells = [cell for cell in table.cells if bbox_area(cell) <= max_cell_area]
        if len(cells) == len(table.cells):
            kept.append(table)
        elif cells:
            kept.extend(PlumberTable(plumber_page, group) for group in cells_to_tables(cells))
    return kept


def _chars_per_cell(chars: list[dict[str, Any]], cells: Iterable[_Cell]) -> dict[_Cell, list[dict[str, Any]]]:
    """The characters whose centre lies in each cell (half-open, as pdfplumber's ``Table.extract``), in page order.

    Characters are sorted by height once, so each cell only looks at the characters of its own rows.
    """
    centres = sorted(
        ((char["top"] + char["bottom"]) / 2, (char["x0"] + char["x1"]) / 2, index) for index, char in enumerate(chars)
    )
    v_mids = [centre[0] for centre in centres]
    found: dict[_Cell, list[dict[str, Any]]] = {}
    for cell in cells:
        x0, top, x1, bottom = cell
        band = centres[bisect.bisect_left(v_mids, top) : bisect.bisect_left(v_mids, bottom)]
        found[cell] = [chars[index] for index in sorted(index for _, h_mid, index in band if x0 <= h_mid < x1)]
    return found


def _row_cells(table: Any) -> list[list[_Cell | None]]:
    """Each row's cells by column; in a row that has nearly all its cells, a gap no cell of the table covers (a
    cell whose rule the drawing lacks, as an item number left without its left border) becomes a cell of its own,
    so its text is not lost. Sparse rows keep their gaps: boxes of a schematic are no table cells."""
    columns = sorted({cell[0] for cell in table.cells})
    right = table.bbox[2]
    row_tops = [row.bbox[1] for row in table.rows]
    bottoms = [*row_tops[1:], table.bbox[3]]
    rows: list[list[_Cell | None]] = []
    for row, bottom in zip(table.rows, bottoms, strict=True):
        cells: list[_Cell | None] = list(row.cells)
        if sum(1 for cell in cells if cell is not None) < _GAP_FILL_MIN_SHARE * len(cells):
            rows.append(cells)
            continue
        for index, cell in enumerate(cells):
            if cell is None:
                x1 = columns[index + 1] if index + 1 < len(columns) else right
                gap = (columns[index], row.bbox[1], x1, bottom)
                if not _covered(gap, table.cells):
                    cells[index] = gap
        rows.append(cells)
    return rows


def _covered(gap: _Cell, cells: list[_Cell]) -> bool:
    x, y = (gap[0] + gap[2]) / 2, (gap[1] + gap[3]) / 2
    return any(c[0] < x < c[2] and c[1] < y < c[3] for c in cells)


def _grid(table: Any, row_cells: list[list[_Cell | None]], chars_per_cell: dict[_Cell, list[dict[str, Any]]]) -> _Grid:
    rows, bold_rows = [], set()
    column_edges = [*sorted({cell[0] for cell in table.cells}), table.bbox[2]]
    title = None
    for index, row in enumerate(row_cells):
        cells = [chars_per_cell.get(cell, []) if cell is not None else [] for cell in row]
        written = [chars for chars in cells if any(not char["text"].isspace() for char in chars)]
        if index == 0 and len(written) == 1 and len(cells) >= 3:
            title, cells = _caption_over_header(written[0], column_edges) or (None, cells)
            written = [chars for chars in cells if chars]
        rows.append([_cell_text(extract_text(chars)) if chars else "" for chars in cells])
        if written and all(_mostly_bold(chars) for chars in written):
            bold_rows.add(index)
    x0, top, x1, bottom = table.bbox
    return _Grid(
        (x0, top, x1, bottom),
        rows,
        bold_rows,
        [*sorted({cell[1] for cell in table.cells}), bottom],
        column_edges,
        title,
    )


def _caption_over_header(
    chars: list[dict[str, Any]], column_edges: list[float]
) -> tuple[str | None, list[list[dict[str, Any]]]] | None:
    """A top cell spanning the table that holds the column names on its last line, under a caption (the header
    row's rules not drawn): (caption, the last line's characters cut at the columns' edges), else None."""
    lines = cluster_objects(chars, "bottom", 1.5)
    lines.sort(key=lambda line: line[0]["bottom"])
    columns: list[list[dict[str, Any]]] = [[] for _ in column_edges[:-1]]
    for char in (c for c in lines[-1] if not c["text"].isspace()):
        index = bisect.bisect_right(column_edges, (char["x0"] + char["x1"]) / 2) - 1
        columns[min(max(index, 0), len(columns) - 1)].append(char)
    if sum(1 for column in columns if column) < max(2, len(columns) // 2 + 1):
        return None
    caption = " ".join(_cell_text(extract_text(sorted(line, key=lambda c: c["x0"]))) for line in lines[:-1])
    return caption or None, columns


def _mostly_bold(chars: list[dict[str, Any]]) -> bool:
    written = [char for char in chars if not char["text"].isspace()]
    return sum(1 for char in written if "bold" in char["fontname"].lower()) * 2 > len(written)


def _stitched(grids: list[_Grid]) -> list[_Grid]:
    """Join grids side by side with the same rows, then grids stacked with the same columns, until none is left."""
    while True:
        count = len(grids)
        grids = _stitch_pass(_stitch_pass(grids, across=True), across=False)
        if len(grids) == count:
            return grids


def _stitch_pass(grids: list[_Grid], *, across: bool) -> list[_Grid]:
    joined: list[_Grid] = []
    for grid in sorted(grids, key=lambda g: (g.bbox[0], g.bbox[1]) if across else (g.bbox[1], g.bbox[0])):
        for index, before in enumerate(joined):
            if _continues(before, grid, across=across):
                joined[index] = _join(before, grid, across=across)
                break
        else:
            joined.append(grid)
    return joined


def _continues(first: _Grid, second: _Grid, *, across: bool) -> bool:
    """``second`` carries on ``first`` to its right (or below it): the same rows (columns), a narrow gutter."""
    gap = second.bbox[0] - first.bbox[2] if across else second.bbox[1] - first.bbox[3]
    if not -_STITCH_TOLERANCE <= gap <= _STITCH_GAP_ROWS * min(first.row_height, second.row_height):
        return False
    edges = (first.row_edges, second.row_edges) if across else (first.column_edges, second.column_edges)
    if len(edges[0]) != len(edges[1]) or any(abs(a - b) > _STITCH_TOLERANCE for a, b in zip(*edges, strict=True)):
        return False
    return first.rows[0] != second.rows[0]  # the same first row twice: a list carried on in a second block


def _join(first: _Grid, second: _Grid, *, across: bool) -> _Grid:
    bbox = union([first.bbox, second.bbox])
    if across:
        return _Grid(
            bbox,
            [a + b for a, b in zip(first.rows, second.rows, strict=True)],
            first.bold_rows & second.bold_rows,
            first.row_edges,
            [*first.column_edges[:-1], *second.column_edges],
            first.title,
        )
    return _Grid(
        bbox,
        first.rows + second.rows,
        first.bold_rows | {index + len(first.rows) for index in second.bold_rows},
        [*first.row_edges[:-1], *second.row_edges],
        first.column_edges,
        first.title,
    )


def _cell_text(cell: str | None) -> str:
    return " ".join((cell or "").split())


def _drop_empty_rows_and_columns(rows: list[list[str]], bold_rows: set[int]) -> tuple[list[list[str]], set[int]]:
    """pdfplumber adds empty columns at every grid line of merged cells; keep only columns with text."""
    keep_rows = [i for i, row in enumerate(rows) if any(row)]
    width = max((len(row) for row in rows), default=0)
    keep_columns = [c for c in range(width) if any(c < len(row) and row[c] for row in rows)]
    cleaned = [[rows[i][c] if c < len(rows[i]) else "" for c in keep_columns] for i in keep_rows]
    return cleaned, {new for new, old in enumerate(keep_rows) if old in bold_rows}


# ---------------------------------------------------------------------------------------------------
# Unruled tables: runs aligned in columns over evenly spaced rows, no rule between them
# ---------------------------------------------------------------------------------------------------

_MIN_UNRULED_ROWS = 3
_MAX_ROW_PITCH_HEIGHTS = 2.6
_PITCH_VARIATION = 1.6
_SHORT_CELL_WORDS = 4
_SHORT_CELL_CHARS = 30
_MIN_SHORT_COLUMNS = 2
_MAX_COLUMN_GAP_HEIGHTS = 12.0


def add_text_tables(page: Page) -> None:
    """The tables a page's text makes without rules: aligned columns (not on heavy pages), then ``Label: value``
    lists among the runs no table holds."""
    if not page.heavy:
        page.tables.extend(unruled_tables(page))
    page.tables.extend(label_value_tables(page))


def unruled_tables(page: Page) -> list[FoundTable]:
    taken = [t.bbox for t in page.tables]
    free = [r for r in page.runs if not _in_any(r, taken)]
    lines = _lines_of_runs(free)
    tables = []
    start = 0
    while start < len(lines):
        end, columns = _grow_unruled(page, lines, start)
        if end - start >= _MIN_UNRULED_ROWS and len(columns) >= 2:
            for part_lines, part_columns in _split_at_wide_gaps(lines[start:end], columns):
                table = _unruled_table(page.number, part_lines, part_columns)
                if _has_short_cells(table.rows):
                    tables.append(table)
            start = end
        else:
            start += 1
    return tables


def _split_at_wide_gaps(
    lines: list[list[Run]], columns: list[tuple[float, float]]
) -> list[tuple[list[list[Run]], list[tuple[float, float]]]]:
    """The parts of an aligned block between column gaps wider than ``_MAX_COLUMN_GAP_HEIGHTS`` text heights, each
    with >= 2 columns and >= ``_MIN_UNRULED_ROWS`` rows. Without rules, a table's cells sit close; a wider gap is
    the drawing between unrelated text that happens to share lines (site notes at the left and the title block's
    labels at the right edge of a scanned sheet)."""
    height = statistics.median(r.height for line in lines for r in line)
    groups: list[list[tuple[float, float]]] = [[columns[0]]]
    for column in columns[1:]:
        if column[0] - groups[-1][-1][1] > _MAX_COLUMN_GAP_HEIGHTS * height:
            groups.append([])
        groups[-1].append(column)
    parts = []
    for group in groups:
        part = [kept for line in lines if (kept := [r for r in line if group[0][0] <= r.center_x <= group[-1][1]])]
        if len(group) >= 2 and len(part) >= _MIN_UNRULED_ROWS:
            parts.append((part, group))
    return parts


def _has_short_cells(rows: list[list[str]]) -> bool:
    """Table evidence without rules: >= 2 columns of short cells. Prose set in columns aligns and keeps its pitch
    too, but its lines are long; a table's cells are values and names (a description column may be long)."""
    short_columns = 0
    for column in range(len(rows[0])):
        cells = [row[column] for row in rows if row[column]]
        lengths = sorted((len(cell.split()), len(cell)) for cell in cells)
        if lengths:
            words, chars = lengths[len(lengths) // 2]
            short_columns += words <= _SHORT_CELL_WORDS and chars <= _SHORT_CELL_CHARS
    return short_columns >= _MIN_SHORT_COLUMNS


def _lines_of_runs(runs: list[Run]) -> list[list[Run]]:
    lines = cluster_objects(runs, lambda r: r.bottom, LINE_TOLERANCE)
    for line in lines:
        line.sort(key=lambda r: r.x0)
    return sorted(lines, key=lambda line: line[0].top)


def _grow_unruled(page: Page, lines: list[list[Run]], start: int) -> tuple[int, list[tuple[float, float]]]:
    """Extend a table from ``lines[start]`` while rows keep the columns and the spacing; returns (end, columns)."""
    if len(lines[start]) < 2:
        return start + 1, []
    columns = _columns([lines[start]])
    pitch: float | None = None
    end = start + 1
    while end < len(lines) and len(lines[end]) >= 2:
        previous, line = lines[end - 1], lines[end]
        step = line[0].bottom - previous[0].bottom
        height = max(r.height for r in [*previous, *line])
        if step > _MAX_ROW_PITCH_HEIGHTS * height or (
            pitch and not pitch / _PITCH_VARIATION <= step <= pitch * _PITCH_VARIATION
        ):
            break
        span = (min(r.x0 for r in [*previous, *line]), max(r.x1 for r in [*previous, *line]))
        if page.rules.horizontal_between(max(r.bottom for r in previous), min(r.top for r in line), *span):
            break
        candidate = _columns(lines[start : end + 1])
        if not _one_run_per_column(lines[start : end + 1], candidate) or len(candidate) < len(columns):
            break
        columns, pitch, end = candidate, pitch or step, end + 1
    return end, columns


def _columns(lines: list[list[Run]]) -> list[tuple[float, float]]:
    """x-intervals covered by the runs of all lines, merged where they overlap."""
    spans = sorted((r.x0, r.x1) for line in lines for r in line)
    merged: list[tuple[float, float]] = []
    for x0, x1 in spans:
        if merged and x0 <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], x1))
        else:
            merged.append((x0, x1))
    return merged


def _column_of(run: Run, columns: list[tuple[float, float]]) -> int:
    return next(i for i, (x0, x1) in enumerate(columns) if x0 <= run.center_x <= x1)


def _one_run_per_column(lines: list[list[Run]], columns: list[tuple[float, float]]) -> bool:
    for line in lines:
        used = [_column_of(run, columns) for run in line]
        if len(used) != len(set(used)):
            return False
    return True


def _unruled_table(number: int, lines: list[list[Run]], columns: list[tuple[float, float]]) -> FoundTable:
    rows = []
    for line in lines:
        row = [""] * len(columns)
        for run in line:
            row[_column_of(run, columns)] = run.text
        rows.append(row)
    bbox = union(run.bbox for line in lines for run in line)
    bold_rows = {i for i, line in enumerate(lines) if all(run.bold for run in line)}
    return FoundTable(number, rounded(bbox), rows, bold_rows)


# ---------------------------------------------------------------------------------------------------
# Lists of ``Label: value`` lines
# ---------------------------------------------------------------------------------------------------

_LABEL_VALUE = re.compile(r"(?P<label>[^\W\d_][^:]{1,60}?)\s*:\s*(?P<value>\S.{0,60})")
"""``Total Square Footage of Building: 26,663 S.F.``: a label of words (not a numbered note) and a short value."""
_MIN_LABEL_VALUE_ROWS = 3
_LEFT_EDGE_HEIGHTS = 0.6


def label_value_tables(page: Page) -> list[FoundTable]:
    """Lists of ``Label: value`` lines, one under another from the same left edge at a steady pitch (a site plan's
    zoning data, a datasheet's ratings): two columns, label and value. Runs already in a table are left alone."""
    taken = [t.bbox for t in page.tables]
    pairs = [
        (run, match)
        for run in page.runs
        if not run.rotation and (match := _label_value(run.text)) is not None and not _in_any(run, taken)
    ]
    tables = []
    for group in _stacked(pairs):
        if len(group) >= _MIN_LABEL_VALUE_ROWS:
            rows = [[match["label"].strip(), match["value"].strip()] for _, match in group]
            tables.append(FoundTable(page.number, rounded(union(run.bbox for run, _ in group)), rows, set()))
    return tables


_MAX_LABEL_WORDS = 8
_MAX_VALUE_WORDS = 6


def _label_value(text: str) -> re.Match[str] | None:
    """A ``Label: value`` line: the label a capitalised name of a few words, the value a few words without a colon
    of its own (a line of prose that holds a colon, ``as follows: Beginning at ...``, is neither)."""
    match = _LABEL_VALUE.fullmatch(text.strip())
    if match is None or not match["label"][0].isupper() or ":" in match["value"]:
        return None
    if len(match["label"].split()) > _MAX_LABEL_WORDS or len(match["value"].split()) > _MAX_VALUE_WORDS:
        return None
    return match


def _in_any(run: Run, boxes: list[tuple[float, float, float, float]]) -> bool:
    return any(inside(run, box) for box in boxes)


def _stacked(pairs: list[tuple[Run, re.Match[str]]]) -> list[list[tuple[Run, re.Match[str]]]]:
    """Runs of consecutive lines sharing a left edge, each within a row pitch of the one above."""
    groups: list[list[tuple[Run, re.Match[str]]]] = []
    for run, match in sorted(pairs, key=lambda pair: pair[0].top):
        for group in groups:
            last = group[-1][0]
            same_edge = abs(run.x0 - last.x0) <= _LEFT_EDGE_HEIGHTS * last.height
            if same_edge and 0 < run.top - last.top <= _MAX_ROW_PITCH_HEIGHTS * last.height:
                group.append((run, match))
                break
        else:
            groups.append([(run, match)])
    return groups
