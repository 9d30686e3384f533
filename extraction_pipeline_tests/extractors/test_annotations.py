"""Table tests for the shared annotation parser: each input against its exact parsed output."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extraction_pipeline.extractors.annotations import (
    normalize_annotation_text,
    parse_annotations,
    parse_dimensions,
    parse_dimensions_with_marks,
    parse_gdt,
    parse_surface_finishes,
    parse_threads,
)
from extraction_pipeline.extractors.schema import DimensionType

D = DimensionType

# text -> (value, unit, tolerance_plus, tolerance_minus, type, fit, label, confidence)
DIMENSION_CASES = [
    ("Ø12.5 ±0.05", (12.5, "mm", 0.05, 0.05, D.DIAMETER, None, "Ø12.5 ±0.05", 1.0)),
    ("12.5 +0.1/-0.05", (12.5, "mm", 0.1, 0.05, D.LINEAR, None, "12.5 +0.1/-0.05", 1.0)),
    ("12.5 +0.1 -0.05", (12.5, "mm", 0.1, 0.05, D.LINEAR, None, "12.5 +0.1 -0.05", 1.0)),
    ("12.5 -0.05/+0.1", (12.5, "mm", 0.1, 0.05, D.LINEAR, None, "12.5 -0.05/+0.1", 1.0)),
    ("Ø12.5 +0/-0.1", (12.5, "mm", 0.0, 0.1, D.DIAMETER, None, "Ø12.5 +0/-0.1", 1.0)),
    ("Ø12.5 0/-0.1", (12.5, "mm", 0.0, 0.1, D.DIAMETER, None, "Ø12.5 0/-0.1", 1.0)),
    ("20 +/-0.2", (20.0, "mm", 0.2, 0.2, D.LINEAR, None, "20 +/-0.2", 1.0)),
    ("12.5 mm ±0.05", (12.5, "mm", 0.05, 0.05, D.LINEAR, None, "12.5 mm ±0.05", 1.0)),
    ("R5", (5.0, "mm", None, None, D.RADIUS, None, "R5", 1.0)),
    ("R 5", (5.0, "mm", None, None, D.RADIUS, None, "R 5", 1.0)),
    ("SR12", (12.0, "mm", None, None, D.RADIUS, None, "SR12", 1.0)),
    # bug 1: a radius callout is its own token ("R5 TYP", "4X R3"), not part of a version, revision or part number
    ("R12.5", (12.5, "mm", None, None, D.RADIUS, None, "R12.5", 1.0)),
    ("4X R3", (3.0, "mm", None, None, D.RADIUS, None, "4X R3", 1.0)),
    ("R5 TYP", (5.0, "mm", None, None, D.RADIUS, None, "R5", 1.0)),
    ("SR10", (10.0, "mm", None, None, D.RADIUS, None, "SR10", 1.0)),
    ("R2mm", (2.0, "mm", None, None, D.RADIUS, None, "R2mm", 1.0)),
    ("R5±0.1", (5.0, "mm", 0.1, 0.1, D.RADIUS, None, "R5±0.1", 1.0)),
    ("ALL FILLETS R3", (3.0, "mm", None, None, D.RADIUS, None, "R3", 1.0)),
    ("(R5)", (5.0, "mm", None, None, D.RADIUS, None, "R5", 1.0)),
    ("45°", (45.0, "deg", None, None, D.ANGULAR, None, "45°", 1.0)),
    ("45° ±0.5°", (45.0, "deg", 0.5, 0.5, D.ANGULAR, None, "45° ±0.5°", 1.0)),
    ("30°15'", (30.25, "deg", None, None, D.ANGULAR, None, "30°15'", 1.0)),
    # bug 3: degrees-minutes-seconds is one angle; the " after the minutes is the seconds mark, not inches
    ("12°30'", (12.5, "deg", None, None, D.ANGULAR, None, "12°30'", 1.0)),
    ("Angle: 45° 30' 15\"", (45.504167, "deg", None, None, D.ANGULAR, None, "45° 30' 15\"", 1.0)),
    ("45°30'15''", (45.504167, "deg", None, None, D.ANGULAR, None, "45°30'15''", 1.0)),
    ("45° 30′ 15″", (45.504167, "deg", None, None, D.ANGULAR, None, '45° 30′ 15"', 1.0)),
    ("12°30'15.5\"", (12.504306, "deg", None, None, D.ANGULAR, None, "12°30'15.5\"", 1.0)),
    ("45° 75'", (45.0, "deg", None, None, D.ANGULAR, None, "45°", 1.0)),
    # bug 2: a chamfer "2x45°" gives its angle only; the "x" is never read as a fit
    ("2x45°", (45.0, "deg", None, None, D.ANGULAR, None, "45°", 1.0)),
    ("0.5 x 45°", (45.0, "deg", None, None, D.ANGULAR, None, "45°", 1.0)),
    ('2.50"', (2.5, "in", None, None, D.LINEAR, None, '2.50"', 1.0)),
    ("1.25 in", (1.25, "in", None, None, D.LINEAR, None, "1.25 in", 1.0)),
    ('2.500 ±.005"', (2.5, "in", 0.005, 0.005, D.LINEAR, None, '2.500 ±.005"', 1.0)),
    ("3.5 m", (3.5, "m", None, None, D.LINEAR, None, "3.5 m", 1.0)),
    ("%%c10", (10.0, "mm", None, None, D.DIAMETER, None, "Ø10", 1.0)),
    ("30%%d", (30.0, "deg", None, None, D.ANGULAR, None, "30°", 1.0)),
    ("20 %%p0.1", (20.0, "mm", 0.1, 0.1, D.LINEAR, None, "20 ±0.1", 1.0)),
    ("⌀8", (8.0, "mm", None, None, D.DIAMETER, None, "Ø8", 1.0)),
    ("12 DIA", (12.0, "mm", None, None, D.DIAMETER, None, "12 DIA", 1.0)),
    ("Ø20 H7/g6", (20.0, "mm", None, None, D.DIAMETER, "H7/g6", "Ø20 H7/g6", 1.0)),
    ("Ø20H7", (20.0, "mm", None, None, D.DIAMETER, "H7", "Ø20H7", 1.0)),
    ("Ø12 m6", (12.0, "mm", None, None, D.DIAMETER, "m6", "Ø12 m6", 1.0)),
    ("Ø20 M7", (20.0, "mm", None, None, D.DIAMETER, "M7", "Ø20 M7", 1.0)),
    ("Ø20 js6", (20.0, "mm", None, None, D.DIAMETER, "js6", "Ø20 js6", 1.0)),
    ("Ø20 H8/x7", (20.0, "mm", None, None, D.DIAMETER, "H8/x7", "Ø20 H8/x7", 1.0)),
    ("Ø6x8", (6.0, "mm", None, None, D.DIAMETER, None, "Ø6", 1.0)),
    ("Ø20 H7.5", (20.0, "mm", None, None, D.DIAMETER, None, "Ø20", 1.0)),
    ("4X Ø6.6 THRU", (6.6, "mm", None, None, D.DIAMETER, None, "4X Ø6.6", 1.0)),
    ("25", (25.0, "mm", None, None, D.LINEAR, None, "25", 0.6)),
    ("(25)", (25.0, "mm", None, None, D.LINEAR, None, "25", 0.6)),
    ("12,5", (12.5, "mm", None, None, D.LINEAR, None, "12,5", 0.6)),
    # tolerances in the notations drawings print
    ("24±1", (24.0, "mm", 1.0, 1.0, D.LINEAR, None, "24±1", 1.0)),
    ("22 0/-0.052", (22.0, "mm", 0.0, 0.052, D.LINEAR, None, "22 0/-0.052", 1.0)),
    ("16 +0/-0,15", (16.0, "mm", 0.0, 0.15, D.LINEAR, None, "16 +0/-0,15", 1.0)),
    ("Ø6 +0,2/+0", (6.0, "mm", 0.2, 0.0, D.DIAMETER, None, "Ø6 +0,2/+0", 1.0)),
    ("820 (+5 -0)", (820.0, "mm", 5.0, 0.0, D.LINEAR, None, "820 (+5 -0)", 1.0)),
    ("820 (-0 +5mm)", (820.0, "mm", 5.0, 0.0, D.LINEAR, None, "820 (-0 +5mm)", 1.0)),
    ("Ø12 h11", (12.0, "mm", None, None, D.DIAMETER, "h11", "Ø12 h11", 1.0)),
    ("10 P9", (10.0, "mm", None, None, D.LINEAR, "P9", "10 P9", 1.0)),
    ("12.00-12.05", (12.0, "mm", 0.05, 0.0, D.LINEAR, None, "12.00-12.05", 1.0)),
    ("12.00–12.05", (12.0, "mm", 0.05, 0.0, D.LINEAR, None, "12.00-12.05", 1.0)),
    ("7,50", (7.5, "mm", None, None, D.LINEAR, None, "7,50", 0.6)),
    # inch with mm in brackets: one entry, its unit from the 25.4 ratio
    (".650 [16.50]", (0.65, "in", None, None, D.LINEAR, None, ".650 [16.50]", 1.0)),
    (".650±.010 [16.50±0.25]", (0.65, "in", 0.01, 0.01, D.LINEAR, None, ".650±.010 [16.50±0.25]", 1.0)),
    ("16.50 [.650]", (16.5, "mm", None, None, D.LINEAR, None, "16.50 [.650]", 1.0)),
    # fractions and feet-inch: the value in inches
    ("23 1/8", (23.125, "mm", None, None, D.LINEAR, None, "23 1/8", 0.6)),
    ('9 11/16"', (9.6875, "in", None, None, D.LINEAR, None, '9 11/16"', 1.0)),
    ('5/8"', (0.625, "in", None, None, D.LINEAR, None, '5/8"', 1.0)),
    ("10' - 8\"", (128.0, "in", None, None, D.LINEAR, None, "10' - 8\"", 1.0)),
    ("3'-4 1/2\"", (40.5, "in", None, None, D.LINEAR, None, "3'-4 1/2\"", 1.0)),
    ("2' - 10 1/4\" (FIELD VERIFY)", (34.25, "in", None, None, D.LINEAR, None, "2' - 10 1/4\"", 1.0)),
    ("4'-0\"", (48.0, "in", None, None, D.LINEAR, None, "4'-0\"", 1.0)),
    ("24.6'", (24.6, "ft", None, None, D.LINEAR, None, "24.6'", 1.0)),
    # a scan's feet-inch with a typographic, misread or lost inch mark
    ("20' - 3”", (243.0, "in", None, None, D.LINEAR, None, "20' - 3\"", 1.0)),
    ("19' - 8'", (236.0, "in", None, None, D.LINEAR, None, "19' - 8'", 1.0)),
    ("20' - 0", (240.0, "in", None, None, D.LINEAR, None, "20' - 0", 1.0)),
    # one-sided limits
    ("48MAX", (48.0, "mm", None, None, D.LINEAR, None, "48MAX", 1.0)),
    ("42.3 Max.", (42.3, "mm", None, None, D.LINEAR, None, "42.3 Max.", 1.0)),
]


@pytest.mark.parametrize(("text", "expected"), DIMENSION_CASES, ids=[c[0] for c in DIMENSION_CASES])
def test_parse_dimensions_reads_value_unit_tolerance_type_and_fit(text: str, expected: tuple) -> None:
    [dimension] = parse_dimensions(text)
    got = (
        dimension.value,
        dimension.unit,
        dimension.tolerance_plus,
        dimension.tolerance_minus,
        dimension.dimension_type,
        dimension.fit,
        dimension.label,
        dimension.confidence,
    )
    assert got == expected


NOT_DIMENSIONS = [
    "SHEET 1 OF 2",
    "2024-01-15",
    "12.03.2024",
    "DATE 2024/01/15",
    "SCALE 1:2",
    "1:2",
    "AB-1234",
    "PART NO 12345",
    "12345",
    "2024",
    "007",
    "REV 2",
    "A3",
    "ISO 2768-mK",
    "M8x1.25",
    "1/4-20 UNC",
    "Ra 1.6",
    "⌖ Ø0.05 A B C",
    "0",
    # bug 1: "R" + number inside a version, revision or part number
    "DXF R2013 Format",
    "DXF R12",
    "AutoCAD R14",
    "REV R12",
    "Rev: R12",
    "PART R2013-A",
    "R12B",
    "BOXR5",
    # bug 2: sizes "a x b" have no mark (and "x1" is no ISO 286 fit)
    "1.0x1.0",
    "0.5x0.5",
    "20x30",
    "20X7",
    "1.0X1.0",
    # scale notes, sheet fractions, dates and ranges of integers
    '1/4" = 1\'-0"',
    "1\" = 50'",
    'SCALE: 3/16" = 1\'-0"',
    "SHEET 1/2",
    "1/2",
    '2/4"',
    "2014-12-11",
    "1.5-2.5",
    "[16.50]",
    # a rating's spread in percent, zero lengths
    "1.65±10%",
    "2.3 ± 20 %",
    "0'",
    "MAXIMUM 5",
]


@pytest.mark.parametrize("text", NOT_DIMENSIONS)
def test_parse_dimensions_ignores_numbers_that_are_not_dimensions(text: str) -> None:
    assert parse_dimensions(text) == []


def test_parse_dimensions_finds_several_and_keeps_position() -> None:
    dims = parse_dimensions("2X R5 AND 45° CHAMFER", page=3, layer="DIM", bbox=(1.0, 2.0, 3.0, 4.0))
    assert [(d.value, d.dimension_type, d.label) for d in dims] == [
        (5.0, D.RADIUS, "2X R5"),
        (45.0, D.ANGULAR, "45°"),
    ]
    assert {(d.page, d.layer, d.bbox) for d in dims} == {(3, "DIM", (1.0, 2.0, 3.0, 4.0))}


def test_parse_dimensions_reads_dms_angle_and_following_dimension_apart() -> None:
    dims = parse_dimensions("N 45° 30' E  100.00m")
    assert [(d.value, d.unit, d.dimension_type, d.label) for d in dims] == [
        (45.5, "deg", D.ANGULAR, "45° 30'"),
        (100.0, "m", D.LINEAR, "100.00m"),
    ]


def test_parse_dimensions_default_unit_applies_only_without_written_unit() -> None:
    assert [d.unit for d in parse_dimensions("Ø0.5", default_unit="in")] == ["in"]
    assert [d.unit for d in parse_dimensions("12 mm", default_unit="in")] == ["mm"]


# text -> (designation, standard, nominal_diameter, pitch, threads_per_inch, unit)
THREAD_CASES = [
    ("M8x1.25", ("M8x1.25", "ISO metric", 8.0, 1.25, None, "mm")),
    ("M8 x 1", ("M8 x 1", "ISO metric", 8.0, 1.0, None, "mm")),
    ("M10", ("M10", "ISO metric", 10.0, 1.5, None, "mm")),
    ("M3", ("M3", "ISO metric", 3.0, 0.5, None, "mm")),
    ("M24", ("M24", "ISO metric", 24.0, 3.0, None, "mm")),
    ("M9", ("M9", "ISO metric", 9.0, None, None, "mm")),
    ("M8x1.25-6H", ("M8x1.25-6H", "ISO metric", 8.0, 1.25, None, "mm")),
    ("DIN 912 M8x20", ("M8x20", "ISO metric", 8.0, 1.25, None, "mm")),
    ("Tr16x4", ("Tr16x4", "ISO metric trapezoidal", 16.0, 4.0, None, "mm")),
    ("1/4-20 UNC", ("1/4-20 UNC", "UNC", 0.25, None, 20.0, "in")),
    ('1/4"-18 NPT', ('1/4"-18 NPT', "NPT", 0.25, None, 18.0, "in")),
    ("#10-32 UNF", ("#10-32 UNF", "UNF", 0.19, None, 32.0, "in")),
    ("10-32 UNF", ("10-32 UNF", "UNF", 0.19, None, 32.0, "in")),
    ("#4-40 UNC", ("#4-40 UNC", "UNC", 0.112, None, 40.0, "in")),
    ("1-8 UNC", ("1-8 UNC", "UNC", 1.0, None, 8.0, "in")),
    ("1 1/2-6 UNC-2A", ("1 1/2-6 UNC-2A", "UNC", 1.5, None, 6.0, "in")),
    ("3/8-24UNF-2B", ("3/8-24UNF-2B", "UNF", 0.375, None, 24.0, "in")),
]


@pytest.mark.parametrize(("text", "expected"), THREAD_CASES, ids=[c[0] for c in THREAD_CASES])
def test_parse_threads(text: str, expected: tuple) -> None:
    [thread] = parse_threads(text)
    got = (
        thread.designation,
        thread.standard,
        thread.nominal_diameter,
        thread.pitch,
        thread.threads_per_inch,
        thread.unit,
    )
    assert got == expected


@pytest.mark.parametrize("text", ["ITEM 8", "Ø20 M7", "ASM12", "M12345", "SHEET 1 OF 2"])
def test_parse_threads_ignores_non_threads(text: str) -> None:
    assert parse_threads(text) == []


FINISH_CASES = [
    ("Ra 1.6", ("Ra", 1.6, "um")),
    ("Ra1.6", ("Ra", 1.6, "um")),
    ("Rz 6.3", ("Rz", 6.3, "um")),
    ("RA 3.2", ("Ra", 3.2, "um")),
    ("Ra=0.8 µm", ("Ra", 0.8, "um")),
    ("Ra 32 µin", ("Ra", 32.0, "uin")),
    ("Rmax 12.5", ("Rmax", 12.5, "um")),
]


@pytest.mark.parametrize(("text", "expected"), FINISH_CASES, ids=[c[0] for c in FINISH_CASES])
def test_parse_surface_finishes(text: str, expected: tuple) -> None:
    [finish] = parse_surface_finishes(text)
    assert (finish.parameter, finish.value, finish.unit) == expected


@pytest.mark.parametrize("text", ["R5", "RADIUS 4", "DRAWN 1.6", "Ra"])
def test_parse_surface_finishes_ignores_non_roughness(text: str) -> None:
    assert parse_surface_finishes(text) == []


GDT_CASES = [
    ("⌖ Ø0.05 Ⓜ A B C", ("position", 0.05, ["A", "B", "C"], "⌖ Ø0.05 Ⓜ A B C")),
    ("⏥ 0.02", ("flatness", 0.02, [], "⏥ 0.02")),
    ("|⊥|0.1|A|", ("perpendicularity", 0.1, ["A"], "⊥|0.1|A|")),
    ("◎ Ø0.03 A", ("concentricity", 0.03, ["A"], "◎ Ø0.03 A")),
    ("⌯ 0.1 A", ("symmetry", 0.1, ["A"], "⌯ 0.1 A")),
    ("⌭ 0.01", ("cylindricity", 0.01, [], "⌭ 0.01")),
    ("FLATNESS 0.02", ("flatness", 0.02, [], "FLATNESS 0.02")),
    ("FLATNESS 0.02 ALL OVER", ("flatness", 0.02, [], "FLATNESS 0.02")),
    ("POSITION Ø0.1 A-B C", ("position", 0.1, ["A-B", "C"], "POSITION Ø0.1 A-B C")),
    ("True Position 0.2 (M) A B", ("position", 0.2, ["A", "B"], "True Position 0.2 (M) A B")),
    ("TOTAL RUNOUT 0.05 A", ("total runout", 0.05, ["A"], "TOTAL RUNOUT 0.05 A")),
    ("{\\Fgdt;j}%%v{\\Fgdt;n}0.05{\\Fgdt;m}%%vA%%vB", ("position", 0.05, ["A", "B"], "⌖|Ø0.05Ⓜ|A|B")),
]


@pytest.mark.parametrize(("text", "expected"), GDT_CASES, ids=[c[0] for c in GDT_CASES])
def test_parse_gdt(text: str, expected: tuple) -> None:
    [callout] = parse_gdt(text)
    assert (callout.characteristic, callout.tolerance, callout.datums, callout.text) == expected


@pytest.mark.parametrize("text", ["POSITION", "FLATNESS OF PART", "⌖"])
def test_parse_gdt_needs_a_tolerance(text: str) -> None:
    assert parse_gdt(text) == []


def test_normalize_annotation_text_decodes_cad_codes_and_lookalikes() -> None:
    assert normalize_annotation_text("%%C12 %%P0.1 45%%D \\U+2205 5 ∅6 10\u221220") == "Ø12 ±0.1 45° Ø 5 Ø6 10-20"


def test_parse_annotations_splits_a_mixed_callout() -> None:
    found = parse_annotations("4X M8x1.25 THRU, Ø20 H7/g6, Ra 1.6, ⏥ 0.02", page=2)
    assert [(d.value, d.fit) for d in found.dimensions] == [(20.0, "H7/g6")]
    assert [t.designation for t in found.threads] == ["M8x1.25"]
    assert [(s.parameter, s.value) for s in found.surface_finishes] == [("Ra", 1.6)]
    assert [(g.characteristic, g.tolerance) for g in found.gdt] == [("flatness", 0.02)]
    assert {x.page for x in [*found.dimensions, *found.threads, *found.surface_finishes, *found.gdt]} == {2}


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789.,+-±/ØRMx°'\" :|()#ABHgUNCa⌖⏥")), max_size=40))
def test_parse_annotations_never_raises_and_keeps_magnitudes_positive(text: str) -> None:
    found = parse_annotations(text)
    for dimension in found.dimensions:
        assert dimension.value > 0
        assert dimension.tolerance_minus is None or dimension.tolerance_minus >= 0
        assert dimension.label and dimension.label in " ".join(normalize_annotation_text(text).split())


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("804,006 mm", [804006.0]),  # a thousands separator, not a decimal comma
        ("1,221.5 mm", [1221.5]),
        ("12,5 mm", [12.5]),  # a decimal comma
        ("0,125", [0.125]),
        ("804,006", []),  # bare and six digits: a count, not a dimension
        ("About 3 in 100 needed a seal", []),  # "in" before a word or number is a preposition, not inches
        ("3 in", [3.0]),
    ],
)
def test_thousands_separators_are_not_decimal_commas(text: str, values: list[float]) -> None:
    assert [d.value for d in parse_dimensions(text)] == values


def test_marks_say_what_evidence_a_dimension_has() -> None:
    marked = parse_dimensions_with_marks("4X Ø6.6 H7 ±0.05 mm R18 25")
    assert [(d.label, sorted(marks)) for d, marks in marked] == [
        ("4X Ø6.6 H7 ±0.05 mm", ["count", "diameter", "fit", "tolerance", "unit"]),
        ("R18", ["radius"]),
    ]
    assert [(d.label, marks) for d, marks in parse_dimensions_with_marks("25")] == [("25", frozenset())]


def test_a_text_override_with_a_degree_notation_keeps_minutes_apart_from_feet() -> None:
    [angle] = parse_dimensions("45° 30'")
    assert (angle.value, angle.unit) == (45.5, "deg")


def test_the_printed_form_is_kept_in_text() -> None:
    [dimension] = parse_dimensions("Ø73.64 +0.1/-0.05")
    assert dimension.text == "Ø73.64 +0.1/-0.05"
    assert (dimension.value, dimension.tolerance_plus, dimension.tolerance_minus) == (73.64, 0.1, 0.05)
