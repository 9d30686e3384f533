"""ACAD_TABLE entities → ``Table`` (the shape PDF tables have, with the layout instead of a page).

The cell texts are read by ezdxf (``read_acad_table_content``, both the R2004 cell layout with group code 1 and
the R2007+ one with CELL_VALUE/302); MTEXT formatting codes are removed. Row heights (group code 141), column
widths (142), the insertion point (10, the table's top-left corner) and the horizontal direction (11) give
its bbox. A table whose header row names a quantity and a part (in any of the languages the PDF reader knows,
``pdf/bom.py``) is a parts list: ``bom_of_tables``.

Rows: a first row holding a single text in its first cell over several columns is the title row (AutoCAD's
table styles merge it across the table); the next row is the header row; the rest are data rows. Tables of
the layouts are read; one inside a block definition is not (AutoCAD places tables in layouts).
"""

from __future__ import annotations

from ezdxf.entities.acad_table import read_acad_table_content
from ezdxf.entities.dxfentity import DXFTagStorage
from ezdxf.lldxf.const import DXFError
from ezdxf.math import Vec3
from ezdxf.tools.text import plain_mtext

from extraction_pipeline.extractors.dxf.layouts import Placed
from extraction_pipeline.extractors.dxf.units import Units
from extraction_pipeline.extractors.pdf.bom import find_bom
from extraction_pipeline.extractors.schema import Bom, Table

_ROW_HEIGHT = 141
_COLUMN_WIDTH = 142


def tables(placed: list[Placed], units: Units) -> tuple[list[Table], list[str]]:
    found, unreadable = [], 0
    for item in placed:
        if item.entity.dxftype() != "ACAD_TABLE" or not isinstance(item.entity, DXFTagStorage):
            continue
        table = _table(item.layout, item.entity, units)
        if table is None:
            unreadable += 1
        else:
            found.append(table)
    warnings = [f"{unreadable} ACAD_TABLE entities have no cell content that can be read"] if unreadable else []
    return found, warnings


def bom_of_tables(found: list[Table]) -> Bom | None:
    """The parts list drawn as ACAD_TABLEs: rows of the tables with BOM headers (the same headers joined)."""
    return find_bom(found)


def _table(layout: str, entity: DXFTagStorage, units: Units) -> Table | None:
    try:
        cells = [[plain_mtext(text).strip() for text in row] for row in read_acad_table_content(entity)]
    except (DXFError, LookupError, ValueError, TypeError):
        return None
    columns = max((len(row) for row in cells), default=0)
    if columns == 0:
        return None
    grid = [row + [""] * (columns - len(row)) for row in cells]
    title = None
    if _is_title_row(grid[0]) and len(grid) > 1:
        title, grid = grid[0][0], grid[1:]
    insert = Vec3(entity.dxf.get("insert", (0, 0, 0)))
    return Table(
        headers=grid[0],
        rows=grid[1:],
        bbox=_bbox(entity, insert, units),
        num_rows=len(grid) - 1,
        num_columns=columns,
        layout=layout,
        title=title,
        insert_point=units.point(insert),
    )


def _is_title_row(row: list[str]) -> bool:
    return len(row) > 1 and bool(row[0]) and not any(row[1:])


def _bbox(entity: DXFTagStorage, insert: Vec3, units: Units) -> tuple[float, float, float, float] | None:
    """The table's outline from its row heights and column widths, turned by its horizontal direction."""
    subclass = entity.xtags.get_subclass("AcDbTable")
    height = sum(float(tag.value) for tag in subclass if tag.code == _ROW_HEIGHT)
    width = sum(float(tag.value) for tag in subclass if tag.code == _COLUMN_WIDTH)
    if width <= 0 or height <= 0:
        return None
    across = Vec3(entity.dxf.get("horizontal_direction", (1, 0, 0)))
    across = across.normalize() if across.magnitude > 0 else Vec3(1, 0, 0)
    down = Vec3(across.y, -across.x, 0)  # rows run down from the insertion point, the top-left corner
    corners = [insert, insert + across * width, insert + down * height, insert + across * width + down * height]
    xs, ys = [corner.x for corner in corners], [corner.y for corner in corners]
    return units.box(min(xs), min(ys), max(xs), max(ys))
