"""Table headers (detected or ``col_n``) and the bill of materials gathered from tables with BOM headers.

Header words are matched in a normal form (capitals, accents dropped, ``Nº``/``N°``/``#``/``Nr.`` -> ``NO``,
CJK without spaces), in the languages drawings are made in: English, Catalan, Spanish, German, French, Italian,
Czech, Chinese and Japanese. A header cell holding two words split by ``/`` (``Unitats/kit``,
``N/referencia``) is matched by either word.
"""

from __future__ import annotations

import re
import unicodedata

from extraction_pipeline.extractors.pdf.model import FoundTable
from extraction_pipeline.extractors.schema import Bom, Table

_BOM_QUANTITY = {
    "QTY", "QUANTITY", "QTY REQD", "QTY REQ", "QUAN", "PCS", "NO OFF", "NO REQD", "AMOUNT", "COUNT", "UNITS",
    "QUANTITAT", "UNITATS", "CANTIDAD", "CANT", "UNIDADES", "UDS", "MENGE", "ANZAHL", "STK", "STUCK", "STUCKZAHL",
    "QUANTITE", "QTE", "QUANTITA", "QTA", "PEZZI", "MNOZSTVI", "POCET", "POCET KUSU", "KS",
    "数量", "件数", "个数", "個数", "数",
}  # fmt: skip
_BOM_IDENTITY = {
    "ITEM", "ITEM NO", "POS", "POSITION", "FIND NO", "PART", "PART NO", "PART NUMBER", "PN", "P/N", "STOCK NO",
    "DRAWING NO", "DWG NO", "DESCRIPTION", "DESC", "NAME", "PART NAME", "DESIGNATION", "TITLE", "ELEMENT", "REF",
    "REFERENCE", "CODE",
    "REFERENCIA", "DESCRIPCIO", "PECA", "ELEMENTO", "DESCRIPCION", "DENOMINACION", "PIEZA", "CODIGO", "NOMBRE",
    "POSICION", "BENENNUNG", "BEZEICHNUNG", "BESCHREIBUNG", "TEIL", "TEILENUMMER", "TEILE NO", "SACHNUMMER", "SACH NO",
    "ARTIKEL", "ARTIKELNUMMER", "ARTIKEL NO", "ZEICHNUNGSNUMMER", "ZEICHNUNGS NO", "REPERE", "REP", "NOM",
    "PIECE", "DESCRIZIONE", "DENOMINAZIONE", "CODICE", "PARTICOLARE", "POSIZIONE", "NOME",
    "POPIS", "NAZEV", "OZNACENI", "POLOZKA", "POZICE", "CISLO", "CISLO VYKRESU",
    "名称", "品名", "部品名", "零件名称", "序号", "代号", "图号", "零件号", "品番", "部品番号", "番号", "型号",
    "规格", "图样代号", "件号",
}  # fmt: skip
_HEADER_WORDS = {
    *_BOM_QUANTITY, *_BOM_IDENTITY,
    "NO", "QTY REQD", "MATERIAL", "MATL", "MASS", "WEIGHT", "UNIT", "UOM", "REMARKS", "NOTES", "NOTE", "REV",
    "REVISION", "DATE", "BY", "APPROVED", "ECO", "ZONE", "HOLE", "HOLE NO", "X", "Y", "Z", "SIZE", "DIA", "DEPTH",
    "TAG", "TYPE", "VENDOR", "SUPPLIER", "MANUFACTURER", "LENGTH", "WIDTH", "HEIGHT", "FINISH", "THREAD", "SPEC",
    "STANDARD", "LINE", "BEARING", "DISTANCE", "CURVE", "RADIUS", "ARC", "CHORD", "DELTA",
    "PES", "PESO", "PROVEIDOR", "PROVEEDOR", "FABRICANT", "FABRICANTE", "OBSERVACIONS",
    "OBSERVACIONES", "NORMA", "DIMENSIONS", "DIMENSIONES", "MIDES", "MEDIDAS", "WERKSTOFF", "GEWICHT", "NORM",
    "BEMERKUNG", "BEMERKUNGEN", "LIEFERANT", "HERSTELLER", "MATIERE", "MATERIAU", "POIDS", "MASSE", "NORME",
    "REMARQUE", "REMARQUES", "OBSERVATIONS", "FOURNISSEUR", "MATERIALE", "FORNITORE", "HMOTNOST",
    "POZNAMKA", "DODAVATEL", "JEDNOTKA", "材料", "材质", "重量", "单重", "总重", "备注", "标准", "供应商",
    "単位", "材質", "備考", "規格",
}  # fmt: skip
_DIGIT = re.compile(r"\d")
_CJK_SPACE = re.compile(r"(?<=[\u3000-\u9fff])\s+(?=[\u3000-\u9fff])")


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("º", "o").replace("°", "o"))
    text = "".join(c for c in text if not unicodedata.combining(c)).upper()
    text = text.replace(".", " ").replace("'", "").replace("#", " NO ").replace(":", " ")
    text = re.sub(r"\b(?:NUMBER|NUMERO|NUMMER|NUM|NBR|NR|NO)\b", "NO", text)
    return _CJK_SPACE.sub("", " ".join(text.split()))


def _header_keys(text: str) -> set[str]:
    """The cell's key, and the keys of its parts when it is two words split by ``/`` (not ``P/N``)."""
    key = _header_key(text)
    if key in _HEADER_WORDS or "/" not in key:
        return {key}
    return {key, *(part.strip() for part in key.split("/") if part.strip())}


