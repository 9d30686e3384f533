"""Title block fields from labelled runs: ``LABEL: value``, label cell over/beside its value, multi-field strips."""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

from extraction_pipeline.extractors.pdf.bom import is_bom_header
from extraction_pipeline.extractors.pdf.model import FoundTable, Page, Run, inside, union
from extraction_pipeline.extractors.pdf.title_cells import cell_of, value_in_cells
from extraction_pipeline.extractors.pdf.title_unlabelled import (
    company_in_area,
    date_beside,
    reach_of,
    sheet_in_area,
    title_in_area,
    turned_strip_names,
)
from extraction_pipeline.extractors.schema import BBox, TitleBlock
from extraction_pipeline.extractors.title_fields import FieldSplitter, TitleField
from extraction_pipeline.extractors.title_revisions import latest_revision, revision_column
from extraction_pipeline.extractors.title_values import date_custom_fields, fits, refers_elsewhere, tidy
from extraction_pipeline.extractors.title_vocabulary import ENGLISH_LABELS, OTHER_LABELS, TITLE_LABELS, label_pattern

_CUSTOM = "custom"


_LABELS: list[tuple[str, str, re.Pattern[str], re.Pattern[str], re.Pattern[str]]] = sorted(
    (
        (
            field_name,
            alias,
            re.compile(rf"(?i){label_pattern(alias)}\s*:?\s*"),  # the whole run is the label
            re.compile(rf"(?i){label_pattern(alias)}\s*:\s*(?P<value>\S.*)"),  # LABEL: value
            re.compile(rf"(?i){label_pattern(alias)}\s+(?P<value>[^\s:].*)"),  # LABEL value
        )
        for field_name, aliases in [*TITLE_LABELS.items(), (_CUSTOM, OTHER_LABELS)]
        for alias in aliases
    ),
    key=lambda entry: len(entry[1]),
    reverse=True,
)
_UNKNOWN_COLON_LABEL = re.compile(r"(?P<label>[A-Za-z][A-Za-z .'/&-]{0,28}[A-Za-z.])\s*:\s*(?P<value>\S.*)")
_LABEL_LIKE = re.compile(r"[A-Z][A-Z .'/&-]{0,28}[A-Z.]?")
_STRONG, _WEAK = 2, 1
_LABEL_SIZE_RATIO = 1.2
_NOT_SMALLER = 0.9
_NOT_SMALLER_READ = 0.8
"""OCR estimates a line's size from its box: a label with a colon or capitals reads up to a tenth larger than a
value in the same font."""


@dataclass(frozen=True)
class _Hit:
    field_name: str  # a TitleBlock field, or _CUSTOM
    label: str
    value: str
    strength: int
    runs: tuple[Run, ...]


_ANY_LABEL_START = re.compile("(?i)(?:" + "|".join(label_pattern(entry[1]) for entry in _LABELS) + ")")


def _name_label(label: str, known: bool) -> tuple[str, str]:
    """(field, custom_fields key) of a label of a multi-label run: a known label by its alias (``_LABELS``)."""
    field_name, alias = (_label_of(label) if known else None) or (_CUSTOM, label)
    return field_name, _custom_key(alias)


_FIELD_SPLITTER = FieldSplitter(
    (label_pattern(entry[1]) for entry in _LABELS),  # the longest alias first (``_LABELS`` is sorted so)
    _name_label,
    line_break_is_gap=False,  # a run is one line; its wide gaps are written as two spaces (``Run.spaced``)
)


@functools.lru_cache(maxsize=4096)
def _split_fields(text: str) -> tuple[TitleField, ...] | None:
    """The fields of a run holding several labels (``DRAWING NO: BM-0000   REV: B   SCALE: 1:2``), else None.

    Cut by the rules of ``title_fields``; an unknown label, or a known one that is no TitleBlock field, is named
    ``_CUSTOM``.
    """
    return _FIELD_SPLITTER.split(text)


