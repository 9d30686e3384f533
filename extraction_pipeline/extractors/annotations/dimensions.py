"""Dimensions: a number with the written evidence of one (see the package docstring for the rule)."""

from __future__ import annotations

import re
from typing import Any

from extraction_pipeline.extractors.annotations import notations
from extraction_pipeline.extractors.annotations.gdt import gdt_matches
from extraction_pipeline.extractors.annotations.normalize import normalize_annotation_text
from extraction_pipeline.extractors.annotations.roughness import roughness_matches
from extraction_pipeline.extractors.annotations.threads import thread_matches
from extraction_pipeline.extractors.numbers import GROUPED, NUM, mask, to_float
from extraction_pipeline.extractors.schema import BBox, Dimension, DimensionType

_NUM = NUM
_GROUPED = GROUPED
_to_float = to_float
_mask = mask

_IT_GRADE = r"(?:01|1[0-8]|[0-9])(?!\d)"
# x/X are ISO 286 deviations too, but a lone "x1" is the multiplication sign of "1.0x1.0": only "H8/x7" keeps it.
_HOLE_FIT = rf"(?:ZA|ZB|ZC|CD|EF|FG|JS|[A-HJKMNPR-VYZ]){_IT_GRADE}"
_SHAFT_FIT = rf"(?:za|zb|zc|cd|ef|fg|js|[a-hjkmnpr-vyz]){_IT_GRADE}"
_SHAFT_FIT_AFTER_SLASH = rf"(?:za|zb|zc|cd|ef|fg|js|[a-hjkmnpr-vx-z]){_IT_GRADE}"
_FIT = rf"""
    (?:(?P<hole>{_HOLE_FIT})(?:\s*/\s*(?P<shaft_after_slash>{_SHAFT_FIT_AFTER_SLASH})|\s*(?P<shaft_of_hole>{_SHAFT_FIT}))?
      |(?P<shaft>{_SHAFT_FIT}))
    (?!\w|[.,]\d)
"""
_TOLERANCE = rf"""
    (?:\(\s*)?                              # "820 (+5 -0)", "(-0 +5mm)"
    (?:(?:±|\+/-|\+-)\s*(?P<symmetric>{_NUM})(?![\d.,]|\s*%)\s*°?      # "±10%" is a rating's spread
      |\+\s*(?P<plus>{_NUM})\s*°?\s*/?\s*
        (?:-\s*(?P<minus>{_NUM})|\+\s*(?P<lower_plus>{_NUM})|(?P<minus_zero>0(?:[.,]0+)?)(?![\d.,]))?\s*°?
      |(?P<plus_zero>0(?:[.,]0+)?)\s*/?\s*-\s*(?P<minus_of_zero>{_NUM})\s*°?
      |-\s*(?P<minus_first>{_NUM})\s*°?\s*/?\s*\+\s*(?P<plus_second>{_NUM})\s*°?)
    (?:\s*(?:mm|in)?\s*\))?
"""
_UNIT = r"""(?:mm|cm|m|inches|inch|in(?!\s+[a-z0-9(])|"|''|deg)(?!\w)"""  # "3 in 100": a preposition
_DIMENSION = re.compile(
    rf"""
    (?<![0-9A-WYZa-wyz_.,/\#+±:\-])       # not glued to a word or number ("x" allowed: "0.5x45°")
    (?:(?P<count>\d{{1,3}})\s*[xX\u00d7]\s*(?=S?[ØR]))?
    (?P<prefix>S?Ø|S?R(?=\s?{_NUM}))?\s?
    (?P<number>{_NUM})(?![\d/:]|[.,]\d)
    (?:\s*(?P<degrees>°)
        (?:\s*(?P<minutes>[0-5]?\d)\s*['\u2032]
            (?:\s*(?P<seconds>[0-5]?\d(?:[.,]\d+)?)\s*(?:"|''|\u2032\u2032))?)?)?
    (?:\s*(?P<unit>{_UNIT}))?
    (?:\s*(?P<fit>{_FIT}))?
    (?:\s*(?P<tolerance>{_TOLERANCE}))?
    (?:\s*(?P<unit_after>{_UNIT}))?
    (?:\s*(?P<dia_word>DIA\b\.?))?
    (?:\s*(?P<limit_word>(?i:max|min)\.?)(?![A-Za-z]))?  # "48 MAX", "42.3Max.", "5Min": a one-sided limit
    """,
    re.VERBOSE,
)
_INCH_UNITS = {"in", "inch", "inches", '"', "''"}
_MAX_BARE_INTEGER_DIGITS = 4
_BARE_CONFIDENCE = 0.6


def _unit_of(match: re.Match[str], default_unit: str) -> str:
    written = match["unit"] or match["unit_after"]
    if match["degrees"] or written == "deg":
        return "deg"
    if written in _INCH_UNITS:
        return "in"
    return written or default_unit


