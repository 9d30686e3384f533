"""Table headers (detected or ``col_n``) and the bill of materials gathered from tables with BOM headers."""

from __future__ import annotations

import re

from extraction_pipeline.extractors.pdf.model import FoundTable
from extraction_pipeline.extractors.schema import Bom, Table

_HEADER_WORDS = {
    "ITEM", "ITEM NO", "POS", "POSITION", "FIND NO", "NO", "PART", "PART NO", "PART NUMBER", "PN", "P/N",
    "DESCRIPTION", "DESC", "NAME", "TITLE", "QTY", "QUANTITY", "QTY REQD", "PCS", "MATERIAL", "MATL", "MASS",
    "WEIGHT", "UNIT", "UOM", "REMARKS", "NOTES", "NOTE", "REV", "REVISION", "DATE", "BY", "APPROVED", "ECO",
    "ZONE", "HOLE", "HOLE NO", "X", "Y", "Z", "SIZE", "DIA", "DEPTH", "TAG", "TYPE", "VENDOR", "SUPPLIER",
    "STOCK NO", "DRAWING NO", "DWG NO", "LENGTH", "WIDTH", "HEIGHT", "FINISH", "THREAD", "SPEC",
}  # fmt: skip
_BOM_QUANTITY = {"QTY", "QUANTITY", "QTY REQD", "QTY REQ", "QUAN", "PCS", "NO OFF", "NO REQD", "AMOUNT", "COUNT"}
_BOM_IDENTITY = {
    "ITEM", "ITEM NO", "POS", "POSITION", "FIND NO", "PART", "PART NO", "PART NUMBER", "PN", "P/N", "STOCK NO",
    "DRAWING NO", "DWG NO", "DESCRIPTION", "DESC", "NAME", "PART NAME", "DESIGNATION", "TITLE",
}  # fmt: skip
_DIGIT = re.compile(r"\d")


def _header_key(text: str) -> str:
    text = text.upper().replace(".", " ").replace("'", "").replace("#", " NO ").replace(":", " ")
    text = re.sub(r"\b(?:NUMBER|NBR|NR)\b", "NO", text)
    return " ".join(text.split())


def _header_index(table: FoundTable) -> int | None:
    """Row 0 (or, with known header words only, the last row as in bottom-up parts lists), else None."""
    rows = table.rows
    if len(rows) < 2:
        return None
    if _looks_like_header(rows, 0, table.bold_rows):
        return 0
    last = len(rows) - 1
    if _header_words_in(rows[last]) and _looks_like_header(rows, last, set()):
        return last
    return None


def _header_words_in(row: list[str]) -> int:
    return sum(1 for cell in row if _header_key(cell) in _HEADER_WORDS)


def _looks_like_header(rows: list[list[str]], index: int, bold_rows: set[int]) -> bool:
    row = rows[index]
    cells = [c for c in row if c]
    if len(cells) < max(2, len(row) // 2) or len(set(cells)) != len(cells) or any(_DIGIT.search(c) for c in cells):
        return False
    body = [r for i, r in enumerate(rows) if i != index]
    bold_over_regular = index in bold_rows and not all(i in bold_rows for i in range(len(rows)))
    return bold_over_regular or _header_words_in(row) > 0 or _numeric_column_below(row, body)


def _numeric_column_below(header: list[str], body: list[list[str]]) -> bool:
    """Some column has a word on top and only numbers below it."""
    for column, name in enumerate(header):
        values = [r[column] for r in body if column < len(r) and r[column]]
        if name and values and all(_DIGIT.search(v) for v in values):
            return True
    return False


def to_table(found: FoundTable) -> Table:
    index = _header_index(found)
    columns = len(found.rows[0])
    if index is None:
        headers = [f"col_{i}" for i in range(1, columns + 1)]
        rows = found.rows
    else:
        headers = found.rows[index]
        headers = [h or f"col_{i}" for i, h in enumerate(headers, start=1)]
        rows = [row for i, row in enumerate(found.rows) if i != index]
    return Table(headers=headers, rows=rows, page=found.page, bbox=found.bbox, num_rows=len(rows), num_columns=columns)


def find_bom(tables: list[Table]) -> Bom | None:
    boms = [t for t in tables if is_bom_header(t.headers)]
    if not boms:
        return None
    headers = boms[0].headers
    items = [
        dict(zip(headers, row, strict=True))
        for table in boms
        if table.headers == headers
        for row in table.rows
        if any(row) and row != headers
    ]
    return Bom(headers=headers, items=items, total_items=len(items))


def is_bom_header(headers: list[str]) -> bool:
    keys = {_header_key(h) for h in headers}
    return bool(keys & _BOM_QUANTITY) and bool(keys & _BOM_IDENTITY)
