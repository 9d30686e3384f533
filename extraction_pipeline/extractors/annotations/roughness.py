"""Surface roughness values: Ra, Rz, Rq, Rt, Rp, Rv, Rmax in µm or µin."""

from __future__ import annotations

import re

from extraction_pipeline.extractors.annotations.normalize import normalize_annotation_text
from extraction_pipeline.extractors.numbers import NUM, to_float
from extraction_pipeline.extractors.schema import BBox, SurfaceFinish

_NUM = NUM
_to_float = to_float

_ROUGHNESS_PARAMETERS = {"ra": "Ra", "rz": "Rz", "rq": "Rq", "rt": "Rt", "rp": "Rp", "rv": "Rv", "rmax": "Rmax"}
_ROUGHNESS = re.compile(
    rf"""
    (?<![A-Za-z])
    (?P<parameter>(?i:rmax|ra|rz|rq|rt|rp|rv))
    \s*[=:]?\s*
    (?P<value>{_NUM})
    (?:\s*(?P<unit>µm|μm|um|µin|μin|uin|microns?|microinch(?:es)?))?
    (?![\w.])
    """,
    re.VERBOSE,
)


def _roughness_unit(written: str | None) -> str:
    return "uin" if written and ("in" in written.lower()) else "um"


def roughness_matches(text: str) -> list[tuple[re.Match[str], SurfaceFinish]]:
    return [
        (
            match,
            SurfaceFinish(
                parameter=_ROUGHNESS_PARAMETERS[match["parameter"].lower()],
                value=_to_float(match["value"]),
                unit=_roughness_unit(match["unit"]),
            ),
        )
        for match in _ROUGHNESS.finditer(text)
    ]


def parse_surface_finishes(
    text: str, *, page: int | None = None, layer: str | None = None, bbox: BBox | None = None
) -> list[SurfaceFinish]:
    """Roughness values in ``text``: ``Ra 1.6``, ``Rz6.3``, ``Ra=0.8 µm``, ``Ra 32 µin``."""
    text = normalize_annotation_text(text)
    return [
        finish.model_copy(update={"page": page, "layer": layer, "bbox": bbox}) for _, finish in roughness_matches(text)
    ]