@functools.lru_cache(maxsize=4096)
def _label_of(text: str) -> tuple[str, str] | None:
    """(field, alias) when the whole text is a known label; a label in two languages (``NÁZEV / TITLE:``, each
    part a few words) is the first known part's that names a field."""
    if not _ANY_LABEL_START.match(text.strip()):
        return None
    for field_name, alias, whole, _, _ in _LABELS:
        if whole.fullmatch(text.strip()):
            return field_name, alias
    parts = [part.strip() for part in text.split("/")]
    if len(parts) > 1 and all(_WORDS_LABEL.fullmatch(part) for part in parts):
        labels = [label for part in parts if (label := _label_of(part)) is not None]
        return next((label for label in labels if label[0] != _CUSTOM), labels[0] if labels else None)
    return None


_WORDS_LABEL = re.compile(r"[^\W\d_][^\W\d_ .']*(?:[ .'][^\W\d_]+){0,3}\.?\s*:?")
"""A label part of a label in several languages: up to four words, no digits."""


def find_title_block(
    pages: list[Page], data_tables: list[FoundTable]
) -> tuple[TitleBlock | None, int | None, tuple[int, BBox] | None]:
    hits_per_page = {page.number: _title_hits(page, data_tables) for page in pages}
    known = {n: [h for h in hits if h.field_name != _CUSTOM] for n, hits in hits_per_page.items()}
    best_page = max(known, key=lambda n: (len({h.field_name for h in known[n]}), -n), default=None)
    if best_page is None or not known[best_page]:
        return None, None, None
    by_number = {p.number: p for p in pages}
    page = by_number[best_page]
    fields: dict[str, str] = {}
    used: list[_Hit] = []
    for number in [
        best_page,
        *sorted(n for n in known if n != best_page and _same_template(known[n], known[best_page])),
    ]:
        ranked = sorted(known[number], key=functools.partial(_rank, by_number[number]))
        for hit in ranked:
            if hit.field_name not in fields and fits(hit.field_name, hit.value):
                fields[hit.field_name] = tidy(hit.field_name, hit.value)
                if number == best_page:
                    used.append(hit)
    # A label that lost its field to a better one (an approval stamp's ID# in the drawing, beside the title block's
    # DWG. NO.) does not stretch the block; one whose value fits no field (KiCad's ``Sheet: /``) is still its label.
    filled_here = {hit.field_name for hit in used}
    lost = [h for h in hits_per_page[best_page] if h.field_name in filled_here and h not in used]
    area = union(run.bbox for hit in hits_per_page[best_page] if hit not in lost for run in hit.runs)
    custom = {h.label: h.value for h in hits_per_page[best_page] if h.field_name == _CUSTOM}
    custom.update(_unknown_labels_in_area(page, area, hits_per_page[best_page], data_tables))
    fields.update(_fields_without_labels(page, area, fields, custom, known[best_page]))
    if "revision" not in fields:
        tables = sorted(data_tables, key=lambda t: t.page != best_page)
        revision = next((found for table in tables if (found := latest_revision(table.rows))), None)
        if revision is not None:
            fields["revision"] = revision
    day_first = any(h.label not in ENGLISH_LABELS for h in known[best_page])
    custom.update(date_custom_fields(fields.get("date"), day_first=day_first))
    return TitleBlock(**fields, custom_fields=custom), best_page, (best_page, area)


_SHARED_LABELS = 2


def _same_template(hits: list[_Hit], best: list[_Hit]) -> bool:
    """Another sheet of the set fills the fields its title block leaves empty only if it has the same title block
    (two labels in common): a form or a vendor's datasheet bound into the PDF has its own ``Description:``."""
    return len({h.label for h in hits} & {h.label for h in best}) >= _SHARED_LABELS


def _rank(page: Page, hit: _Hit) -> tuple[bool, int, float]:
    """Best first: a value of its own before a reference to one (``MATERIAL: SEE NOTES`` gives way to the notes'
    ``MATERIAL: ALUMINIUM``), then labelled cells before inline ``LABEL value``, then nearer the title corner."""
    return refers_elsewhere(hit.value), -hit.strength, -_corner_score(page, hit.runs[0])


