"""Title block and bill of materials.

The title block comes from an attributed block insert whose tags name title-block fields; failing that,
from labelled TEXT/MTEXT in the bottom-right of a layout (``SCALE: 1:2``, a label with its value to the
right or below, a text holding several ``LABEL: value`` fields being split into them). The BOM comes from
attributed part inserts (ITEM, PART_NO, QTY…).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from extraction_pipeline.extractors.dxf.texts import ShownText
from extraction_pipeline.extractors.schema import BlockAttribute, Bom, TitleBlock
from extraction_pipeline.extractors.title_fields import FieldSplitter
from extraction_pipeline.extractors.title_vocabulary import field_of_other_language_label


def _normalized_tag(tag: str) -> str:
    """``"Dwg. No:"`` → ``"DWG_NO"``: one spelling for attribute tags and text labels."""
    return re.sub(r"[^A-Z0-9]+", "_", tag.upper()).strip("_")


_TITLE_FIELD_TAGS: dict[str, tuple[str, ...]] = {
    "drawing_number": (
        "DWG_NO", "DWG_NR", "DWG_NUM", "DWG_NUMBER", "DWGNO", "DRAWING_NO", "DRAWING_NR", "DRAWING_NUM",
        "DRAWING_NUMBER", "DRAWINGNUMBER", "DRG_NO", "DRW_NO", "DOC_NO", "DOCUMENT_NO", "DOCUMENT_NUMBER",
    ),
    "title": ("TITLE", "DWG_TITLE", "DRAWING_TITLE"),
    "revision": ("REV", "REV_NO", "REVISION", "REVISION_NO"),
    "date": ("DATE", "DWG_DATE", "DRAWN_DATE", "ISSUE_DATE"),
    "author": ("DRAWN_BY", "DRAWN", "DRN_BY", "DWN_BY", "DRAFTER", "AUTHOR", "DESIGNER", "DESIGNED_BY", "CREATED_BY"),
    "company": ("COMPANY", "COMPANY_NAME", "ORGANIZATION", "ORGANISATION", "FIRM"),
    "scale": ("SCALE", "DWG_SCALE"),
    "sheet": ("SHEET", "SHEET_NO", "SHEET_NUMBER", "SHT", "SHT_NO"),
    "material": ("MATERIAL", "MATL", "MAT"),
    "finish": ("FINISH", "SURFACE_FINISH"),
}  # fmt: skip
_TITLE_FIELD_OF_TAG: dict[str, str] = {tag: field for field, tags in _TITLE_FIELD_TAGS.items() for tag in tags}
# Material and finish label parts lists as much as title blocks; they do not make a block a title block.
_PART_LEVEL_FIELDS = frozenset({"material", "finish"})
_MIN_TITLE_FIELDS = 2

_BOM_TAGS = frozenset({
    "ITEM", "ITEM_NO", "ITEM_NUMBER", "POS", "POS_NO", "POSITION", "PART", "PART_NO", "PART_NUMBER", "PARTNO",
    "PN", "QTY", "QUANTITY", "DESCRIPTION", "DESC", "MATERIAL", "MATL",
})  # fmt: skip
_BOM_IDENTIFYING_TAGS = frozenset(_BOM_TAGS - {"DESCRIPTION", "DESC", "MATERIAL", "MATL"})
_MIN_BOM_TAGS = 2


def _title_fields(attributes: list[BlockAttribute]) -> set[str]:
    fields = {_TITLE_FIELD_OF_TAG.get(_normalized_tag(a.tag)) for a in attributes}
    return {field for field in fields if field is not None and field not in _PART_LEVEL_FIELDS}


def _is_title_block(attributes: list[BlockAttribute]) -> bool:
    fields = _title_fields(attributes)
    return len(fields) >= _MIN_TITLE_FIELDS or "drawing_number" in fields


def title_block_from_attributes(attributed: list[list[BlockAttribute]]) -> TitleBlock | None:
    """From the insert with the most title-block fields (the first on a tie), if any looks like a title block."""
    candidates = [attributes for attributes in attributed if _is_title_block(attributes)]
    best = max(candidates, key=lambda attributes: len(_title_fields(attributes)), default=None)
    return None if best is None else _title_block(best)


def _title_block(attributes: list[BlockAttribute]) -> TitleBlock:
    fields: dict[str, str] = {}
    custom: dict[str, str] = {}
    for attribute in attributes:
        value = attribute.value.strip()
        field = _TITLE_FIELD_OF_TAG.get(_normalized_tag(attribute.tag))
        if field is None:
            custom[attribute.tag] = value
        elif value and field not in fields:
            fields[field] = value
    return TitleBlock(**fields, custom_fields=custom)


# Labelled texts: "SCALE: 1:2" or a label text with its value to the right or below it.
_TITLE_REGION = 0.5  # the bottom-right part of the layout: right of this fraction of the width, below of the height
_VALUE_RIGHT_REACH = 20.0  # text heights
_VALUE_BELOW_REACH = 3.0


def title_block_from_texts(
    texts: list[ShownText], layout_boxes: dict[str, tuple[float, float, float, float]]
) -> TitleBlock | None:
    fields: dict[str, str] = {}
    custom: dict[str, str] = {}
    for layout, box in layout_boxes.items():
        region = [t for t in texts if t.layout == layout and _in_title_region(t, box)]
        for text in region:
            for field, label, value in _labelled_values(text, region):
                if field is None:
                    custom.setdefault(label, value)
                else:
                    fields.setdefault(field, value)
    title_fields = set(fields) - _PART_LEVEL_FIELDS
    if len(title_fields) < _MIN_TITLE_FIELDS and "drawing_number" not in title_fields:
        return None
    return TitleBlock(**fields, custom_fields=custom)


def _in_title_region(text: ShownText, box: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = box
    return text.box[0] >= x0 + _TITLE_REGION * (x1 - x0) and text.box[1] <= y0 + _TITLE_REGION * (y1 - y0)


def _label_field(text: str) -> str | None:
    """The field a text label names: by the tag vocabulary, else in another language (``Maßstab``, ``图号``)."""
    return _TITLE_FIELD_OF_TAG.get(_normalized_tag(text)) or field_of_other_language_label(text)


def _labelled_values(text: ShownText, region: list[ShownText]) -> Iterator[tuple[str | None, str, str]]:
    """(field, label, value) of a labelled text; field None for an unknown label (a custom field).

    A text holding several labels (``DWG NO: BM-0000   REV: B   SCALE: 1:2``) gives each of them, its unknown
    labels included when it has a known one; otherwise only a known label counts: ``LABEL: value``, or a label
    with its value in the nearest text to its right or below.
    """
    fields = _split_fields(text.text)
    if fields is not None:
        if any(f.field is not None for f in fields):
            yield from ((f.field, f.label, f.value) for f in fields)
        return
    label, colon, rest = text.text.partition(":")
    field = _label_field(label)
    if field is None:
        return
    if colon and rest.strip():
        yield field, label, rest.strip()
        return
    value = _value_next_to(text, region)
    if value is not None:
        yield field, label, value.text.strip()


# Several labels in one text, cut by the rules of ``title_fields`` with this module's label vocabulary
# (``_TITLE_FIELD_TAGS``, words separated by spaces or . _ ' / # -); a line break separates fields as a wide gap
# (two or more spaces) does.
def _tag_pattern(tag: str) -> str:
    return r"[ \t._'/#-]+".join(re.escape(word) for word in tag.split("_")) + r"\.?"


def _name_label(label: str, known: bool) -> tuple[str | None, str]:
    """(TitleBlock field, None for an unknown label; the label as written, upper case)."""
    return _label_field(label) if known else None, " ".join(label.upper().split())


_split_fields = FieldSplitter(
    (_tag_pattern(tag) for tag in sorted(_TITLE_FIELD_OF_TAG, key=len, reverse=True)),
    _name_label,
    line_break_is_gap=True,  # MTEXT lines: a line break separates fields, a label never reaches over one
).split


def _value_next_to(label: ShownText, region: list[ShownText]) -> ShownText | None:
    """The nearest non-label text on the label's line to its right, or just below it."""
    height = label.height or max(label.box[3] - label.box[1], 1e-9)
    x, y = label.box[0], label.box[1]
    best: tuple[float, ShownText] | None = None
    for other in region:
        labelled = _label_field(other.text.partition(":")[0]) is not None or _split_fields(other.text) is not None
        if other is label or labelled:
            continue
        dx, dy = other.box[0] - x, other.box[1] - y
        right = label.box[2] <= other.box[0] and dx <= _VALUE_RIGHT_REACH * height and abs(dy) <= height
        below = -_VALUE_BELOW_REACH * height <= dy < 0 and abs(dx) <= _VALUE_RIGHT_REACH * height
        distance = math.hypot(dx, dy)
        if (right or below) and (best is None or distance < best[0]):
            best = (distance, other)
    return None if best is None else best[1]


# --- bill of materials -----------------------------------------------------------------------------------


def _is_part(attributes: list[BlockAttribute]) -> bool:
    tags = {_normalized_tag(a.tag) for a in attributes}
    return len(tags & _BOM_TAGS) >= _MIN_BOM_TAGS and bool(tags & _BOM_IDENTIFYING_TAGS)


def bom(attributed: list[list[BlockAttribute]]) -> Bom | None:
    parts = [attributes for attributes in attributed if _is_part(attributes) and not _is_title_block(attributes)]
    if not parts:
        return None
    headers: dict[str, None] = {}  # ordered set: tags in order of first appearance
    items = []
    for attributes in parts:
        headers.update(dict.fromkeys(a.tag for a in attributes))
        items.append({a.tag: a.value for a in attributes})
    return Bom(headers=list(headers), items=items, total_items=len(items))
