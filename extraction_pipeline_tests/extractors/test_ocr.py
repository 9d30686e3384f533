"""OCR of drawings without a text layer: tiles, de-duplication, rotation, settings, time budget, and the fields
read from drawings whose text exists only as outlines or pixels (built by ``ocr_builders``)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import pytest

from extraction_pipeline.errors import ConfigurationError
from extraction_pipeline.extractors import pdf
from extraction_pipeline.extractors.ocr.config import OcrConfig, OcrMode
from extraction_pipeline.extractors.ocr.engine import RecognizedText, default_engine
from extraction_pipeline.extractors.ocr.reader import OcrLine, detection_scale, read_image, reading_dpi
from extraction_pipeline.extractors.ocr.repair import repair_text
from extraction_pipeline.extractors.ocr.session import OcrSession
from extraction_pipeline.extractors.ocr.tiles import Tile, merge_tiles, place, plan_tiles
from extraction_pipeline.extractors.pdf.glyph_regions import find_glyph_regions
from extraction_pipeline.extractors.pdf.model import Page, PageObjects
from extraction_pipeline.extractors.pdf.ocr import add_ocr_runs, needs_ocr
from extraction_pipeline.extractors.sandbox import ExtractionLimits, Sandbox
from extraction_pipeline.extractors.schema import Bom, DimensionType, ExtractionResult, FileFormat, SourceInfo
from extraction_pipeline_tests.extractors.ocr_builders import (
    Label,
    build_mixed_text_pdf,
    build_outlined_text_pdf,
    build_raster_pdf,
    render_sheet,
)
from extraction_pipeline_tests.extractors.pdf_builders import build_drawing_pdf
from extraction_pipeline_tests.realworld import realworld_path


def source_of(path: Path) -> SourceInfo:
    data = path.read_bytes()
    return SourceInfo(filename=path.name, size=len(data), sha256=hashlib.sha256(data).hexdigest())


def run(path: Path, **options: object) -> ExtractionResult:
    return pdf.extract(path, source_of(path), options)


def line(text: str, box: tuple[float, float, float, float], confidence: float = 0.99) -> RecognizedText:
    x0, y0, x1, y1 = box
    return RecognizedText(text, confidence, ((x0, y0), (x1, y0), (x1, y1), (x0, y1)), 0.0)


# --- tiles ----------------------------------------------------------------------------------------------------
def test_a_36_by_24_inch_sheet_is_cut_into_equal_overlapping_tiles() -> None:
    tiles = plan_tiles(7740, 5160)  # 36 x 24 in at 215 dpi
    assert sorted({(t.x0, t.x1) for t in tiles}) == [(0, 2780), (2480, 5260), (4960, 7740)]
    assert sorted({(t.y0, t.y1) for t in tiles}) == [(0, 2730), (2430, 5160)]
    assert len(tiles) == 6


def test_a_small_page_is_one_tile() -> None:
    assert plan_tiles(2550, 3300) == [Tile(0, 0, 2550, 3300)]  # letter at 300 dpi
    assert plan_tiles(0, 800) == []


def test_large_sheets_are_read_at_a_lower_resolution_under_the_pixel_cap() -> None:
    assert reading_dpi(8.5, 11, 300) == 300.0
    assert reading_dpi(36, 24, 300) == 215.0  # 36 x 24 in at 215 dpi: 39.9 million pixels


LEFT, RIGHT = Tile(0, 0, 1425, 1000), Tile(1125, 0, 2550, 1000)


def test_a_line_inside_the_overlap_is_kept_once() -> None:
    placed = place([line('42"', (100, 500, 200, 540))], RIGHT, 2550, 1000)  # page x 1225..1325
    placed += place([line('42"', (1226, 501, 1324, 539))], LEFT, 2550, 1000)
    assert [(m.text, _box(m)) for m in merge_tiles(placed)] == [('42"', (1225, 500, 1325, 540))]


def test_a_line_cut_by_one_tile_is_taken_whole_from_the_other() -> None:
    placed = place([line("WALL BY G.C", (1200, 300, 1420, 340))], LEFT, 2550, 1000)  # cut at x=1425
    placed += place([line("WALL BY G.C.", (75, 300, 330, 340))], RIGHT, 2550, 1000)  # page 1200..1455
    assert [(m.text, _box(m)) for m in merge_tiles(placed)] == [("WALL BY G.C.", (1200, 300, 1455, 340))]


def test_a_line_longer_than_the_overlap_is_joined_from_both_fragments() -> None:
    placed = place([line("PICK-UP COL", (892, 900, 1420, 985))], LEFT, 2550, 1000)
    placed += place([line("UP COUNTER", (3, 900, 539, 985))], RIGHT, 2550, 1000)  # page 1128..1664
    assert [(m.text, _box(m)) for m in merge_tiles(placed)] == [("PICK-UP COUNTER", (892, 900, 1664, 985))]


def test_fragments_without_shared_characters_are_cut_at_the_middle_of_the_overlap() -> None:
    # 10 evenly spaced characters on each side; the overlap's middle is x = 1275
    placed = place([line("ABCDEFGHIJ", (1025, 100, 1425 - 1, 140))], LEFT, 2550, 1000)  # 40 px per character
    placed += place([line("0123456789", (1, 100, 401, 140))], RIGHT, 2550, 1000)  # page 1126..1526
    (merged,) = merge_tiles(placed)
    assert merged.text == "ABCDEF" + "456789"


def test_a_letter_boxed_again_inside_a_line_is_dropped() -> None:
    placed = place([line("M8x1.25-6H", (1000, 100, 1280, 145)), line("工", (1250, 101, 1279, 144))], LEFT, 9000, 9000)
    assert [m.text for m in merge_tiles(placed)] == ["M8x1.25-6H"]


def _box(recognized: RecognizedText) -> tuple[float, ...]:
    xs, ys = [p[0] for p in recognized.polygon], [p[1] for p in recognized.polygon]
    return (min(xs), min(ys), max(xs), max(ys))


def ocr_line(text: str, box: tuple[float, float, float, float]) -> OcrLine:
    x0, y0, x1, y1 = box
    return OcrLine(text, 0.98, ((x0, y0), (x1, y0), (x1, y1), (x0, y1)), 0.0)


def test_ocr_lines_side_by_side_on_a_baseline_become_one_run_like_text_layer_words() -> None:
    page = Page(1, 792, 612, 0, PageObjects())
    lines = [
        ocr_line("4762", (549.6, 114.8, 572.8, 126.4)),
        ocr_line("ISO", (526.0, 115.2, 543.6, 126.0)),
        ocr_line("4", (548.0, 117.6, 553.2, 123.2)),  # the first digit of 4762 boxed again
        ocr_line("SCREW", (625.6, 114.4, 663.2, 126.8)),  # a cell further right: its own run
        ocr_line("105.50", (100.0, 200.0, 130.0, 212.0)),
        ocr_line("0.20", (129.0, 200.0, 150.0, 212.0)),  # touching boxes, no character shared
    ]
    add_ocr_runs(page, lines)
    assert sorted((r.text, r.x0, r.x1) for r in page.runs) == [
        ("105.50 0.20", 100.0, 150.0),
        ("ISO 4762", 526.0, 572.8),
        ("SCREW", 625.6, 663.2),
    ]
    assert {(r.source, r.confidence) for r in page.runs} == {("ocr", 0.98)} and page.text_from_ocr


# --- repairs and settings -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("read", "repaired"),
    [
        ("105.50土0.20", "105.50±0.20"),
        ("67.20 士 0.20", "67.20±0.20"),
        ("25+-0.1", "25±0.1"),
        ("25 +/- .05", "25±.05"),
        ("KD-10.50.A", "KD-10.50.A"),
        ("65. 0mm", "65.0mm"),
        ("58. Omm", "58.0mm"),
        ("BOARD MUST BE 65x3Omm", "BOARD MUST BE 65x30mm"),
        ("(C) RASPBERRY PI 2O18", "(C) RASPBERRY PI 2018"),
        ("1. CAD MODEL", "1. CAD MODEL"),
        ("NOTE 2. 3 HOLES", "NOTE 2. 3 HOLES"),
        ("ROOM 4O", "ROOM 4O"),
        ("0.062 [01.57]", "0.062 [Ø1.57]"),
        ("012,5 H7", "Ø12,5 H7"),
        ("DATE 01.15.08", "DATE 01.15.08"),
        ("0.5 x 45°", "0.5 x 45°"),
        ("ECN 12-066", "ECN 12-066"),
        ("M8x1.25-6H", "M8x1.25-6H"),
    ],
)
def test_plus_minus_misreads_are_repaired(read: str, repaired: str) -> None:
    assert repair_text(read) == repaired


def test_settings_come_from_the_environment_and_options_override_them() -> None:
    env = {"EXTRACTION_OCR": "always", "EXTRACTION_OCR_DPI": "200", "EXTRACTION_OCR_MAX_PAGES": "3"}
    assert OcrConfig.resolve({}, env) == OcrConfig(OcrMode.ALWAYS, 200, 3, 0.5)
    options = {"ocr": "OFF", "ocr_dpi": "150", "ocr_min_confidence": "0.8"}  # S3 metadata values are strings
    assert OcrConfig.resolve(options, env) == OcrConfig(OcrMode.OFF, 150, 3, 0.8)
    assert OcrConfig.resolve({}, {}) == OcrConfig(OcrMode.AUTO, 300, 20, 0.5)


@pytest.mark.parametrize(
    ("options", "env", "message"),
    [
        ({"ocr": "sometimes"}, {}, "the 'ocr' option must be one of auto, off, always, got 'sometimes'"),
        ({}, {"EXTRACTION_OCR_DPI": "9000"}, "EXTRACTION_OCR_DPI must be between 72 and 600, got '9000'"),
        (
            {"ocr_min_confidence": "high"},
            {},
            "the 'ocr_min_confidence' option must be a number (confidence), got 'high'",
        ),
    ],
)
def test_bad_settings_are_configuration_errors(options: dict, env: dict, message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        OcrConfig.resolve(options, env)
    assert raised.value.message == message


@pytest.mark.parametrize(
    ("chars", "paths", "mode", "expected"),
    [
        (0, 600, OcrMode.AUTO, True),  # a vector plot or a scan
        (40, 9000, OcrMode.AUTO, True),  # a thin text layer under thousands of strokes (sample_09)
        (400, 900, OcrMode.AUTO, False),  # a real text layer
        (0, 600, OcrMode.OFF, False),
        (400, 900, OcrMode.ALWAYS, True),
    ],
)
def test_which_pages_are_read_by_ocr(chars: int, paths: int, mode: OcrMode, expected: bool) -> None:
    page = Page(1, 612, 792, 0, PageObjects(chars=chars, paths=paths))
    assert needs_ocr(page, mode) is expected


# --- time budget ------------------------------------------------------------------------------------------------
class _TimedEngine:
    """The engine interface with a fixed reading and a fixed time per tile (the scheduling is under test)."""

    name = "timed"
    model_versions = {"model": "fixed"}

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0

    def recognize(self, image: np.ndarray, detection_scale: float = 1.0) -> list[RecognizedText]:
        self.calls += 1
        time.sleep(self.seconds)
        return [line(f"TILE {self.calls}", (10, 10, 200, 40))]


def test_a_page_that_cannot_finish_in_time_keeps_the_tiles_read_and_says_so() -> None:
    engine = _TimedEngine(0.4)
    image = np.full((300, 7000), 255, np.uint8)  # three tiles across
    reading = read_image(image, engine, dpi=300, min_confidence=0.5, deadline=time.monotonic() + 0.9)
    assert (reading.tiles_read, reading.tiles_total, reading.complete) == (1, 3, False)
    assert [ln.text for ln in reading.lines] == ["TILE 1"]


class _MemoryHungryEngine(_TimedEngine):
    """Runs out of memory on its second tile, as onnxruntime does on an input too large for the sandbox's cap."""

    def recognize(self, image: np.ndarray, detection_scale: float = 1.0) -> list[RecognizedText]:
        if self.calls == 1:
            raise MemoryError("bad_alloc")
        return super().recognize(image, detection_scale)