def _fields_without_labels(
    page: Page, area: BBox, fields: dict[str, str], custom: dict[str, str], hits: list[_Hit]
) -> dict[str, str]:
    """Fields a labelled title block leaves unlabelled (``title_unlabelled``): the sheet as ``Id: 1/7``, the date in
    the author's row (``DRAWN | J. DOE | 12/03/24`` without a DATE column label), the firm's name, the title."""
    found: dict[str, str] = {}
    reach = reach_of(page, area)
    if "sheet" not in fields:
        sheet = sheet_in_area(page, reach)
        if sheet is not None:
            found["sheet"] = tidy("sheet", sheet)
    if "date" not in fields:
        author = next((h.runs[-1] for h in hits if h.field_name == "author" and len(h.runs) > 1), None)
        date = date_beside(page, author) if author is not None else None
        if date is not None:
            found["date"] = date
    taken = {*fields.values(), *found.values(), *custom.values()}
    if "company" not in fields:
        company = company_in_area(page, reach, lambda r: r.text.strip() in taken or _has_label(r))
        if company is not None:
            found["company"] = company
            taken.add(company)
    if "title" not in fields:
        title = title_in_area(page, reach, lambda r: r.text.strip() in taken or _has_label(r))
        if title is not None:
            found["title"] = title
    missing = {"company", "title"} - fields.keys() - found.keys()
    if missing:
        strip = dict(zip(("company", "title"), turned_strip_names(page, area, _has_label), strict=True))
        found.update({name: value for name, value in strip.items() if name in missing and value is not None})
    return found


def _has_label(run: Run) -> bool:
    return _is_labelled(run) or _inline_label(run.text.strip()) is not None


def _corner_score(page: Page, run: Run) -> float:
    """Closer to the bottom-right corner (where title blocks live) scores higher."""
    return run.center_x / page.width + run.center_y / page.height


def _in_bottom_right(page: Page, run: Run) -> bool:
    return run.center_x > page.width / 2 and run.center_y > page.height / 2


def _candidate_runs(page: Page, data_tables: list[FoundTable]) -> list[Run]:
    """Runs outside data tables (a BOM's PART NO or a revision table's DATE are not title labels)."""
    boxes = [t.bbox for t in data_tables if t.page == page.number]
    return [run for run in page.runs if not any(inside(run, box) for box in boxes)]


def _title_hits(page: Page, data_tables: list[FoundTable]) -> list[_Hit]:
    runs = _candidate_runs(page, data_tables)
    hits = []
    for run in runs:
        label = _label_of(_without_repeat(run.text))
        if label is not None:
            value_run = (revision_column(run, runs) if label[0] == "revision" else None) or _value_of(page, run, runs)
            if value_run is not None:
                hits.append(_Hit(label[0], _custom_key(label[1]), value_run.text, _STRONG, (run, value_run)))
            continue
        fields = _split_fields(_spaced(run))
        if fields is not None:
            hits.extend(_field_hits(page, run, fields))
            continue
        hit = _inline_hit(page, run)
        if hit is not None:
            hits.append(hit)
    return hits


def _spaced(run: Run) -> str:
    return run.spaced or run.text


def _field_hits(page: Page, run: Run, fields: tuple[TitleField, ...]) -> list[_Hit]:
    """The fields of a multi-label run, as ``_inline_hit`` takes one: ``LABEL value`` only in the bottom-right.

    Unknown labels count only beside a known one (otherwise the run is left to ``_unknown_labels_in_area``).
    """
    if not any(f.known for f in fields):
        return []
    hits = []
    for f in fields:
        if f.colon:
            hits.append(_Hit(f.field, f.label, f.value, _STRONG, (run,)))
        elif _in_bottom_right(page, run):
            hits.append(_Hit(f.field, f.label, f.value, _WEAK, (run,)))
    return hits


