"""Title block dates as printed (``03/09/2015``, ``1.15.08``, ``4-30-13``, ``2015-09-03``) and as ISO dates.

A date is kept as printed; its ISO form is given only when the reading is unambiguous: year first, a day over 12
(``30/10/2015``, ``1.15.08``), or, for a day and month both up to 12, a title block labelled in a language whose
templates write the day first (``day_first``). Two-digit years are 19xx from 70 up, else 20xx.
"""

from __future__ import annotations

import datetime
import re

_ISO = re.compile(r"(?P<y>\d{4})[-./](?P<m>\d{1,2})[-./](?P<d>\d{1,2})")
# OCR of a scan may read one separator twice (``4-30--13``): the drawing prints one, and the date keeps one.
_NUMERIC = re.compile(r"(?P<a>\d{1,2})(?P<sep>[-./])(?P=sep)?(?P<b>\d{1,2})(?P=sep){1,2}(?P<y>\d{4}|\d{2})")
_DOUBLED_SEPARATOR = re.compile(r"(?<=\d)([-./])\1(?=\d)")
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("JAN", "JANUARY", "ENE", "GEN", "JANV", "JANVIER", "JÄN", "JANUAR", "ENERO", "GENER", "GENNAIO"),
            ("FEB", "FEBRUARY", "FEBR", "FÉVR", "FÉVRIER", "FEBRUAR", "FEBRERO", "FEBRER", "FEBBRAIO"),
            ("MAR", "MARCH", "MÄR", "MÄRZ", "MARS", "MARZO", "MARÇ"),
            ("APR", "APRIL", "ABR", "ABRIL", "AVR", "AVRIL", "APRILE"),
            ("MAY", "MAI", "MAYO", "MAIG", "MAGGIO", "MAG"),
            ("JUN", "JUNE", "JUNI", "JUIN", "JUNIO", "JUNY", "GIUGNO", "GIU"),
            ("JUL", "JULY", "JULI", "JUIL", "JUILLET", "JULIO", "JULIOL", "LUGLIO", "LUG"),
            ("AUG", "AUGUST", "AGO", "AGOSTO", "AOÛT", "AGOST"),
            ("SEP", "SEPT", "SEPTEMBER", "SEPTIEMBRE", "SETEMBRE", "SETTEMBRE", "SET", "SEPTEMBRE"),
            ("OCT", "OCTOBER", "OKT", "OKTOBER", "OCTUBRE", "OCTOBRE", "OTTOBRE", "OTT"),
            ("NOV", "NOVEMBER", "NOVIEMBRE", "NOVEMBRE"),
            ("DEC", "DECEMBER", "DIC", "DEZ", "DEZEMBER", "DICIEMBRE", "DÉC", "DÉCEMBRE", "DESEMBRE", "DICEMBRE"),
        ),
        start=1,
    )
    for name in names
}
_WITH_MONTH_NAME = re.compile(
    r"(?:(?P<d1>\d{1,2})[\s.\-/]*(?P<m1>[^\W\d_]{3,10})\.?[\s.\-/,]*(?P<y1>\d{4}|\d{2}))"
    r"|(?:(?P<m2>[^\W\d_]{3,10})\.?\s*(?P<d2>\d{1,2}),?\s+(?P<y2>\d{4}))"
)
_CJK = re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日?")


def find_date(text: str) -> str | None:
    """The first date printed in ``text`` (as printed), or None."""
    for pattern in (_ISO, _CJK, _NUMERIC, _WITH_MONTH_NAME):
        for match in pattern.finditer(text):
            if pattern is _NUMERIC:
                return single_separators(match.group(0))
            if pattern is not _WITH_MONTH_NAME or _month_of(match["m1"] or match["m2"]):
                return match.group(0)
    return None


def single_separators(text: str) -> str:
    """``text`` with a separator OCR read twice between digits read once (``4-30--13`` is ``4-30-13``)."""
    return _DOUBLED_SEPARATOR.sub(r"\1", text)


def iso_date(printed: str, *, day_first: bool) -> str | None:
    """The ISO form of a printed date when its reading is unambiguous (see the module docstring), else None."""
    text = printed.strip()
    if (match := _ISO.fullmatch(text) or _CJK.fullmatch(text)) is not None:
        return _iso(int(match["y"]), int(match["m"]), int(match["d"]))
    if (match := _NUMERIC.fullmatch(text)) is not None:
        a, b, year = int(match["a"]), int(match["b"]), _year(match["y"])
        if a > 12 >= b:
            return _iso(year, b, a)
        if b > 12 >= a:
            return _iso(year, a, b)
        if a == b or day_first:
            return _iso(year, b, a)
        return None
    if (match := _WITH_MONTH_NAME.fullmatch(text)) is not None:
        month = _month_of(match["m1"] or match["m2"])
        day = match["d1"] or match["d2"]
        year = match["y1"] or match["y2"]
        if month is not None:
            return _iso(_year(year), month, int(day))
    return None


def _month_of(name: str) -> int | None:
    return _MONTHS.get(name.upper().rstrip("."))


def _year(digits: str) -> int:
    year = int(digits)
    if len(digits) == 4:
        return year
    return 1900 + year if year >= 70 else 2000 + year


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        return None