def test_a_page_that_runs_out_of_memory_keeps_the_tiles_read_and_the_file_goes_on() -> None:
    session = OcrSession(OcrConfig(), engine=lambda: _MemoryHungryEngine(0.0))
    reading = session.read_image(1, np.full((300, 7000), 255, np.uint8), 300)
    assert reading is not None
    assert (reading.tiles_read, reading.tiles_total, reading.out_of_memory) == (1, 3, True)
    assert [ln.text for ln in reading.lines] == ["TILE 1"]
    assert session.warnings == [
        "page 1: OCR ran out of memory after 1 of 3 tiles (EXTRACTION_MEMORY_LIMIT_BYTES); "
        "text of the rest of the page is missing"
    ]


def test_text_is_located_at_180_dpi_within_the_detector_pixel_cap() -> None:
    assert detection_scale(Tile(0, 0, 2550, 3300), 300) == pytest.approx(0.6)  # letter page: 180 dpi
    assert detection_scale(Tile(0, 0, 2780, 2730), 215) == pytest.approx(0.6493, abs=1e-4)  # 36 x 24 in: the cap
    assert detection_scale(Tile(0, 0, 800, 600), 100) == 1.0  # never enlarged


def test_a_session_reads_at_most_max_pages_and_reports_the_rest() -> None:
    engine = _TimedEngine(0.0)
    session = OcrSession(OcrConfig(max_pages=2), engine=lambda: engine)
    image = np.full((200, 200), 255, np.uint8)
    assert [session.read_image(n, image, 300) is not None for n in (1, 2, 3, 4)] == [True, True, False, False]
    info = session.finish()
    assert info is not None
    assert (info.pages, info.pages_not_read, info.engine, info.mean_confidence) == ([1, 2], [3, 4], "timed", 0.99)
    assert session.warnings == ["OCR read 2 page(s) (EXTRACTION_OCR_MAX_PAGES); pages 3, 4 were not read"]