def _is_header_word(cell: str) -> bool:
    return bool(_header_keys(cell) & _HEADER_WORDS)


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
    return sum(1 for cell in row if _is_header_word(cell))


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


def _title_row(found: FoundTable) -> str | None:
    """A first row with one cell of text over a header row: the table's caption (``LINE TABLE``, ``PARTS LIST``)."""
    rows = found.rows
    if len(rows) < 3 or len(rows[0]) < 2:
        return None
    written = [cell for cell in rows[0] if cell]
    if len(written) != 1 or not _looks_like_header(rows[1:], 0, {i - 1 for i in found.bold_rows if i}):
        return None
    return written[0]


def to_table(found: FoundTable) -> Table:
    columns = len(found.rows[0])
    title = found.title
    caption = _title_row(found)
    if caption is not None:
        title = f"{title} {caption}" if title else caption
        found = FoundTable(found.page, found.bbox, found.rows[1:], {i - 1 for i in found.bold_rows if i}, title)
    index = _header_index(found)
    if index is None:
        headers = [f"col_{i}" for i in range(1, columns + 1)]
        rows = found.rows
    else:
        headers = found.rows[index]
        headers = [h or f"col_{i}" for i, h in enumerate(headers, start=1)]
        rows = [row for i, row in enumerate(found.rows) if i != index]
    return Table(
        headers=headers,
        rows=rows,
        page=found.page,
        bbox=found.bbox,
        num_rows=len(rows),
        num_columns=columns,
        title=title,
    )


def _headerless(table: Table) -> bool:
    return all(h == f"col_{i}" for i, h in enumerate(table.headers, start=1))


def carry_headers_over_pages(tables: list[Table]) -> list[Table]:
    """A list that runs on over pages repeats no header: a header-less table at the top of a page (the highest
    there) is the continuation of the lowest table of the page before when that one has a header row and as many
    columns; it gets those headers."""
    carried = list(tables)
    for index, table in enumerate(carried):
        if not _headerless(table) or table.page is None or table.bbox is None:
            continue
        if min(_tops(carried, table.page)) < table.bbox[1]:
            continue
        before = [t for t in carried if t.page == table.page - 1 and t.bbox is not None]
        if not before:
            continue
        previous = max(before, key=lambda t: t.bbox[3] if t.bbox else 0.0)
        if not _headerless(previous) and previous.num_columns == table.num_columns:
            carried[index] = table.model_copy(update={"headers": list(previous.headers)})
    return carried


def _tops(tables: list[Table], page: int) -> list[float]:
    return [t.bbox[1] for t in tables if t.page == page and t.bbox is not None]


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
    """A quantity column and, in another column, an item number, part number, name or description."""
    keys = [_header_keys(h) for h in headers if h]
    quantity = {i for i, k in enumerate(keys) if k & _BOM_QUANTITY}
    identity = {i for i, k in enumerate(keys) if k & _BOM_IDENTITY}
    return any(q != i for q in quantity for i in identity)


_LABEL_COLON_VALUE = re.compile(r"[^\W\d_][^\d:]{0,30}:\s*\S")
_FORM_MIN_COLUMNS = 4
_FORM_MAX_FILL = 1 / 3


def is_form_grid(found: FoundTable) -> bool:
    """A ruled grid that is a form (a title block, a notes box), not a table, whatever its language: its rows do
    not share columns (cells merged across the grid's lines, one field each) and its cells are ``Label: value``
    pairs, or no row fills half of its columns, or, without a header row, not a third of its cells hold text (a
    title block's label cells whose values are left blank). A grid headed by BOM column names is a table."""
    rows = found.rows
    if any(is_bom_header(row) for row in rows[:2]):
        return False
    written = [cell for row in rows for cell in row if cell]
    columns = len(rows[0])
    label_values = sum(1 for cell in written if _LABEL_COLON_VALUE.match(cell))
    mostly_full = sum(1 for row in rows if sum(1 for cell in row if cell) * 3 >= 2 * columns)
    if label_values >= 2 and label_values * 3 >= len(written) and mostly_full * 2 < len(rows):
        return True  # a regular grid of "Label: value" cells (site data, specifications) stays a table
    if columns < _FORM_MIN_COLUMNS:
        return False
    half_filled = sum(1 for row in rows if sum(1 for cell in row if cell) * 2 >= columns)
    sparse = len(written) < _FORM_MAX_FILL * columns * len(rows) and _header_index(found) is None
    return half_filled == 0 or sparse


_LIST_MIN_ROWS = 8
_LIST_MIN_COLUMNS = 3
_LIST_FULL_ROWS_SHARE = 0.8


def is_item_list(found: FoundTable) -> bool:
    """Many rows that fill the same columns (>= 8 rows, 4 in 5 with 2/3 of >= 3 columns written): a list of
    items (a BOM page, a hole table), whatever words its cells begin with; title blocks are a few rows of fields."""
    rows, columns = found.rows, len(found.rows[0])
    if len(rows) < _LIST_MIN_ROWS or columns < _LIST_MIN_COLUMNS:
        return False
    full = sum(1 for row in rows if sum(1 for cell in row if cell) * 3 >= 2 * columns)
    return full >= _LIST_FULL_ROWS_SHARE * len(rows)
