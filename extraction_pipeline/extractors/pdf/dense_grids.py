"""A bound on pdfplumber's ruled-table search that counts what the search pays for, and keeps the tables.

pdfplumber's table finder grows faster than linearly with the crossings of its (snapped, joined) ruling edges:
a 45 x 45 grid (2,116 crossings) takes 0.5 s, 60 x 60 (3,721) 0.9 s, 100 x 100 about 10 s. Counting the page's
raw edges instead overstates that many times over (a table drawn cell by cell has every inner edge twice, a
circle's control polygon adds edges), so ordinary drawings were refused the table search. Here the crossings are
counted on the edges the finder itself uses, per group of connected ruling lines: only a group too dense to
search (a plan grid, hatching drawn with axis-parallel lines) loses its edges; tables elsewhere on the page are
still found.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from pdfplumber.table import TableFinder

from extraction_pipeline.extractors.schema import BBox

MAX_GRID_CROSSINGS = 2000
"""A group of connected ruling lines with more crossings than this is not searched for tables (about 0.5 s)."""
MAX_PAGE_CROSSINGS = 4000
"""At most this many crossings in all the groups searched on one page (the densest groups are left out first)."""
_COUNT_CAP = 200_000
"""Counting stops here (a page of fine hatching): the page is then not searched at all."""
TABLE_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}


@dataclass(frozen=True)
class DenseGrid:
    """Connected ruling lines left out of the table search: how many crossings, and where."""

    crossings: int
    bbox: BBox


class BoundedTableFinder(TableFinder):
    """pdfplumber's ``TableFinder`` over its own edges minus the groups too dense to search (``dense_grids``)."""

    def __init__(self, page: Any) -> None:
        self.dense_grids: list[DenseGrid] = []
        super().__init__(page, TABLE_SETTINGS)

    def get_edges(self) -> list[dict[str, Any]]:
        edges = super().get_edges()
        kept, self.dense_grids = without_dense_grids(edges)
        return kept


def without_dense_grids(
    edges: list[dict[str, Any]], tolerance: float = 3.0
) -> tuple[list[dict[str, Any]], list[DenseGrid]]:
    """The edges of the groups cheap enough to search, and the groups left out (densest first)."""
    vertical = [e for e in edges if e["orientation"] == "v"]
    horizontal = sorted((e for e in edges if e["orientation"] == "h"), key=lambda e: e["top"])
    tops = [e["top"] for e in horizontal]
    parent = list(range(len(vertical) + len(horizontal)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    crossings_of_vertical = [0] * len(vertical)
    total = 0
    for i, edge in enumerate(vertical):
        low = bisect.bisect_left(tops, edge["top"] - tolerance)
        high = bisect.bisect_right(tops, edge["bottom"] + tolerance)
        for j in range(low, high):
            if horizontal[j]["x0"] - tolerance <= edge["x0"] <= horizontal[j]["x1"] + tolerance:
                crossings_of_vertical[i] += 1
                parent[root(len(vertical) + j)] = root(i)
        total += crossings_of_vertical[i]
        if total > _COUNT_CAP:
            everything = [*vertical, *horizontal]
            return [], [DenseGrid(total, _bbox(everything))]
    groups: dict[int, list[int]] = {}
    for node in range(len(parent)):
        groups.setdefault(root(node), []).append(node)
    crossings = {
        key: sum(crossings_of_vertical[n] for n in nodes if n < len(vertical)) for key, nodes in groups.items()
    }
    everything = [*vertical, *horizontal]
    kept: list[dict[str, Any]] = []
    dense: list[DenseGrid] = []
    budget = MAX_PAGE_CROSSINGS
    for key in sorted(groups, key=lambda k: crossings[k]):  # the sparsest first: they hold the tables
        members = [everything[n] for n in groups[key]]
        if crossings[key] > MAX_GRID_CROSSINGS or crossings[key] > budget:
            dense.append(DenseGrid(crossings[key], _bbox(members)))
        else:
            budget -= crossings[key]
            kept.extend(members)
    return kept, sorted(dense, key=lambda grid: -grid.crossings)


def _bbox(edges: list[dict[str, Any]]) -> BBox:
    return (
        round(min(e["x0"] for e in edges), 2),
        round(min(e["top"] for e in edges), 2),
        round(max(e["x1"] for e in edges), 2),
        round(max(e["bottom"] for e in edges), 2),
    )
