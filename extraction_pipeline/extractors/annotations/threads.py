"""Thread callouts: ISO metric, trapezoidal, Unified and pipe threads."""

from __future__ import annotations

import re
from collections.abc import Callable

from extraction_pipeline.extractors.annotations.normalize import normalize_annotation_text
from extraction_pipeline.extractors.numbers import NUM, mask, to_float
from extraction_pipeline.extractors.schema import BBox, Thread

_NUM = NUM
_to_float = to_float
_mask = mask

# ISO 261 / ISO 262 coarse pitches (mm) for the common sizes.
ISO_METRIC_COARSE_PITCH: dict[float, float] = {
    1.0: 0.25,
    1.2: 0.25,
    1.4: 0.3,
    1.6: 0.35,
    2.0: 0.4,
    2.5: 0.45,
    3.0: 0.5,
    3.5: 0.6,
    4.0: 0.7,
    5.0: 0.8,
    6.0: 1.0,
    7.0: 1.0,
    8.0: 1.25,
    10.0: 1.5,
    12.0: 1.75,
    14.0: 2.0,
    16.0: 2.0,
    18.0: 2.5,
    20.0: 2.5,
    22.0: 2.5,
    24.0: 3.0,
    27.0: 3.0,
    30.0: 3.5,
    33.0: 3.5,
    36.0: 4.0,
    39.0: 4.0,
    42.0: 4.5,
    45.0: 4.5,
    48.0: 5.0,
    52.0: 5.0,
    56.0: 5.5,
    60.0: 5.5,
    64.0: 6.0,
}
_MAX_METRIC_PITCH = 6.0

_METRIC_THREAD = re.compile(
    rf"""
    (?<![\w.])                        # not part of a word
    M\s?(?P<diameter>\d{{1,3}}(?:[.,]\d+)?)
    (?:\s*[xX\u00d7]\s*(?P<second>{_NUM}))?
    (?:\s*-\s*\d[a-hA-H](?:\d[a-hA-H])?)?   # tolerance class 6g / 6H / 5g6g
    (?:\s*LH)?
    (?![\w.])
    """,
    re.VERBOSE,
)
_TRAPEZOIDAL_THREAD = re.compile(
    rf"(?<![\w.])Tr\s?(?P<diameter>{_NUM})\s*[xX\u00d7]\s*(?P<pitch>{_NUM})(?:\s*\(P\s*{_NUM}\))?(?:\s*-\s*\d[eEcChH])?(?![\w.])"
)
_UNIFIED_THREAD = re.compile(
    r"""
    (?<![\w.\#/])
    (?:
        \#\s?(?P<number>\d{1,2})
      | (?:(?P<whole>\d)(?:\s+|-))?(?P<numerator>\d{1,2})/(?P<denominator>\d{1,2})
      | (?P<decimal>\d*\.\d+|\d{1,2})
    )
    \s*(?:"|'')?\s*-\s*
    (?P<tpi>\d{1,3}(?:\.\d+)?)
    \s*(?P<series>UNJC|UNJF|UNEF|UNC|UNF|UNS|UN|NPTF|NPSM|NPT|NPS)
    (?:\s*-\s*[123][AB])?
    (?:\s*LH)?
    (?![A-Za-z])
    """,
    re.VERBOSE,
)


def _metric_thread(match: re.Match[str]) -> Thread:
    diameter = _to_float(match["diameter"])
    second = _to_float(match["second"]) if match["second"] else None
    # "M8x20" names a screw length, not a pitch: a pitch is always below the diameter and at most 6 mm.
    if second is not None and second < diameter and second <= _MAX_METRIC_PITCH:
        pitch: float | None = second
    else:
        pitch = ISO_METRIC_COARSE_PITCH.get(diameter)
    return Thread(designation=match.group(0).strip(), standard="ISO metric", nominal_diameter=diameter, pitch=pitch)


def _trapezoidal_thread(match: re.Match[str]) -> Thread:
    return Thread(
        designation=match.group(0).strip(),
        standard="ISO metric trapezoidal",
        nominal_diameter=_to_float(match["diameter"]),
        pitch=_to_float(match["pitch"]),
    )


_NUMBER_SIZE_MIN_TPI = 24.0
_MAX_NUMBER_SIZE = 12


def _unified_size_inches(match: re.Match[str], tpi: float) -> float:
    if match["number"] is not None:
        return _number_size_inches(int(match["number"]))
    if match["numerator"] is not None:
        whole = int(match["whole"]) if match["whole"] else 0
        return round(whole + int(match["numerator"]) / int(match["denominator"]), 6)
    decimal = match["decimal"]
    if "." not in decimal and int(decimal) <= _MAX_NUMBER_SIZE and tpi >= _NUMBER_SIZE_MIN_TPI:
        return _number_size_inches(int(decimal))  # "10-32 UNF" is #10, "1-8 UNC" is one inch
    return float(decimal)


def _number_size_inches(number: int) -> float:
    """ASME B1.1 machine-screw number sizes: #0 is 0.060 in, each step adds 0.013 in."""
    return round(0.060 + 0.013 * number, 4)


def _unified_thread(match: re.Match[str]) -> Thread:
    tpi = float(match["tpi"])
    return Thread(
        designation=match.group(0).strip(),
        standard=match["series"],
        nominal_diameter=_unified_size_inches(match, tpi),
        threads_per_inch=tpi,
        unit="in",
    )


_THREAD_READERS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], Thread]], ...] = (
    (_UNIFIED_THREAD, _unified_thread),
    (_TRAPEZOIDAL_THREAD, _trapezoidal_thread),
    (_METRIC_THREAD, _metric_thread),
)


_DIAMETER_BEFORE = re.compile(r"Ø\s?\d+(?:[.,]\d+)?\s?$")


def _is_fit_not_thread(text: str, match: re.Match[str]) -> bool:
    """``Ø20 M7`` is a diameter with an M7 fit, not an M7 thread."""
    return match.re is _METRIC_THREAD and _DIAMETER_BEFORE.search(text, 0, match.start()) is not None


def thread_matches(text: str) -> list[tuple[re.Match[str], Thread]]:
    found: list[tuple[re.Match[str], Thread]] = []
    claimed: list[tuple[int, int]] = []
    for pattern, read in _THREAD_READERS:
        for match in pattern.finditer(_mask(text, claimed)):
            if not _is_fit_not_thread(text, match):
                found.append((match, read(match)))
        claimed.extend(m.span() for m, _ in found)
    return sorted(found, key=lambda pair: pair[0].start())


def parse_threads(
    text: str, *, page: int | None = None, layer: str | None = None, bbox: BBox | None = None
) -> list[Thread]:
    """Thread callouts in ``text``: ``M8x1.25``, ``M10`` (coarse pitch), ``Tr16x4``, ``1/4-20 UNC``, ``#10-32 UNF``."""
    text = normalize_annotation_text(text)
    return [
        thread.model_copy(update={"page": page, "layer": layer, "bbox": bbox}) for _, thread in thread_matches(text)
    ]