def test_ocr_past_the_sandbox_deadline_leaves_the_page_unread_and_the_file_completes(tmp_path: Path) -> None:
    outlined = build_outlined_text_pdf(tmp_path / "outlined.pdf")
    with_text = build_drawing_pdf(tmp_path / "text.pdf", drawing_number="DWG-4242")
    with Sandbox(ExtractionLimits(timeout_seconds=60)) as sandbox:
        warm = sandbox.run(FileFormat.PDF, with_text, source_of(with_text), {})  # imports done, no OCR needed
        assert warm.ocr is None and warm.title_block is not None
        # 3 s budget, 2 s of it kept for after OCR: no time for a tile
        result = sandbox.run(FileFormat.PDF, outlined, source_of(outlined), {}, timeout_seconds=3.0)
    assert result.ocr is None
    assert "OCR ran out of time (EXTRACTION_TIMEOUT_SECONDS): pages 1 were not read" in result.warnings
    assert result.text_blocks == []


# --- the engine on rotated text -------------------------------------------------------------------------------
def test_vertical_text_is_read_with_its_direction_and_polygon() -> None:
    sheet = np.asarray(render_sheet())[int(300 / 72 * 300) : int(390 / 72 * 300), : int(130 / 72 * 300)]
    (recognized,) = [r for r in default_engine().recognize(sheet) if "67" in r.text]
    assert (recognized.text, recognized.rotation) == ("67.20±0.20", 90.0)
    (x0, y0), (x1, y1) = recognized.polygon[0], recognized.polygon[1]
    assert x1 == pytest.approx(x0, abs=3) and y1 < y0 - 200  # the text's top-left is at the bottom: read upwards
    upside_down = default_engine().recognize(np.ascontiguousarray(np.rot90(sheet, 2)))
    assert [(r.text, r.rotation) for r in upside_down if "67" in r.text] == [("67.20±0.20", 270.0)]


