"""One unit vocabulary for every result: the symbols a unit is reported by, and one unit in SI.

IFC and STEP files name their units in words (``.MILLI. .METRE.``, ``'FOOT'``, ``'SQUARE FOOT'``,
``'DEGREE'``, ``'inches'``); results report them by one symbol each, whatever the writer's spelling:
lengths ``mm``, ``cm``, ``m``, ``km``, ``um``, ``in``, ``ft``, ``yd``, ``mi``, ``mil`` (the symbols ezdxf gives
DXF's ``$INSUNITS``), areas and volumes with an exponent (``m2``, ``ft2``, ``m3``, ``in3``), angles ``rad`` and
``deg``, solid angles ``sr``. Each comes with its scale: what one such unit is in m, m2, m3, rad or sr.
"""

from __future__ import annotations

import math
import re

SI_PREFIXES: dict[str, tuple[str, float]] = {
    "EXA": ("E", 1e18),
    "PETA": ("P", 1e15),
    "TERA": ("T", 1e12),
    "GIGA": ("G", 1e9),
    "MEGA": ("M", 1e6),
    "KILO": ("k", 1e3),
    "HECTO": ("h", 1e2),
    "DECA": ("da", 1e1),
    "DECI": ("d", 1e-1),
    "CENTI": ("c", 1e-2),
    "MILLI": ("m", 1e-3),
    "MICRO": ("u", 1e-6),
    "NANO": ("n", 1e-9),
    "PICO": ("p", 1e-12),
    "FEMTO": ("f", 1e-15),
    "ATTO": ("a", 1e-18),
}

# SI unit name (ISO 10303-41 / IfcSIUnitName) -> (symbol, power of the prefix: mm2 is (1e-3 m)^2)
_SI_UNITS: dict[str, tuple[str, int]] = {
    "METRE": ("m", 1),
    "SQUARE_METRE": ("m2", 2),
    "CUBIC_METRE": ("m3", 3),
    "RADIAN": ("rad", 1),
    "STERADIAN": ("sr", 1),
    "GRAM": ("g", 1),
    "SECOND": ("s", 1),
    "KELVIN": ("K", 1),
    "DEGREE_CELSIUS": ("degC", 1),
    "NEWTON": ("N", 1),
    "PASCAL": ("Pa", 1),
    "JOULE": ("J", 1),
    "WATT": ("W", 1),
    "HERTZ": ("Hz", 1),
    "AMPERE": ("A", 1),
    "VOLT": ("V", 1),
    "LUMEN": ("lm", 1),
    "LUX": ("lx", 1),
    "CANDELA": ("cd", 1),
    "MOLE": ("mol", 1),
}

_LENGTHS: dict[str, tuple[str, float]] = {
    "inch": ("in", 0.0254),
    "foot": ("ft", 0.3048),
    "yard": ("yd", 0.9144),
    "mile": ("mi", 1609.344),
    "mil": ("mil", 0.0000254),
    "thou": ("mil", 0.0000254),
    "metre": ("m", 1.0),
    "millimetre": ("mm", 0.001),
    "centimetre": ("cm", 0.01),
    "kilometre": ("km", 1000.0),
    "micrometre": ("um", 1e-6),
    "micron": ("um", 1e-6),
}
_SPELLINGS = {
    "inches": "inch",
    "in": "inch",
    "feet": "foot",
    "ft": "foot",
    "yards": "yard",
    "yd": "yard",
    "miles": "mile",
    "mils": "mil",
    "meter": "metre",
    "millimeter": "millimetre",
    "centimeter": "centimetre",
    "kilometer": "kilometre",
    "micrometer": "micrometre",
    "microns": "micron",
}
_POWERS = {"square": 2, "sq": 2, "cubic": 3, "cu": 3}
_ANGLES: dict[str, tuple[str, float]] = {
    "degree": ("deg", math.pi / 180),
    "degrees": ("deg", math.pi / 180),
    "deg": ("deg", math.pi / 180),
    "radian": ("rad", 1.0),
    "radians": ("rad", 1.0),
    "rad": ("rad", 1.0),
    "grad": ("grad", math.pi / 200),
    "gon": ("grad", math.pi / 200),
    "steradian": ("sr", 1.0),
}
_OTHER: dict[str, tuple[str, float]] = {
    "acre": ("acre", 4046.8564224),
    "litre": ("L", 0.001),
    "liter": ("L", 0.001),
}
_SEPARATORS = re.compile(r"[\s_]+")


def si_unit(prefix: str | None, name: str) -> tuple[str, float | None]:
    """Symbol and SI scale of an SI unit: ``si_unit("MILLI", "METRE") == ("mm", 0.001)``,
    ``si_unit("MILLI", "SQUARE_METRE") == ("mm2", 1e-06)``. Accepts the US spelling (``METER``)."""
    name = name.strip().upper().replace("METER", "METRE")
    symbol, power = _SI_UNITS.get(name, (name.lower(), 1))
    if not prefix:
        return symbol, 1.0 if name in _SI_UNITS else None
    prefix_symbol, multiplier = SI_PREFIXES.get(prefix.strip().upper(), ("", 1.0))
    scale = multiplier**power if name in _SI_UNITS else None
    if name == "GRAM" and scale is not None:
        scale /= 1000.0  # SI's mass unit is the kilogram
    return prefix_symbol + symbol, scale


def named_unit(name: str) -> tuple[str, float | None] | None:
    """Symbol and SI scale of a unit named in words (a conversion-based unit's name): ``"FOOT"`` ->
    ``("ft", 0.3048)``, ``"SQUARE FOOT"`` -> ``("ft2", 0.09290304)``, ``"degrees"`` -> ``("deg", 0.01745…)``.
    None for a name outside the vocabulary."""
    words = _SEPARATORS.sub(" ", name.strip().lower()).split(" ")
    power = 1
    if len(words) > 1 and words[0] in _POWERS:
        power = _POWERS[words[0]]
        words = words[1:]
    word = " ".join(words)
    if power == 1 and word in _ANGLES:
        return _ANGLES[word]
    if power == 1 and word in _OTHER:
        return _OTHER[word]
    length = _LENGTHS.get(_SPELLINGS.get(word, word))
    if length is None:
        return None
    symbol, scale = length
    return (symbol if power == 1 else f"{symbol}{power}"), float(f"{scale**power:.12g}")