def _dimension_type(match: re.Match[str]) -> DimensionType:
    prefix = match["prefix"] or ""
    if prefix.endswith("Ø") or match["dia_word"]:
        return DimensionType.DIAMETER
    if prefix.endswith("R"):
        return DimensionType.RADIUS
    if match["degrees"] or match["unit"] == "deg" or match["unit_after"] == "deg":
        return DimensionType.ANGULAR
    return DimensionType.LINEAR


def _tolerances(match: re.Match[str]) -> tuple[float | None, float | None]:
    """(plus, minus) with minus as a positive magnitude."""
    if match["symmetric"]:
        value = _to_float(match["symmetric"])
        return value, value
    if match["plus"]:
        if match["lower_plus"]:  # "+0,2/+0": the lower deviation is zero; one above zero has no minus magnitude
            lower = _to_float(match["lower_plus"])
            return _to_float(match["plus"]), 0.0 if lower == 0 else None
        minus = match["minus"] or match["minus_zero"]
        return _to_float(match["plus"]), _to_float(minus) if minus else None
    if match["plus_zero"]:
        return _to_float(match["plus_zero"]), _to_float(match["minus_of_zero"])
    if match["minus_first"]:
        return _to_float(match["plus_second"]), _to_float(match["minus_first"])
    return None, None


def _fit(match: re.Match[str]) -> str | None:
    if match["hole"]:
        shaft = match["shaft_after_slash"] or match["shaft_of_hole"]
        return f"{match['hole']}/{shaft}" if shaft else match["hole"]
    return match["shaft"]


def _angle_value(match: re.Match[str]) -> float:
    """Degrees, with minutes and seconds folded in: ``45° 30' 15"`` is 45.504167."""
    value = _to_float(match["number"])
    if match["minutes"]:
        value += int(match["minutes"]) / 60
    if match["seconds"]:
        value += _to_float(match["seconds"]) / 3600
    return round(value, 6) if match["minutes"] else value


# Words after which "R" + number names a release, revision or id ("DXF R2013", "REV R12"), not a radius.
_ID_WORD_BEFORE_R = re.compile(
    r"(?<![A-Za-z])(?:DXF|DWG|AUTOCAD|ACAD|REV|REVISION|VER|VERSION|RELEASE|REL|PART|ITEM|ISSUE)\.?\s*[:#]?\s*$",
    re.IGNORECASE,
)
_GLUED_AFTER = re.compile(r"[-_]?[A-Za-z0-9]")


def _is_named_not_radius(text: str, match: re.Match[str]) -> bool:
    """``R`` + number that is part of a name (``R2013-A``, ``BOXR5``, ``DXF R2013``, ``REV R12``), not a radius."""
    if not (match["prefix"] or "").endswith("R"):
        return False
    prefix_start = match.start("prefix")
    glued_before = match["count"] is None and prefix_start > 0 and text[prefix_start - 1].isalpha()
    glued_after = _GLUED_AFTER.match(text, match.end()) is not None
    return glued_before or glued_after or _ID_WORD_BEFORE_R.search(text, 0, match.start()) is not None


def _is_marked(match: re.Match[str]) -> bool:
    marks = ("prefix", "degrees", "unit", "fit", "tolerance", "unit_after", "dia_word", "limit_word")
    return any(match[name] for name in marks)


def _is_lone_plausible_number(text: str, match: re.Match[str]) -> bool:
    """A bare number is a dimension only when it is the whole run and does not look like an id or year."""
    run = text.strip()
    if run.startswith("(") and run.endswith(")"):
        run = run[1:-1].strip()
    number = match["number"]
    if run != match.group(0).strip():
        return False
    integer_part = re.split(r"[.,]", number.replace(",", "") if _GROUPED.fullmatch(number) else number)[0]
    if len(integer_part) > _MAX_BARE_INTEGER_DIGITS or (len(integer_part) > 1 and integer_part.startswith("0")):
        return False
    is_year = len(integer_part) == 4 and number == integer_part and 1900 <= int(integer_part) <= 2099
    return not is_year


def _claimed_spans(text: str) -> list[tuple[int, int]]:
    """Spans that belong to threads, roughness and GD&T, whose numbers are not dimensions."""
    spans = [m.span() for m, _ in gdt_matches(text)]
    masked = _mask(text, spans)
    spans += [m.span() for m, _ in thread_matches(masked)]
    masked = _mask(text, spans)
    spans += [m.span() for m, _ in roughness_matches(masked)]
    return spans


def _marks(match: re.Match[str]) -> frozenset[str]:
    """The written evidence of a dimension: ``diameter``/``radius`` prefix, ``degrees``, ``unit``, ``fit``,
    ``tolerance``, ``count`` (``4X``); none for a bare number."""
    prefix = match["prefix"] or ""
    found = {name for name in ("degrees", "fit", "tolerance", "count") if match[name]}
    if match["limit_word"]:
        found.add("limit")
    if match["unit"] or match["unit_after"]:
        found.add("unit")
    if prefix.endswith("Ø") or match["dia_word"]:
        found.add("diameter")
    elif prefix.endswith("R"):
        found.add("radius")
    return frozenset(found)


