"""Title block fields a sheet shows without a label (read after the labelled ones, never over them).

Standard-detail sheets and old plots often carry no ``DRAWING NO:``/``TITLE:`` labels:

- the drawing number stands in the top or bottom band of the sheet, shaped like one (letters and digits joined
  by hyphens and dots: ``KD-10.50.A``, ``C-1-7``), alone or after words (``STANDARD DETAIL KD-10.50.A``); the
  largest such run wins;
- the title is written large right above the ``SCALE`` field (``SECTION`` / ``PICK-UP COUNTER`` over
  ``SCALE: N.T.S.``); its lines are joined with spaces;
- failing those, the sheet's unlabelled strip (``title_strip``): an architectural sheet number and its neighbours,
  a drawing number along the right margin, a caption title.

Inside a labelled title block (called by ``title_block``): the sheet as another label's ``1/7`` (KiCad's
``Id: 1/7``), the date in the author's row, the firm's name and the title printed without labels.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from extraction_pipeline.extractors.pdf.model import Page, Run, inside
from extraction_pipeline.extractors.pdf.title_strip import caption_title, margin_number, strip_fields, turned_lines
from extraction_pipeline.extractors.schema import BBox, TitleBlock
from extraction_pipeline.extractors.title_dates import find_date

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
    custom: dict[str, str] = {}
    if title_block is None or not title_block.drawing_number:
        number = next((found for page in ordered if (found := _drawing_number(page))), None)
        if number:
            fields["drawing_number"] = number
        else:
            fields, custom = next((found for page in ordered if (found := strip_fields(page))[0]), ({}, {}))
    if "drawing_number" not in fields and (title_block is None or not title_block.drawing_number):
        number = next((found for page in ordered if (found := margin_number(page))), None)
        if number:
            fields["drawing_number"] = number
    if (title_block is None or not title_block.title) and "title" not in fields:
        taken = set(title_block.model_dump(exclude={"custom_fields"}).values()) if title_block else set()
        title = next((found for page in ordered if (found := _title_over_scale(page, taken))), None)
        title = title or next((found for page in ordered if (found := caption_title(page))), None)
        if title:
            fields["title"] = title
    if title_block is not None:
        fields = {k: v for k, v in fields.items() if not getattr(title_block, k)}
    if not fields:
        return title_block
    if title_block is None:
        return TitleBlock(**fields, custom_fields=custom)
    return title_block.model_copy(update={**fields, "custom_fields": {**custom, **title_block.custom_fields}})


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


def _title_over_scale(page: Page, taken: set[str | None]) -> str | None:
    """The large lines right above SCALE, that are no other field's value (the drawing number over SCALE)."""
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
        if (run.font_size or run.height) < _TITLE_SIZE_RATIO * scale_size or run.text.strip() in taken:
            break
        lines.append(run)
        floor = run.top
    return " ".join(run.text.strip() for run in reversed(lines)) or None


SHEET_NUMBER = re.compile(r"(?i)\d{1,3}\s*(?:/|OF|VON|DE|DI|Z|SUR)\s*\d{1,3}")
"""A sheet's number among its sheets (``1/7``, ``2 OF 3``, ``1 von 2``)."""
_BESIDE_REACH_HEIGHTS = 15.0


def date_beside(page: Page, value: Run) -> str | None:
    """A date printed right of ``value`` on its line (the date column of a DRAWN | name | date row)."""
    beside = [
        r
        for r in page.runs
        if r is not value
        and abs(r.center_y - value.center_y) <= value.height / 2
        and 0 <= r.x0 - value.x1 <= _BESIDE_REACH_HEIGHTS * value.height
    ]
    for run in sorted(beside, key=lambda r: r.x0):
        date = find_date(run.text)
        if date is not None and date == run.text.strip():
            return date
    return None


_COMPANY_WORDS = 4
_LEGAL_FORM = re.compile(
    r"(?i)\b(?:CORP|CORPORATION|INC|LTD|LLC|CO|PLC|GMBH|AG|KG|SA|SL|SRL|SPA|S\.?\s?R\.?\s?O|S\.?\s?L|S\.?\s?A|"
    r"S\.?\s?P\.?\s?A|B\.?\s?V|N\.?\s?V|OY|AB|AS|PTY|SAS|SARL|S\.?\s?A\.?\s?S)\.?$"
)
"""A firm's legal form ending its name (``KEYSTONE ELECTRONICS CORP.``, ``Prusa Research s.r.o.``)."""
_NOT_SMALLER = 0.95
_TITLE_WORDS = 8
_NOT_A_NAME = re.compile(r"(?i)[:@=±!?]|https?|www\.|\.(?:com|org|net)\b|\(.*\d.*\)|^\W*$")
_REACH_LINES = 1.5
_WORD = re.compile(r"[^\W\d_]{3,}")
"""A word of three letters or more: a name has one (OCR debris like ``Ds--s`` has not)."""
_SHEET_FIELD = re.compile(r"(?P<label>[^\W\d_][\w .']{0,20}?)\s*:\s*(?P<value>.+)")


