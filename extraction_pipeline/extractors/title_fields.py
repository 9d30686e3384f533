"""Title blocks: one text holding several ``LABEL: value`` fields, split into them.

Shared by the PDF and DXF extractors, so both cut ``DRAWING NO: BM-0000   REV: B   SCALE: 1:2`` the same way.
Plain Python over one string; each extractor brings what differs (``FieldSplitter``'s arguments):

- its label vocabulary: one regex per known label, longest first, and how a matched label is named (which
  ``TitleBlock`` field, which ``custom_fields`` key);
- what counts as a wide gap: always two spaces or more (the PDF extractor passes its runs with each wide gap
  between words written as two spaces); in DXF texts a line break too, and then a label never reaches over one.

The rules. The text must start with a label (known, or unknown with a colon). It is cut before every later

- known label followed by a colon (``REV:``), after any space;
- unknown label followed by a colon (``ORDER REF:``) after a wide gap (after a single space, where such a label
  starts is a guess: ``PROJECT: ALPHA ORDER REF: 1`` is left alone);
- known label without a colon followed by its value (``REV B``, ``SHEET 1 OF 2``) after a wide gap, unless the
  text before the gap ends a sentence (``NOTE: BREAK EDGES.  MATERIAL TO BE CERTIFIED`` is one note).

A label without a colon needs a value before the next cut: in ``REV DATE: 2024`` DATE belongs to the label
(``DWG NO:  REV: B`` is an empty DWG NO and REV B). So values keep their colons and label words that are not
labels by these rules: ``SCALE: 1:2``, ``TITLE: REV A BRACKET`` (REV has no colon and no wide gap before it),
``DATE: 2024-01-15``. A wide gap is read as a field separator: ``TITLE: BRACKET  SHEET METAL`` (two spaces) is
title BRACKET and sheet METAL. Values are stripped of trailing ``,;|`` separators; empty fields are left out. A
text with no cut at all is not split (``None``): it is a single ``LABEL: value`` or no label.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

_WORD_START = re.compile(r"(?:^|(?<=[\s,;|]))[A-Za-z]")
_VALUE_STRIP = " \t\r\n,;|"

NameLabel = Callable[[str, bool], tuple[str | None, str]]
"""(label text as matched, known) → (field, key): the ``TitleBlock`` field (or the extractor's mark for a custom
field) and the ``custom_fields`` key of the label."""


@dataclass(frozen=True)
class TitleField:
    """One ``LABEL: value`` (or ``LABEL value``) of a text that holds several."""

    field: str | None  # as named by the extractor: a TitleBlock field, or its mark for a custom field
    label: str  # the custom_fields key
    value: str
    colon: bool
    known: bool  # a label of the vocabulary, not just any word before a colon


class FieldSplitter:
    """Splits texts with one extractor's label vocabulary and wide gaps (see the module docstring)."""

    def __init__(self, known_labels: Iterable[str], name_label: NameLabel, *, line_break_is_gap: bool) -> None:
        """``known_labels``: a regex per known label, the longest first (the first alternative that matches wins).

        ``name_label(label, known)`` names a label found. ``line_break_is_gap``: a line break separates fields
        as two spaces do, and the space between a label and its colon or value stays on one line.
        """
        space = r"[ \t]" if line_break_is_gap else r"\s"
        self._known_label_at = re.compile(
            "(?i)(?P<label>" + "|".join(known_labels) + rf")(?:{space}*(?P<colon>:)|(?={space}+[^\s:]))"
        )
        self._unknown_label_at = re.compile(
            r"(?P<label>[A-Za-z](?:[A-Za-z.'/&-]| (?=[A-Za-z.'/&-])){0,28}[A-Za-z.])" + space + r"*:(?!//)"
        )
        self._name_label = name_label
        self._line_break_is_gap = line_break_is_gap

    def split(self, text: str) -> tuple[TitleField, ...] | None:
        """The fields of a text holding several labels, else None."""
        if ":" not in text and "  " not in text and not (self._line_break_is_gap and "\n" in text):
            return None
        first = self._label_at(text, 0, after_gap=True, without_colon=True)
        if first is None:
            return None
        label, value_start = first
        fields: list[TitleField] = []
        cuts = 0
        for word in _WORD_START.finditer(text, value_start):
            position = word.start()
            if position < value_start:
                continue  # inside the label just found
            before = text[value_start:position].strip(_VALUE_STRIP)
            found = self._label_at(text, position, self._after_gap(text, position), not before.endswith("."))
            if found is None or not (before or label.colon):
                continue
            if before:
                fields.append(_with_value(label, before))
            label, value_start = found
            cuts += 1
        if not cuts:
            return None
        value = text[value_start:].strip(_VALUE_STRIP)
        if value:
            fields.append(_with_value(label, value))
        return tuple(fields)

    def _after_gap(self, text: str, position: int) -> bool:
        return text[position - 2 : position] == "  " or (self._line_break_is_gap and text[position - 1] == "\n")

    def _label_at(
        self, text: str, position: int, after_gap: bool, without_colon: bool
    ) -> tuple[TitleField, int] | None:
        """The label starting at ``position`` (value left empty) and where its value starts.

        A known label followed by a colon counts anywhere. After a wide gap (or at the start) an unknown label with
        a colon counts too, and, when ``without_colon``, a known label followed by its value after a space.
        """
        known = self._known_label_at.match(text, position)
        if known is not None and known["colon"]:
            return self._field(known["label"], colon=True, known=True), known.end()
        if not after_gap:
            return None
        unknown = self._unknown_label_at.match(text, position)
        if unknown is not None:
            return self._field(unknown["label"], colon=True, known=False), unknown.end()
        if known is not None and without_colon:
            return self._field(known["label"], colon=False, known=True), known.end()
        return None

    def _field(self, label: str, *, colon: bool, known: bool) -> TitleField:
        field, key = self._name_label(label, known)
        return TitleField(field, key, "", colon, known)


def _with_value(label: TitleField, value: str) -> TitleField:
    return TitleField(label.field, label.label, " ".join(value.split()), label.colon, label.known)
