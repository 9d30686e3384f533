"""A drawing's revision from its revision table: the latest row.

Revision tables grow downwards (ASME, at the top right) or upwards (ISO, over the title block), so the latest row
is not found by position: it is the row with the latest date when every row's date reads unambiguously, else the
row with the highest revision code (``C`` after ``B``, ``AA`` after ``Z``; numbers compare as numbers, part by
part: ``1.10`` after ``1.9``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from extraction_pipeline.extractors.pdf.model import Run
from extraction_pipeline.extractors.title_dates import find_date, iso_date
from extraction_pipeline.extractors.title_vocabulary import TITLE_LABELS, label_pattern

_REVISION_HEADER = re.compile("(?i)(?:" + "|".join(label_pattern(a) for a in TITLE_LABELS["revision"]) + r")\s*:?")
_DATE_HEADER = re.compile("(?i)(?:" + "|".join(label_pattern(a) for a in TITLE_LABELS["date"]) + r")\s*:?")
_CODE = re.compile(r"[A-Z0-9]+(?:[.\-][A-Z0-9]+)*", re.IGNORECASE)
_MAX_CODE_CHARS = 8
_COLUMN_CODE = re.compile(r"[A-Z]{1,2}|\d{1,2}")
"""A revision code in a column of a revision table: one or two capitals, or a number."""


def latest_revision(rows: Sequence[Sequence[str]]) -> str | None:
    """The revision code of the table's latest row, when its first row is a header with a revision column."""
    if len(rows) < 2:
        return None
    header = [cell.strip() for cell in rows[0]]
    rev_col = next((i for i, cell in enumerate(header) if _REVISION_HEADER.fullmatch(cell)), None)
    if rev_col is None:
        return None
    date_col = next((i for i, cell in enumerate(header) if _DATE_HEADER.fullmatch(cell)), None)
    entries = [
        (row[rev_col].strip(), row[date_col].strip() if date_col is not None and date_col < len(row) else "")
        for row in rows[1:]
        if rev_col < len(row) and _CODE.fullmatch(row[rev_col].strip()) and len(row[rev_col].strip()) <= _MAX_CODE_CHARS
    ]
    if not entries:
        return None
    dates = [iso_date(found, day_first=False) if (found := find_date(date)) else None for _, date in entries]
    if all(dates) and len(set(dates)) == len(dates):
        return max(zip(dates, entries, strict=True))[1][0]
    return max(entries, key=lambda entry: _code_order(entry[0]))[0]


def _code_order(code: str) -> tuple[tuple[int, int, str], ...]:
    """Letters by length then alphabet (``Z`` < ``AA``), numbers by value, part by part."""
    parts = re.split(r"[.\-]", code.upper())
    return tuple((0, int(p), "") if p.isdigit() else (1, len(p), p) for p in parts)


_COLUMN_GAP_HEIGHTS = 2.5
"""Codes of one revision column follow each other at most this many label heights apart."""


def revision_column(label: Run, runs: Sequence[Run]) -> Run | None:
    """The latest of the revision codes stacked in the label's column, over or under it (an ISO revision table
    prints its REV header under its rows, the newest on top), when there are two or more; else None."""
    column = [
        r
        for r in runs
        if r is not label
        and r.x0 < label.x1
        and r.x1 > label.x0
        and _COLUMN_CODE.fullmatch(r.text.strip())
        and round((r.rotation or 0) / 90) % 4 == round((label.rotation or 0) / 90) % 4
    ]
    stacked = []
    for direction in (1, -1):
        edge = label.bottom if direction == 1 else label.top
        for run in sorted(column, key=lambda r: direction * r.top):
            gap = run.top - edge if direction == 1 else edge - run.bottom
            if gap < -1 or gap > _COLUMN_GAP_HEIGHTS * label.height:
                if gap > 0:
                    break
                continue
            stacked.append(run)
            edge = run.bottom if direction == 1 else run.top
    if len(stacked) < 2:
        return None
    return max(stacked, key=lambda r: _code_order(r.text.strip()))
