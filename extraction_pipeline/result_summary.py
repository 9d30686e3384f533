"""A stored result (the ``ExtractionResult`` JSON) as a person reads it: `jobs show`, and the materialization's
dimension table in the Dagster UI.

Pure functions over the result dict as stored in ``extraction_jobs.result``: they never fail on a result of an
older schema version or a partial one — a missing section is simply not shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# ``jobs show`` lists this many dimensions, text lines and table rows; ``--json`` prints everything.
SHOWN_DIMENSIONS = 40
SHOWN_WARNINGS = 20
# The materialization's dimension table: the UI renders every row, so it is capped (the count says how many).
TABLE_DIMENSIONS = 200

_TYPE_SIGNS = {"diameter": "Ø", "radius": "R"}
_TITLE_FIELDS = ("drawing_number", "title", "revision", "date", "author", "company", "scale", "sheet", "material",
                 "finish")  # fmt: skip


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:g}"


def tolerance_text(dimension: dict[str, Any]) -> str:
    """``±0.1``, ``+0.1/-0.05``, ``+0.2`` or '' (and the ISO fit, e.g. ``H7/g6``)."""
    plus, minus = dimension.get("tolerance_plus"), dimension.get("tolerance_minus")
    parts: list[str] = []
    if plus is not None and minus is not None and plus == minus:
        parts.append(f"±{_number(plus)}")
    else:
        if plus is not None:
            parts.append(f"+{_number(plus)}")
        if minus is not None:
            parts.append(f"-{_number(minus)}")
    text = "/".join(parts)
    fit = dimension.get("fit")
    return f"{text} {fit}".strip() if fit else text


def dimension_text(dimension: dict[str, Any]) -> str:
    """One dimension as it would be written on a drawing: ``Ø12 H7 mm``, ``25 ±0.1 mm``, ``45 deg``."""
    kind = str(dimension.get("dimension_type") or "linear")
    value = f"{_TYPE_SIGNS.get(kind, '')}{_number(dimension.get('value'))}"
    unit = dimension.get("unit") or ""
    return " ".join(part for part in (value, tolerance_text(dimension), unit) if part)


def _where(item: dict[str, Any]) -> str:
    if item.get("page") is not None:
        return f"page {item['page']}"
    if item.get("layer"):
        return f"layer {item['layer']}"
    return ""


def title_block_fields(result: dict[str, Any]) -> dict[str, str]:
    """The title block's filled fields, the standard ones first, then the drawing's own (custom) fields."""
    block = result.get("title_block") or {}
    fields = {name: str(block[name]) for name in _TITLE_FIELDS if block.get(name) not in (None, "")}
    fields.update({str(k): str(v) for k, v in (block.get("custom_fields") or {}).items() if v not in (None, "")})
    return fields


def dimension_rows(result: dict[str, Any], limit: int | None = None) -> list[dict[str, str]]:
    """One row per dimension: value (with sign and unit), tolerance, type, label, where it is."""
    dimensions = [d for d in result.get("dimensions") or [] if isinstance(d, dict)]
    return [
        {
            "value": dimension_text(d),
            "tolerance": tolerance_text(d) or "-",
            "type": str(d.get("dimension_type") or "linear"),
            "label": str(d.get("label") or ""),
            "where": _where(d),
        }
        for d in dimensions[:limit]
    ]


def _table_lines(result: dict[str, Any]) -> list[str]:
    lines = []
    for number, table in enumerate(t for t in result.get("tables") or [] if isinstance(t, dict)):
        rows, headers = table.get("rows") or [], table.get("headers") or []
        columns = max([len(headers), *(len(row) for row in rows)])
        where = _where(table) or (f"layout {table['layout']}" if table.get("layout") else "")
        title = f" {table['title']!r}" if table.get("title") else ""
        header_text = f"; headers: {', '.join(map(str, headers))}" if headers else ""
        lines.append(f"  table {number + 1}{title}: {len(rows)} rows × {columns} columns"
                     f"{f' ({where})' if where else ''}{header_text}")  # fmt: skip
    bom = result.get("bom")
    if isinstance(bom, dict):
        items = bom.get("items") or []
        lines.append(f"  BOM: {len(items)} items; columns: {', '.join(map(str, bom.get('headers') or []))}")
    return lines


def _ocr_lines(result: dict[str, Any]) -> list[str]:
    ocr = result.get("ocr")
    if not isinstance(ocr, dict):
        return []
    pages = ", ".join(str(p) for p in ocr.get("pages") or []) or "none"
    confidence = ocr.get("mean_confidence")
    engine, dpi = ocr.get("engine", "OCR"), _number(ocr.get("dpi"))
    line = f"  pages {pages} read by {engine} at {dpi} dpi, {ocr.get('lines', 0)} lines"
    if confidence is not None:
        line += f", mean confidence {confidence:.2f}"
    lines = [line]
    if ocr.get("pages_not_read"):
        lines.append(f"  pages not read: {', '.join(str(p) for p in ocr['pages_not_read'])}")
    incomplete = [str(p.get("page")) for p in ocr.get("page_details") or [] if not p.get("complete", True)]
    if incomplete:
        lines.append(f"  pages read only in part (time ran out): {', '.join(incomplete)}")
    return lines


def _quoted(label: str) -> str:
    return f"as written: {label!r}" if label else ""


def _more(shown: int, total: int, what: str) -> list[str]:
    return [f"  … and {total - shown} more {what} (--json shows all)"] if total > shown else []


def _section(title: str, lines: Iterable[str]) -> list[str]:
    body = list(lines)
    return [title, *body] if body else []


def _counts_line(result: dict[str, Any]) -> str:
    sections = ("text_blocks", "dimensions", "tables", "gdt", "threads", "surface_finishes", "layers", "blocks")
    counts = [f"{len(result[name])} {name.replace('_', ' ')}" for name in sections if result.get(name)]
    return ", ".join(counts) or "nothing extracted"


def summary_lines(result: dict[str, Any]) -> list[str]:
    """The result as text: what was found, the title block, dimensions with tolerances, tables and BOM,
    OCR pages and warnings. Long lists are cut with a line that says so."""
    source = result.get("source") or {}
    lines = [
        f"{result.get('format', '?')} result (schema {result.get('schema_version', '?')}, "
        f"extractor {result.get('extractor_version', '?')}) of {source.get('filename', '?')}: {_counts_line(result)}"
    ]
    if result.get("units"):
        lines.append(f"units: {result['units']}")
    fields = title_block_fields(result)
    width = max((len(name) for name in fields), default=0)
    lines += _section("title block:", (f"  {name:<{width}}  {value}" for name, value in fields.items()))
    rows = dimension_rows(result, SHOWN_DIMENSIONS)
    total = len(result.get("dimensions") or [])
    lines += _section(
        f"dimensions ({total}):",
        [*(f"  {r['value']:<24} {r['type']:<9} {r['where']:<18} {_quoted(r['label'])}".rstrip() for r in rows),
         *_more(len(rows), total, "dimensions")],
    )  # fmt: skip
    lines += _section("tables:", _table_lines(result))
    lines += _section("OCR:", _ocr_lines(result))
    warnings = [str(w) for w in result.get("warnings") or []]
    lines += _section(
        f"warnings ({len(warnings)}):",
        [*(f"  - {w}" for w in warnings[:SHOWN_WARNINGS]), *_more(SHOWN_WARNINGS, len(warnings), "warnings")],
    )
    return lines


def dimension_table_metadata(result: dict[str, Any]) -> dict[str, Any]:
    """Materialization metadata showing the dimension values as a table (empty when there are none):
    ``{"dimension_values": MetadataValue.table(...)}``, at most ``TABLE_DIMENSIONS`` rows."""
    from dagster import MetadataValue, TableColumn, TableRecord, TableSchema

    rows = dimension_rows(result, TABLE_DIMENSIONS)
    if not rows:
        return {}
    columns = [TableColumn(name, "string") for name in ("value", "tolerance", "type", "label", "where")]
    return {
        "dimension_values": MetadataValue.table(
            records=[TableRecord(row) for row in rows], schema=TableSchema(columns=columns)
        )
    }