# --- whole drawings -------------------------------------------------------------------------------------------
EXPECTED_BOM = Bom(
    headers=["ITEM", "PART NO", "DESCRIPTION", "QTY"],
    items=[
        {"ITEM": "1", "PART NO": "BM-2041-01", "DESCRIPTION": "BRACKET", "QTY": "1"},
        {"ITEM": "2", "PART NO": "ISO 4762", "DESCRIPTION": "SCREW", "QTY": "4"},
        {"ITEM": "3", "PART NO": "ISO 7089", "DESCRIPTION": "WASHER", "QTY": "4"},
    ],
    total_items=3,
)


@pytest.fixture(scope="module")
def outlined_result(tmp_path_factory: pytest.TempPathFactory) -> ExtractionResult:
    return run(build_outlined_text_pdf(tmp_path_factory.mktemp("ocr") / "outlined.pdf"))


@pytest.fixture(scope="module")
def raster_result(tmp_path_factory: pytest.TempPathFactory) -> ExtractionResult:
    return run(build_raster_pdf(tmp_path_factory.mktemp("ocr") / "scan.pdf"))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["outlined", "raster"])
def test_a_drawing_without_text_layer_gives_title_block_dimensions_thread_and_bom(
    kind: str, request: pytest.FixtureRequest
) -> None:
    result: ExtractionResult = request.getfixturevalue(f"{kind}_result")
    assert result.metadata["has_text_layer"] is False
    assert result.metadata["pages_text_from_ocr"] == [1]
    assert result.warnings == []
    title = result.title_block
    assert title is not None
    assert (title.drawing_number, title.title, title.revision, title.scale, title.material) == (
        "BM-2041",
        "MOUNTING BRACKET",
        "C",
        "1:2",
        "AL6061-T6",
    )
    toleranced = sorted(
        (d.value, d.tolerance_plus, d.tolerance_minus, d.unit, d.dimension_type) for d in result.dimensions
    )
    assert toleranced == [(67.2, 0.2, 0.2, "mm", DimensionType.LINEAR), (105.5, 0.2, 0.2, "mm", DimensionType.LINEAR)]
    horizontal = next(d for d in result.dimensions if d.value == 105.5)
    assert horizontal.bbox == pytest.approx((140.0, 227.0, 212.0, 239.0), abs=2.5)  # drawn at x 140, baseline 236
    (thread,) = result.threads
    assert (thread.designation, thread.nominal_diameter, thread.pitch) == ("M8x1.25-6H", 8.0, 1.25)
    assert result.bom == EXPECTED_BOM


