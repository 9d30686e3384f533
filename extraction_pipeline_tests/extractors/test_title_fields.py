"""Table tests for the shared title-block field splitter: each text against its exact fields."""

from __future__ import annotations

import re

import pytest

from extraction_pipeline.extractors.title_fields import FieldSplitter, TitleField

# A small vocabulary of its own: alias -> TitleBlock field.
_FIELDS = {
    "DRAWING NO": "drawing_number",
    "TITLE": "title",
    "REV": "revision",
    "DATE": "date",
    "SCALE": "scale",
    "SHEET": "sheet",
    "MATERIAL": "material",
}


def _name_label(label: str, known: bool) -> tuple[str | None, str]:
    key = " ".join(label.upper().split())
    return (_FIELDS.get(key) if known else None), key


def _splitter(line_break_is_gap: bool) -> FieldSplitter:
    patterns = (r"\s+".join(map(re.escape, alias.split())) for alias in sorted(_FIELDS, key=len, reverse=True))
    return FieldSplitter(patterns, _name_label, line_break_is_gap=line_break_is_gap)


def _fields(text: str, line_break_is_gap: bool = False) -> list[tuple[str | None, str, str, bool, bool]] | None:
    fields = _splitter(line_break_is_gap).split(text)
    return None if fields is None else [(f.field, f.label, f.value, f.colon, f.known) for f in fields]


# text -> [(field, label, value, colon, known)], or None: not split
CASES = [
    (
        "DRAWING NO: BM-0000   REV: B   SCALE: 1:2",
        [
            ("drawing_number", "DRAWING NO", "BM-0000", True, True),
            ("revision", "REV", "B", True, True),
            ("scale", "SCALE", "1:2", True, True),
        ],
    ),
    (
        "PROJECT: ALPHA  ORDER REF: PO-4471",
        [(None, "PROJECT", "ALPHA", True, False), (None, "ORDER REF", "PO-4471", True, False)],
    ),
    ("PROJECT: ALPHA ORDER REF: PO-4471", None),  # after one space, where an unknown label starts is a guess
    ("TITLE: REV A BRACKET", None),  # REV has no colon and no wide gap before it: part of the title
    ("SHEET 1 OF 2", None),  # one label
    (
        "TITLE: BRACKET  SHEET METAL",
        [("title", "TITLE", "BRACKET", True, True), ("sheet", "SHEET", "METAL", False, True)],
    ),
    ("NOTE: BREAK EDGES.  MATERIAL TO BE CERTIFIED", None),  # a sentence goes on after the gap
    ("DRAWING NO:  REV: B, ", [("revision", "REV", "B", True, True)]),  # empty drawing number, trailing "," dropped
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_split(text: str, expected: list[tuple[str | None, str, str, bool, bool]] | None) -> None:
    assert _fields(text) == expected


def test_fields_are_title_fields() -> None:
    assert _splitter(False).split("REV: B  DATE: 2024-01-15") == (
        TitleField("revision", "REV", "B", colon=True, known=True),
        TitleField("date", "DATE", "2024-01-15", colon=True, known=True),
    )


def test_a_line_break_is_a_wide_gap_only_when_the_extractor_says_so() -> None:
    text = "DRAWING NO: BM-0000\nREV B"
    assert _fields(text, line_break_is_gap=True) == [
        ("drawing_number", "DRAWING NO", "BM-0000", True, True),
        ("revision", "REV", "B", False, True),
    ]
    assert _fields(text, line_break_is_gap=False) is None
    # a label and its colon or value stay on one line when a line break is a gap
    assert _fields("REV\nB  SCALE: 1:2", line_break_is_gap=True) is None
    assert _fields("REV\nB  SCALE: 1:2", line_break_is_gap=False) == [
        ("revision", "REV", "B", False, True),
        ("scale", "SCALE", "1:2", True, True),
    ]


def test_the_title_block_reach_is_a_line_beyond_its_runs_even_with_a_turned_line_inside() -> None:
    from extraction_pipeline.extractors.pdf.model import Page, PageObjects, Run
    from extraction_pipeline.extractors.pdf.title_unlabelled import reach_of

    page = Page(1, 800.0, 600.0, 0, PageObjects())
    page.runs = [
        Run("REV B", 1, 600.0, 500.0, 640.0, 510.0, font_size=10.0),
        Run("063 ±0.5", 1, 620.0, 420.0, 630.0, 470.0, font_size=8.0, source="ocr", rotation=90.0),
    ]
    assert reach_of(page, (600.0, 420.0, 640.0, 510.0)) == (600.0, 405.0, 640.0, 525.0)
