"""What a title block field's value looks like, so a field never takes a neighbouring cell's value.

A scale is a ratio (``2:1``, ``1/4" = 1'-0"``, ``2.5X``, ``NTS``), a date holds a date, a revision is a short code,
a sheet holds a number, an author is no date: a candidate that does not look so belongs to another field (the
drawing number beside SCALE, a tolerance note beside REV) and is passed over for the next candidate.

Shared by the PDF and DXF extractors.
"""

from __future__ import annotations

import re

from extraction_pipeline.extractors.title_dates import find_date, iso_date, single_separators

DATE_ISO_KEY = "DATE ISO"
"""The custom field holding the ISO form of the printed date, when unambiguous."""

_PLACEHOLDER = re.compile(r"[\s\-–—_.*/]*")
_SCALE = re.compile(
    r"(?ix)\d\s*[:=]\s*\d | \d(?:\s*/\s*\d+)?\s*[\"”″']? \s* = | \d\s*[x×]\b | \b[x×]\s*\d"
    r" | \bN\.?\s*T\.?\s*S\b | \bNONE\b | \bAS\s+(?:SHOWN|NOTED|INDICATED)\b | \bVARIES\b | \bFULL(?:\s+SIZE)?\b"
    r" | \d\s*% | \bSIN\s+ESCALA\b | \bOHNE\b"
)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_MAX_REVISION_CHARS = 12
_MAX_REVISION_WORDS = 2
_SHEET_PAIR = re.compile(r"(?P<n>\d+)\s+(?P<m>\d+)")
_REFERENCE = re.compile(
    r"(?ix)^\W*(?:SEE|REFER\s+TO|PER|AS\s+PER|VER|VEURE|V\.|SIEHE|S\.|VOIR|VEDI|VIZ|见|見|参见|参照)\s*"
    r"(?:THE\s+|LAS?\s+|LES\s+|DIE\s+)?"
    r"(?:NOTES?|NOTAS?|ANM(?:ERKUNG(?:EN)?)?\.?|HINWEISE?|BEMERKUNG(?:EN)?|POZN[AÁ]MK[AYU]|OBSERVACION(?:E|)S|"
    r"BOM|PARTS?\s+LIST|SPEC(?:IFICATION)?S?|TABLE|TABLA|TAULA|TABELLE|TABLEAU|TABELLA|TABULKA|ST[ÜU]CKLISTE|"
    r"LISTA\s+DE\s+PIEZAS|NOMENCLATURE|DRAWING|DWG|说明|技术要求|注記|注)\b.*$"
)


def is_placeholder(value: str) -> bool:
    """``-``, ``—``, ``___``: a cell left empty on purpose."""
    return _PLACEHOLDER.fullmatch(value) is not None


def refers_elsewhere(value: str) -> bool:
    """``SEE NOTES``, ``PER BOM``, ``VER NOTAS``, ``SIEHE STÜCKLISTE``: a cell naming where its value is written.

    The field's own value is then printed elsewhere on the sheet, usually as ``MATERIAL: ...`` in the notes; such
    a value is preferred, and the reference is kept only when nothing else names the field."""
    return _REFERENCE.match(value.strip()) is not None


def fits(field: str, value: str) -> bool:
    """Whether ``value`` can be the value of ``field`` (see the module docstring)."""
    if is_placeholder(value):
        return False
    if field == "scale":
        return _SCALE.search(value) is not None
    if field == "date":
        return find_date(value) is not None or _YEAR.search(value) is not None
    if field == "revision":
        return len(value) <= _MAX_REVISION_CHARS and len(value.split()) <= _MAX_REVISION_WORDS and "±" not in value
    if field == "sheet":
        return any(ch.isdigit() for ch in value)
    if field in {"author", "title", "company"}:
        return find_date(value) is None and any(ch.isalpha() for ch in value)
    return True


def tidy(field: str, value: str) -> str:
    """The value as a field holds it: a sheet printed ``1`` ``2`` (its slash drawn as a line) is ``1/2``."""
    value = " ".join(value.split())
    if field == "sheet" and (pair := _SHEET_PAIR.fullmatch(value)) is not None:
        return f"{pair['n']}/{pair['m']}"
    if field == "date":
        return single_separators(value)
    return value


def date_custom_fields(date: str | None, *, day_first: bool) -> dict[str, str]:
    """``{DATE_ISO_KEY: iso}`` for a printed date read unambiguously and not printed so, else nothing."""
    if not date:
        return {}
    printed = find_date(date)
    iso = iso_date(printed, day_first=day_first) if printed else None
    return {DATE_ISO_KEY: iso} if iso and iso != printed else {}