@pytest.mark.slow
def test_ocr_text_blocks_carry_source_confidence_rotation_and_polygon(outlined_result: ExtractionResult) -> None:
    blocks = {b.text: b for b in outlined_result.text_blocks}
    vertical = blocks["67.20±0.20"]
    assert (vertical.source, vertical.rotation) == ("ocr", 90.0)
    assert vertical.confidence is not None and vertical.confidence >= 0.9
    assert vertical.bbox == pytest.approx(
        (76.0, 314.0, 89.0, 381.0), abs=3
    )  # x 86 - font height .. 86, y 380 - 66 .. 380
    assert vertical.polygon is not None and vertical.polygon[0][1] > vertical.polygon[1][1]  # starts at the bottom
    assert {b.source for b in outlined_result.text_blocks} == {"ocr"}
    assert all(b.polygon is None for b in outlined_result.text_blocks if b.rotation == 0.0)
    ocr = outlined_result.ocr
    assert ocr is not None
    assert (ocr.pages, ocr.engine, ocr.dpi, ocr.pages_not_read) == ([1], "rapidocr-onnxruntime", 300.0, [])
    assert ocr.model_versions == {
        "rapidocr-onnxruntime": "1.4.4",
        "onnxruntime": ocr.model_versions["onnxruntime"],
        "det": "ch_PP-OCRv4_det_infer",
        "cls": "ch_ppocr_mobile_v2.0_cls_infer",
        "rec": "ch_PP-OCRv4_rec_infer",
    }
    assert ocr.mean_confidence is not None and ocr.mean_confidence >= 0.95
    assert [(p.page, p.dpi, p.complete) for p in ocr.page_details] == [(1, 300.0, True)]