def _inline_hit(page: Page, run: Run) -> _Hit | None:
    """``LABEL: value`` anywhere (a numbered note's too: ``1. MATERIAL: ALUMINIUM``); ``LABEL value`` only in the
    bottom-right quarter and only without a colon label."""
    text = _NOTE_NUMBER.sub("", run.text.strip())
    if not _ANY_LABEL_START.match(text):
        return None
    for field_name, alias, _, with_colon, _ in _LABELS:
        match = with_colon.fullmatch(text)
        if match is not None:
            if _label_of(match["value"]) is not None:  # "DRAWN BY: CHECKED": the next cell's label, read in one line
                return None
            return _Hit(field_name, _custom_key(alias), match["value"].strip(), _STRONG, (run,))
    if _UNKNOWN_COLON_LABEL.fullmatch(text) or not _in_bottom_right(page, run):
        return None
    for field_name, alias, _, _, with_space in _LABELS:
        match = with_space.fullmatch(text)
        if (
            match is not None
            and _label_of(match["value"]) is None
            and _short(match["value"])
            and not match["value"].endswith(":")
        ):
            return _Hit(field_name, _custom_key(alias), match["value"].strip(), _WEAK, (run,))
    return None


_MAX_WEAK_VALUE_WORDS = 5
_NOTE_NUMBER = re.compile(r"^(?:\d{1,2}\s*[.)]|[-•*])\s+(?=\S)")


def _short(value: str) -> bool:
    """A value without a colon is a few words: a sentence starting with a label word ("Sheet metal parts are ...")
    is prose; and a label repeated ("Sheet Sheet") is a label, checked before this."""
    return len(value.split()) <= _MAX_WEAK_VALUE_WORDS


def _custom_key(label: str) -> str:
    return " ".join(label.upper().rstrip(":").split())


def _is_labelled(run: Run) -> bool:
    """A label on its own or ``LABEL: value``: not the value of a neighbouring label."""
    text = run.text.strip()
    return (
        text.endswith(":")
        or _label_of(text) is not None
        or _UNKNOWN_COLON_LABEL.fullmatch(text) is not None
        or _split_fields(_spaced(run)) is not None
    )


def _value_of(page: Page, label: Run, runs: list[Run]) -> Run | None:
    """In ruled cells, the value in the label's cell or the paired cell (``title_cells``); otherwise by distance."""
    in_cells = value_in_cells(page, label, runs, lambda r: _may_be_value_of(label, r), _has_label)
    if in_cells is not None or cell_of(page.rules, label.center_x, label.center_y) is not None:
        return in_cells
    return _value_below(page, label, runs) or _value_right(label, runs)


def _may_be_value_of(label: Run, run: Run) -> bool:
    """Not a label itself, not ``LABEL value`` of another field, not in a smaller font than the label (sizes OCR
    estimated compared with a margin)."""
    if _is_labelled(run) or _inline_label(run.text.strip()) is not None or not _same_direction(label, run):
        return False
    if label.font_size is None or run.font_size is None:
        return True
    estimated = label.source is not None or run.source is not None
    return run.font_size >= (_NOT_SMALLER_READ if estimated else _NOT_SMALLER) * label.font_size


def _inline_label(text: str) -> tuple[str, str] | None:
    """(field, alias) of a known label that starts ``text`` and is followed by a value."""
    if not _ANY_LABEL_START.match(text):
        return None
    for field_name, alias, _, with_colon, with_space in _LABELS:
        if with_colon.fullmatch(text) or with_space.fullmatch(text):
            return field_name, alias
    return None


_REPEATED = re.compile(r"(?i)(?P<text>\S.*?)\s+(?P=text)\s*:?")


def _without_repeat(text: str) -> str:
    """A label printed twice in one run (``Sheet Sheet``, a label beside its own placeholder) is that label once."""
    match = _REPEATED.fullmatch(text.strip())
    return match["text"] if match is not None else text


def _same_direction(label: Run, value: Run) -> bool:
    """A label and its value read the same way (a vertical note beside a label is not its value)."""
    return round((label.rotation or 0) / 90) % 4 == round((value.rotation or 0) / 90) % 4


def _value_below(page: Page, label: Run, runs: list[Run]) -> Run | None:
    """The nearest run just under the label, starting within its width, with no rule in between."""
    candidates = [
        r
        for r in runs
        if r is not label
        and r.top >= label.bottom - 1
        and r.top - label.bottom <= 2 * max(label.height, r.height)
        and label.x0 - 3 * label.height <= r.x0 <= label.x1
        and _same_direction(label, r)
        and not _is_labelled(r)
        and not page.rules.horizontal_between(label.bottom - 0.5, r.top + 0.5, r.x0, r.x1)
    ]
    return min(candidates, key=lambda r: r.top - label.bottom, default=None)


