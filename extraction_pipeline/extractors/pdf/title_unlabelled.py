"""Title block fields a sheet shows without a label (read after the labelled ones, never over them).

Standard-detail sheets and old plots often carry no ``DRAWING NO:``/``TITLE:`` labels:

- the drawing number stands in the top or bottom band of the sheet, shaped like one (letters and digits joined
  by hyphens and dots: ``KD-10.50.A``, ``C-1-7``), alone or after words (``STANDARD DETAIL KD-10.50.A``); the
  largest such run wins;
- the title is written large right above the ``SCALE`` field (``SECTION`` / ``PICK-UP COUNTER`` over
  ``SCALE: N.T.S.``); its lines are joined with spaces.
"""

from __future__ import annotations

import re

from extraction_pipeline.extractors.pdf.model import Page, Run
from extraction_pipeline.extractors.schema import TitleBlock

_DRAWING_NUMBER = re.compile(r"(?=[^ ]*\d)(?=[^ ]*[A-Z])[A-Z0-9]{1,8}(?:[-.][A-Z0-9]{1,8}){2,6}")
_BAND_SHARE = 0.15
"""Top and bottom bands of the sheet where an unlabelled drawing number is looked for."""
_SCALE_LABEL = re.compile(r"(?i)SCALE\b")
_TITLE_SIZE_RATIO = 1.2
_TITLE_REACH_HEIGHTS = 4.0
"""The title's lowest line ends at most this many SCALE-line heights above it."""


def complete_title_block(
    title_block: TitleBlock | None, page_number: int | None, pages: list[Page]
) -> TitleBlock | None:
    """``title_block`` with its missing drawing number and title filled from unlabelled runs, when found."""
    ordered = sorted(pages, key=lambda p: (p.number != page_number, p.number))
    fields: dict[str, str] = {}
    if title_block is None or not title_block.drawing_number:
        number = next((found for page in ordered if (found := _drawing_number(page))), None)
        if number:
            fields["drawing_number"] = number
    if title_block is None or not title_block.title:
        title = next((found for page in ordered if (found := _title_over_scale(page))), None)
        if title:
            fields["title"] = title
    if not fields:
        return title_block
    return title_block.model_copy(update=fields) if title_block else TitleBlock(**fields)


def _drawing_number(page: Page) -> str | None:
    band = _BAND_SHARE * page.height
    candidates = [
        (run, number)
        for run in page.runs
        if (run.bottom <= band or run.top >= page.height - band) and (number := _number_of(run.text))
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c[0].font_size or c[0].height, c[0].center_x))[1]


def _number_of(text: str) -> str | None:
    """The run's drawing number: the whole run, or its last word after words without digits (``STANDARD DETAIL
    KD-10.50.A``)."""
    *words, last = text.split() or [""]
    if _DRAWING_NUMBER.fullmatch(last) and not any(ch.isdigit() for word in words for ch in word):
        return last
    return None


def _title_over_scale(page: Page) -> str | None:
    scale = next((run for run in page.runs if _SCALE_LABEL.match(run.text.strip())), None)
    if scale is None:
        return None
    scale_size = scale.font_size or scale.height
    lines: list[Run] = []
    floor = scale.top
    for run in sorted(page.runs, key=lambda r: -r.bottom):
        if run.bottom > floor or run is scale or (run.x1 <= scale.x0 or run.x0 >= scale.x1):
            continue
        if floor - run.bottom > _TITLE_REACH_HEIGHTS * scale.height:
            break
        if (run.font_size or run.height) < _TITLE_SIZE_RATIO * scale_size:
            break
        lines.append(run)
        floor = run.top
    return " ".join(run.text.strip() for run in reversed(lines)) or None