def test_ocr_off_leaves_the_page_unread_with_the_no_text_layer_warning(tmp_path: Path) -> None:
    result = run(build_outlined_text_pdf(tmp_path / "outlined.pdf"), ocr="off")
    assert (result.ocr, result.text_blocks, result.title_block) == (None, [], None)
    assert result.warnings[0].startswith("no text layer: page 1 contains only vector graphics")


# --- drawings we did not make ----------------------------------------------------------------------------------
def _realworld(name: str) -> Path:
    return realworld_path("pybase", "pdf", name)


@pytest.mark.realworld
@pytest.mark.slow
def test_sample_02_datacad_plot_title_block_is_read() -> None:
    result = run(_realworld("sample_02.pdf"))
    assert result.title_block is not None
    assert (result.title_block.drawing_number, result.title_block.title, result.title_block.scale) == (
        "KD-10.50.A",
        "SECTION PICK-UP COUNTER",
        "N.T.S.",
    )
    assert {(d.value, d.unit) for d in result.dimensions} >= {(44.0, "in")}


@pytest.mark.realworld
@pytest.mark.slow
def test_sample_08_scan_text_is_positioned_and_its_drawing_number_read() -> None:
    result = run(_realworld("sample_08.pdf"))
    assert result.title_block is not None and result.title_block.drawing_number == "C-1-7"
    blocks = {b.text: b for b in result.text_blocks}
    assert blocks["OUTLINE OF EMPTY RACK"].bbox == pytest.approx((395.5, 163.0, 549.1, 174.2), abs=4)
    assert blocks["DEC 90"].bbox == pytest.approx((340.8, 739.2, 391.2, 753.1), abs=4)
    assert result.ocr is not None and result.ocr.pages == [1]


# --- pages mixing a text layer with glyph-drawn text ---------------------------------------------------------
def test_a_text_layer_page_with_outlined_numbers_has_only_those_regions_read_and_each_line_once(
    tmp_path: Path,
) -> None:
    result = run(build_mixed_text_pdf(tmp_path / "mixed.pdf"))
    assert result.ocr is not None and result.ocr.pages == [1]
    lines = [(line.strip(), block.source) for block in result.text_blocks for line in block.text.splitlines()]
    assert sorted(lines) == [
        ("105.50±0.20", "ocr"),
        ("42.3 MAX", "ocr"),
        ("4X M3x0.5", "ocr"),
        ("67.20±0.20", "ocr"),
        ("FINISH: ANODIZE BLACK", None),
        ("NOTES: BREAK ALL EDGES", None),
    ]
    assert [(d.value, d.tolerance_plus, d.tolerance_minus) for d in result.dimensions if d.value == 105.5] == [
        (105.5, 0.2, 0.2)
    ]
    vertical = next(block for block in result.text_blocks if block.text == "67.20±0.20")
    assert vertical.rotation == 90.0


def test_a_page_with_a_full_text_layer_is_not_read_by_ocr(tmp_path: Path) -> None:
    notes = [Label(f"NOTE {i}: ALL DIMENSIONS IN MILLIMETRES UNLESS STATED", 40, 40 + 14 * i, 9) for i in range(10)]
    result = run(build_mixed_text_pdf(tmp_path / "full.pdf", text_layer=notes, outlined=[]))
    assert result.ocr is None
    assert not any(block.source == "ocr" for block in result.text_blocks)


def test_notes_as_text_and_dimensions_as_outlines_have_the_outlines_read_whatever_the_notes_hold(
    tmp_path: Path,
) -> None:
    notes = [Label(f"NOTE {i}: ALL DIMENSIONS IN MILLIMETRES UNLESS STATED", 40, 40 + 14 * i, 9) for i in range(10)]
    result = run(build_mixed_text_pdf(tmp_path / "mbd.pdf", text_layer=notes))
    assert result.ocr is not None and result.ocr.pages == [1]
    ocr_lines = sorted(block.text for block in result.text_blocks if block.source == "ocr")
    assert ocr_lines == ["105.50±0.20", "42.3 MAX", "4X M3x0.5", "67.20±0.20"]
    text_layer = "\n".join(block.text for block in result.text_blocks if block.source is None)
    assert text_layer.splitlines() == [label.text for label in notes]
    assert [(d.value, d.tolerance_plus, d.tolerance_minus) for d in result.dimensions if d.value == 67.2] == [
        (67.2, 0.2, 0.2)
    ]