def parse_dimensions(
    text: str,
    *,
    default_unit: str = "mm",
    page: int | None = None,
    layer: str | None = None,
    bbox: BBox | None = None,
) -> list[Dimension]:
    """Dimensions in ``text`` (see the module docstring for what counts as one)."""
    where = {"page": page, "layer": layer, "bbox": bbox}
    return [dimension for dimension, _ in parse_dimensions_with_marks(text, default_unit=default_unit, **where)]


def parse_dimensions_with_marks(
    text: str,
    *,
    default_unit: str = "mm",
    page: int | None = None,
    layer: str | None = None,
    bbox: BBox | None = None,
) -> list[tuple[Dimension, frozenset[str]]]:
    """``parse_dimensions`` with each dimension's written evidence (``_marks``): empty for a bare number."""
    text = normalize_annotation_text(text)
    claimed = _claimed_spans(text) + notations.scale_notes(text)
    where = {"page": page, "layer": layer, "bbox": bbox}
    found: list[tuple[int, Dimension, frozenset[str]]] = []
    for written in _written_lengths(_mask(text, claimed)):
        if written.value > 0 and (written.marked or _is_whole_run(text, written.start, written.end)):
            dimension = _from_notation(text, written, default_unit, **where)
            found.append((written.start, dimension, _notation_marks(written)))
        claimed.append((written.start, written.end))
    secondary = notations.bracketed_spans(text)
    masked = _mask(text, claimed + secondary)
    for match in _DIMENSION.finditer(masked):
        marked = _is_marked(match) or _dual_unit(text, match) is not None
        value = _angle_value(match)
        if (
            value <= 0
            or (not marked and not _is_lone_plausible_number(masked, match))
            or _is_named_not_radius(masked, match)
        ):
            continue
        dimension, marks = _from_match(text, match, default_unit, where)
        found.append((match.start(), dimension, marks))
    return [(dimension, marks) for _, dimension, marks in sorted(found, key=lambda item: item[0])]


def _written_lengths(text: str) -> list[notations.WrittenLength]:
    """Feet-inch, inch fractions and limits, each span read once (feet-inch first: it holds fractions)."""
    found: list[notations.WrittenLength] = []
    for reader in (notations.feet_and_inches, notations.inch_fractions, notations.limits):
        for written in reader(_mask(text, [(w.start, w.end) for w in found])):
            found.append(written)
    return found


def _is_whole_run(text: str, start: int, end: int) -> bool:
    run = text.strip()
    if run.startswith("(") and run.endswith(")"):
        run = run[1:-1].strip()
    return run == text[start:end].strip()


def _notation_marks(written: notations.WrittenLength) -> frozenset[str]:
    if written.tolerance_plus is not None:
        return frozenset({"tolerance"})
    return frozenset({"unit"}) if written.marked else frozenset()


def _from_notation(text: str, written: notations.WrittenLength, default_unit: str, **where: Any) -> Dimension:
    label = " ".join(text[written.start : written.end].split())
    return Dimension(
        value=written.value,
        unit=written.unit or default_unit,
        tolerance_plus=written.tolerance_plus,
        tolerance_minus=written.tolerance_minus,
        label=label,
        text=label,
        confidence=1.0 if written.marked else _BARE_CONFIDENCE,
        **where,
    )


def _dual_unit(text: str, match: re.Match[str]) -> str | None:
    """``in`` for ``.650 [16.50]``, ``mm`` for ``16.50 [.650]``: the bracket holds the same length 25.4 times apart."""
    bracketed = notations.bracketed_after(text, match.end())
    if bracketed is None or match["degrees"]:
        return None
    return notations.dual_unit(_angle_value(match), _to_float(bracketed["number"]))


def _from_match(
    text: str, match: re.Match[str], default_unit: str, where: dict[str, Any]
) -> tuple[Dimension, frozenset[str]]:
    """The dimension of one match, with the ``[16.50]`` of a dual dimension read as its second unit."""
    marks = _marks(match)
    unit = _unit_of(match, default_unit)
    label = " ".join(match.group(0).split())
    bracketed = notations.bracketed_after(text, match.end())
    if bracketed is not None:
        label = " ".join(text[match.start() : bracketed.end()].split())
        dual = _dual_unit(text, match)
        if dual is not None and not (match["unit"] or match["unit_after"]):
            unit = dual
            marks = marks | {"unit"}
    plus, minus = _tolerances(match)
    dimension = Dimension(
        value=_angle_value(match),
        unit=unit,
        tolerance_plus=plus,
        tolerance_minus=minus,
        dimension_type=_dimension_type(match),
        label=label,
        text=label,
        fit=_fit(match),
        confidence=1.0 if marks else _BARE_CONFIDENCE,
        **where,
    )
    return dimension, marks
