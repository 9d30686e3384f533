"""Feature-control frames: a GD&T symbol or word, a tolerance and up to three datums."""

from __future__ import annotations

import re

from extraction_pipeline.extractors.annotations.normalize import normalize_annotation_text
from extraction_pipeline.extractors.numbers import NUM, to_float
from extraction_pipeline.extractors.schema import BBox, GdtCallout

_NUM = NUM
_to_float = to_float

GDT_SYMBOLS: dict[str, str] = {
    "⏤": "straightness",
    "⏥": "flatness",
    "○": "circularity",
    "◯": "circularity",
    "⌭": "cylindricity",
    "⌒": "profile of a line",
    "⌓": "profile of a surface",
    "⟂": "perpendicularity",
    "⊥": "perpendicularity",
    "∠": "angularity",
    "∥": "parallelism",
    "//": "parallelism",
    "⌖": "position",
    "◎": "concentricity",
    "⌯": "symmetry",
    "↗": "circular runout",
    "⌰": "total runout",
}
GDT_WORDS: dict[str, str] = {
    "STRAIGHTNESS": "straightness",
    "FLATNESS": "flatness",
    "CIRCULARITY": "circularity",
    "ROUNDNESS": "circularity",
    "CYLINDRICITY": "cylindricity",
    "PROFILE OF A LINE": "profile of a line",
    "LINE PROFILE": "profile of a line",
    "PROFILE OF A SURFACE": "profile of a surface",
    "SURFACE PROFILE": "profile of a surface",
    "PERPENDICULARITY": "perpendicularity",
    "ANGULARITY": "angularity",
    "PARALLELISM": "parallelism",
    "TRUE POSITION": "position",
    "POSITION": "position",
    "CONCENTRICITY": "concentricity",
    "COAXIALITY": "concentricity",
    "SYMMETRY": "symmetry",
    "CIRCULAR RUNOUT": "circular runout",
    "TOTAL RUNOUT": "total runout",
    "RUNOUT": "circular runout",
}


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


_MODIFIER = r"(?:[ⓂⓁⓈⒻⓅⓉⓊⒺ]|\([MLSFPTU]\))"
_GDT = re.compile(
    rf"""
    (?:(?P<symbol>{_alternation(list(GDT_SYMBOLS))})
      |(?<![A-Za-z])(?P<word>(?i:{_alternation(list(GDT_WORDS))}))(?![A-Za-z]))
    \s*\|?\s*
    (?P<zone>Ø)?\s*
    (?P<tolerance>{_NUM})(?![\d.,])
    (?:\s*{_MODIFIER})*
    (?P<datums>(?:\s*\|?\s*[A-Z](?:\s*-\s*[A-Z])?(?:\s*{_MODIFIER})*(?![A-Za-z0-9])){{0,3}})
    (?:\s*\|)?
    """,
    re.VERBOSE,
)
_DATUM = re.compile(r"[A-Z](?:\s*-\s*[A-Z])?")


def _gdt_characteristic(match: re.Match[str]) -> str:
    if match["symbol"]:
        return GDT_SYMBOLS[match["symbol"]]
    return GDT_WORDS[" ".join(match["word"].upper().split())]


def gdt_matches(text: str) -> list[tuple[re.Match[str], GdtCallout]]:
    found = []
    for match in _GDT.finditer(text):
        datums_text = re.sub(_MODIFIER, " ", match["datums"])
        found.append(
            (
                match,
                GdtCallout(
                    characteristic=_gdt_characteristic(match),
                    tolerance=_to_float(match["tolerance"]),
                    datums=[re.sub(r"\s+", "", d) for d in _DATUM.findall(datums_text)],
                    text=" ".join(match.group(0).split()),
                ),
            )
        )
    return found


def parse_gdt(
    text: str, *, page: int | None = None, layer: str | None = None, bbox: BBox | None = None
) -> list[GdtCallout]:
    """Feature-control frames: a GD&T symbol or word, a tolerance (``Ø`` zone allowed) and up to 3 datums."""
    text = normalize_annotation_text(text)
    return [callout.model_copy(update={"page": page, "layer": layer, "bbox": bbox}) for _, callout in gdt_matches(text)]