def _glyphs(x: float, y: float, widths: list[float], height: float = 8.0) -> list[tuple[tuple, int]]:
    """Letter-sized paths side by side on one baseline (each with a letter's ~8 segments)."""
    boxes, left = [], x
    for width in widths:
        boxes.append(((left, y, left + width, y + height), 8))
        left += width + 1.5
    return boxes


def test_rows_of_glyph_like_paths_outside_the_text_layer_are_regions() -> None:
    digits = [_glyphs(100, 100 + 30 * row, [5.0, 3.0, 5.5, 1.5, 5.0, 4.0]) for row in range(3)]
    regions = find_glyph_regions([p for row in digits for p in row], text=[])
    assert len(regions) == 3
    x0, y0, x1, y1 = regions[0]
    assert x0 < 100 and y0 < 100 and x1 > 130 and y1 > 108


def test_shapes_all_alike_under_text_or_too_few_are_no_glyph_regions() -> None:
    pattern = [p for row in range(4) for p in _glyphs(100, 100 + 12 * row, [4.0] * 10)]  # joists, bricks, pins
    assert find_glyph_regions(pattern, text=[]) == []
    digits = [p for row in range(3) for p in _glyphs(100, 100 + 30 * row, [5.0, 3.0, 5.5, 1.5, 5.0, 4.0])]
    under_text = [(96.0, 96.0 + 30 * row, 150.0, 112.0 + 30 * row) for row in range(3)]
    assert find_glyph_regions(digits, text=under_text) == []
    assert find_glyph_regions(digits[:6], text=[]) == []  # one short row: a few stray shapes


def test_a_line_the_angle_classifier_calls_upside_down_is_read_both_ways_and_the_surer_reading_kept() -> None:
    from extraction_pipeline.extractors.ocr.engine import _second_opinion

    class Recognizer:
        def text_rec(self, crops: list, _: bool) -> tuple[list, float]:
            return [("RASPBERRY PI 2018", 0.94) if crop[0, 0] == 1 else ("2", 0.41) for crop in crops], 0.0

    crops = [np.array([[1, 0], [0, 0]]), np.array([[2, 0], [0, 0]])]  # a wrongly flagged line, a truly turned one
    readings = [("8102 Id ÅƎꓤꓤƎꓭ", 0.31), ("5", 0.97)]
    kept, flipped = _second_opinion(Recognizer(), crops, readings, [True, True])
    assert (kept, flipped) == ([("RASPBERRY PI 2018", 0.94), ("5", 0.97)], [False, True])


def test_a_tall_region_is_also_read_turned_and_its_vertical_line_replaces_the_pieces() -> None:
    from extraction_pipeline.extractors.ocr.reader import _read_tall_both_ways

    class Detector:
        """Reads a 100 x 20 pixel upward line as two pieces standing up, or whole when turned to horizontal."""

        def recognize(self, image: np.ndarray, detection_scale: float = 1.0) -> list[RecognizedText]:
            if image.shape == (100, 20):
                pieces = [
                    ("04mm", ((0, 60), (0, 10), (20, 10), (20, 60)), 90.0),
                    ("5", ((0, 75), (20, 75), (20, 95), (0, 95)), 0.0),
                ]
                return [RecognizedText(text, 0.99, polygon, rotation) for text, polygon, rotation in pieces]
            assert image.shape == (20, 100)  # turned a quarter clockwise: the line reads left to right
            return [RecognizedText("5.04mm", 0.98, ((5, 0), (95, 0), (95, 20), (5, 20)), 0.0)]

    (line,) = _read_tall_both_ways(Detector(), np.zeros((100, 20), dtype=np.uint8), 1.0)  # type: ignore[arg-type]
    assert (line.text, line.rotation) == ("5.04mm", 90.0)
    assert line.polygon == ((0, 95), (0, 5), (20, 5), (20, 95))  # its own top-left is the image's bottom-left
