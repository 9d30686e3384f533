"""One spelling for the symbols CAD and PDF text write in many ways (AutoCAD codes, GDT font, look-alikes)."""

from __future__ import annotations

import re

_AUTOCAD_CODES = {"%%c": "Ø", "%%d": "°", "%%p": "±", "%%v": "|", "%%u": "", "%%o": "", "%%%": "%"}
_AUTOCAD_CODE = re.compile(r"%%[cdpvuo%]", re.IGNORECASE)
_UNICODE_ESCAPE = re.compile(r"\\U\+([0-9A-Fa-f]{4})")
# pdfminer's name for a glyph its font maps to no character (a symbol font's Ø or °): no text, and its number is
# a glyph id, never a value
_UNMAPPED_GLYPH = re.compile(r"\(cid:\d+\)")

# Characters of AutoCAD's GDT font (gdt.shx) as written in DXF TOLERANCE entities: {\Fgdt;j}
_GDT_FONT = {
    "a": "∠",
    "b": "⟂",
    "c": "⏥",
    "d": "⌓",
    "e": "○",
    "f": "∥",
    "g": "⌭",
    "h": "↗",
    "i": "⌯",
    "j": "⌖",
    "k": "⌒",
    "l": "Ⓛ",
    "m": "Ⓜ",
    "n": "Ø",
    "p": "Ⓟ",
    "r": "◎",
    "s": "Ⓢ",
    "t": "⌰",
    "u": "⏤",
}
_GDT_FONT_RUN = re.compile(r"\{\\Fgdt;([^}]*)\}", re.IGNORECASE)
_LOOKALIKES = str.maketrans(
    {
        "⌀": "Ø",
        "∅": "Ø",
        "ø": "Ø",
        "º": "°",
        "\u2212": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2033": '"',
        "\u201d": '"',  # typographic quotes as foot and inch marks: 20' - 3”
        "\u201c": '"',
        "\u2019": "'",
    }
)


def normalize_annotation_text(text: str) -> str:
    """One spelling for the many ways CAD and PDF text writes the same symbol (idempotent)."""
    text = _GDT_FONT_RUN.sub(lambda m: "".join(_GDT_FONT.get(ch.lower(), ch) for ch in m.group(1)), text)
    text = _AUTOCAD_CODE.sub(lambda m: _AUTOCAD_CODES[m.group(0).lower()], text)
    text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = _UNMAPPED_GLYPH.sub(" ", text)
    return text.translate(_LOOKALIKES)