def _value_right(label: Run, runs: list[Run]) -> Run | None:
    """The nearest run on the same line to the right (label cell | value cell)."""
    candidates = [
        r
        for r in runs
        if r is not label
        and abs(r.center_y - label.center_y) <= label.height / 2
        and 0 <= r.x0 - label.x1 <= 15 * label.height
        and _same_direction(label, r)
        and not _is_labelled(r)
    ]
    return min(candidates, key=lambda r: r.x0 - label.x1, default=None)


def _unknown_labels_in_area(page: Page, area: BBox, hits: list[_Hit], data_tables: list[FoundTable]) -> dict[str, str]:
    """Labels we do not know, inside the title block: ``LABEL: value`` or a small label over a larger value."""
    used = {id(run) for hit in hits for run in hit.runs}
    runs = [r for r in _candidate_runs(page, data_tables) if inside(r, area, margin=2.0)]
    custom = {}
    for run in runs:
        if id(run) in used:
            continue
        fields = _split_fields(_spaced(run))
        if fields is not None:
            custom.update((f.label, f.value) for f in fields if f.field == _CUSTOM)
            continue
        colon = _UNKNOWN_COLON_LABEL.fullmatch(run.text.strip())
        if colon is not None:
            custom[_custom_key(colon["label"])] = colon["value"].strip()
            continue
        if not _may_be_small_label(run):
            continue
        value = value_in_cells(page, run, runs, functools.partial(_may_be_value_of, run)) or _value_below(
            page, run, runs
        )
        if value is not None and id(value) not in used and _smaller_than(run, value) and value.text[-1] not in ",;":
            custom[_custom_key(run.text)] = value.text
            used.add(id(value))
    return custom


def _may_be_small_label(run: Run) -> bool:
    """Capitals, up to four words, not the end of a sentence; and set in a font (OCR only estimates sizes)."""
    text = run.text.strip()
    return (
        run.source is None
        and _LABEL_LIKE.fullmatch(text) is not None
        and len(text.split()) <= 4
        and not text.endswith((".", ","))
    )


def _smaller_than(label: Run, value: Run) -> bool:
    """Title blocks print labels in a smaller font than the values they name."""
    if label.font_size is None or value.font_size is None:
        return False
    return value.font_size >= _LABEL_SIZE_RATIO * label.font_size


def is_title_block_table(table: FoundTable) -> bool:
    """A ruled grid of title block fields: >= 2 cells holding a label *and* its value ("TITLE MOUNTING BRACKET"),
    label cells with their value cell to the right in >= 2 rows, or rows of labels over rows of values twice.

    A header row of labels over data rows (a revision table's REV | DESCRIPTION | DATE) is a data table.
    """
    if is_bom_header(table.rows[0]):
        return False
    labelled = sum(1 for row in table.rows for cell in row if _is_label_and_value(cell))
    rows_with_value_right = {i for i, row in enumerate(table.rows) if any(_pairs_right(row))}
    label_rows_over_values = {
        i for i, (row, below) in enumerate(itertools.pairwise(table.rows)) if _label_row_over_values(row, below)
    }
    return labelled >= 2 or len(rows_with_value_right) >= 2 or len(label_rows_over_values) >= 2


def _is_label_cell(cell: str) -> bool:
    return bool(cell) and _label_of(cell) is not None


def _pairs_right(row: list[str]) -> list[bool]:
    return [_is_label_cell(a) and bool(b) and not _is_label_cell(b) for a, b in itertools.pairwise(row)]


def _label_row_over_values(row: list[str], below: list[str]) -> bool:
    pairs = [(a, b) for a, b in zip(row, below, strict=False) if a]
    return bool(pairs) and all(_is_label_cell(a) and b and not _is_label_cell(b) for a, b in pairs)


def _is_label_and_value(cell: str) -> bool:
    words = cell.replace(":", " ").split()
    return any(_label_of(" ".join(words[:n])) for n in range(1, min(len(words) - 1, 3) + 1))