def reach_of(page: Page, area: BBox) -> BBox:
    """The title block area a line and a half beyond its labelled runs (KiCad prints the company over its first
    label, and its sheet number under its last). A line's height is its font size where known: the box of a turned
    or slanted line, or of an OCR block of several lines, is far taller than one line."""
    line = max((r.font_size or r.height for r in page.runs if inside(r, area)), default=0.0)
    return (area[0], area[1] - _REACH_LINES * line, area[2], area[3] + _REACH_LINES * line)


def sheet_in_area(page: Page, area: BBox) -> str | None:
    """A ``LABEL: 1/7`` field of the title block whose label is not a sheet label (KiCad's ``Id: 1/7``)."""
    for run in page.runs:
        field = _SHEET_FIELD.fullmatch(run.text.strip()) if inside(run, area) else None
        if field is not None and SHEET_NUMBER.fullmatch(field["value"].strip()):
            return field["value"].strip()
    return None


def company_in_area(page: Page, area: BBox, is_taken: Callable[[Run], bool]) -> str | None:
    """The firm's name printed without a label in the title block: a short line of words that is no label and no
    value, not smaller than the block's typical text (notes and label pieces are); one ending in a legal form
    (``CORP.``, ``GmbH``, ``s.r.o.``) first, then in bold (a firm's name stands out: bold, or in its own cell beside
    a logo), then the largest (the topmost of equals)."""
    sizes = sorted(r.font_size or r.height for r in page.runs if inside(r, area))
    typical = sizes[len(sizes) // 2] if sizes else 0.0
    candidates = [
        r
        for r in _names_in(page, area, _COMPANY_WORDS)
        if not is_taken(r) and (r.font_size or r.height) >= _NOT_SMALLER * typical
    ]
    best = max(
        candidates,
        key=lambda r: (_LEGAL_FORM.search(r.text) is not None, r.bold, r.font_size or r.height, -r.top),
        default=None,
    )
    return best.text.strip() if best is not None else None


def title_in_area(page: Page, area: BBox, is_taken: Callable[[Run], bool]) -> str | None:
    """The title printed without a label in the title block: the largest line of words no field has taken."""
    candidates = [r for r in _names_in(page, area, _TITLE_WORDS) if not is_taken(r)]
    best = max(candidates, key=lambda r: (r.font_size or r.height, -r.top), default=None)
    return best.text.strip() if best is not None else None


_STRIP_SIDE_SHARE = 0.1
"""A labelled block this close to the right edge (share of the width) may head a vertical title strip."""
_STRIP_FAR_SHARE = 1 / 3


def turned_strip_names(page: Page, area: BBox, is_taken: Callable[[Run], bool]) -> tuple[str | None, str | None]:
    """(company, title) of a vertical title strip above a labelled block at the sheet's right edge (civil and
    architectural sheets): lines turned a quarter, read in their own direction. The firm's logo word stands at
    the strip's far end, away from the labelled block; the title is the largest other line."""
    if area[0] < (1 - _STRIP_SIDE_SHARE) * page.width:
        return None, None
    names = [
        r
        for r in turned_lines(page.runs)
        if r.x1 >= area[0] - 1.0
        and r.bottom <= area[1] + 1.0
        and _may_be_a_name(r, _TITLE_WORDS, turned=True)
        and not is_taken(r)
    ]
    if len(names) < 2:
        return None, None
    far_end = min(r.top for r in names)
    far_reach = far_end + _STRIP_FAR_SHARE * (area[1] - far_end)
    company = max(
        (r for r in names if r.center_y <= far_reach and len(r.text.split()) <= _COMPANY_WORDS),
        key=lambda r: r.font_size or r.height,
        default=None,
    )
    rest = [r for r in names if r is not company]
    title = max(rest, key=lambda r: (r.font_size or r.height, r.bottom), default=None)
    return (
        company.text.strip() if company is not None else None,
        title.text.strip() if title is not None else None,
    )


def _names_in(page: Page, area: BBox, max_words: int) -> list[Run]:
    return [r for r in page.runs if inside(r, area, margin=1.0) and _may_be_a_name(r, max_words)]


def _may_be_a_name(run: Run, max_words: int, *, turned: bool = False) -> bool:
    text = run.text.strip()
    letters = sum(ch.isalpha() for ch in text)
    return (
        letters >= 3
        and letters >= len(text.replace(" ", "")) / 2
        and len(text.split()) <= max_words
        and _NOT_A_NAME.search(text) is None
        and _WORD.search(text) is not None
        and not any(word.isdigit() for word in text.split())  # a count or a piece of a note
        and (not text.endswith((",", ";", ".")) or _LEGAL_FORM.search(text) is not None)  # a piece of a sentence
        and find_date(text) is None
        and (turned or (run.rotation or 0) == 0)
    )
