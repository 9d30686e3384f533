"""Raster uploads (PNG, JPEG, TIFF with several pages): detected by content, read by OCR, completed as rows."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from extraction_pipeline.defs.extraction.partitions import EXTRACTION_PARTITIONS_NAME, partition_key_for
from extraction_pipeline.errors import CorruptFileError, FormatMismatchError
from extraction_pipeline.extractors import detect_format, image
from extraction_pipeline.extractors.schema import FileFormat, SourceInfo
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.store import JobStatus
from extraction_pipeline_tests.extractors.ocr_builders import build_drawing_png, build_multipage_tiff
from extraction_pipeline_tests.extractors.pdf_builders import build_drawing_pdf
from extraction_pipeline_tests.harness import Pipeline


def source_of(path: Path) -> SourceInfo:
    data = path.read_bytes()
    return SourceInfo(filename=path.name, size=len(data), sha256=hashlib.sha256(data).hexdigest())


def write_image(path: Path, size: tuple[int, int], image_format: str, **save: object) -> Path:
    Image.new("L", size, 255).save(path, format=image_format, **save)
    return path


@pytest.mark.parametrize(
    ("name", "image_format"),
    [("a.png", "PNG"), ("b.JPG", "JPEG"), ("c.jpeg", "JPEG"), ("d.tif", "TIFF"), ("e.tiff", "TIFF")],
)
def test_raster_files_are_detected_by_content(tmp_path: Path, name: str, image_format: str) -> None:
    path = write_image(tmp_path / name, (40, 30), image_format)
    assert detect_format(path, name) is FileFormat.IMAGE
    assert detect_format(path, "upload.bin") is FileFormat.IMAGE  # no extension hint needed


def test_an_image_named_pdf_and_a_pdf_named_png_are_mismatches(tmp_path: Path) -> None:
    png = write_image(tmp_path / "scan.pdf", (40, 30), "PNG")
    with pytest.raises(FormatMismatchError, match=r"^scan\.pdf contains image \(PNG, JPEG or TIFF\) data, not PDF"):
        detect_format(png, "scan.pdf")
    drawing = build_drawing_pdf(tmp_path / "drawing.png")
    with pytest.raises(FormatMismatchError, match=r"^drawing\.png contains PDF data, not image .*rename it to \.pdf"):
        detect_format(drawing, "drawing.png")


def test_a_truncated_image_is_a_corrupt_file(tmp_path: Path) -> None:
    whole = write_image(tmp_path / "whole.png", (400, 300), "PNG").read_bytes()
    path = tmp_path / "cut.png"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CorruptFileError, match=r"^cut\.png is a damaged or truncated image"):
        image.extract(path, source_of(path), {"ocr": "off"})


def test_pages_are_placed_at_the_image_resolution_and_ocr_off_says_so(tmp_path: Path) -> None:
    path = tmp_path / "pages.tif"
    first, second = Image.new("L", (1500, 600), 255), Image.new("1", (300, 300), 1)
    first.save(path, format="TIFF", save_all=True, append_images=[second], dpi=(150, 150))
    result = image.extract(path, source_of(path), {"ocr": "off"})
    assert result.format is FileFormat.IMAGE and result.extractor_version == image.VERSION
    assert result.metadata["image_format"] == "TIFF" and result.metadata["page_count"] == 2
    assert [(p["width_px"], p["height_px"], p["dpi"], p["mode"]) for p in result.metadata["pages"]] == [
        (1500, 600, 150.0, "L"),
        (300, 300, 150.0, "1"),
    ]
    assert result.warnings == ["OCR is off (EXTRACTION_OCR or the 'ocr' option): no text was read from the image"]
    assert (result.ocr, result.text_blocks) == (None, [])


def test_a_missing_or_placeholder_dpi_means_300(tmp_path: Path) -> None:
    for name, save in (("none.png", {}), ("placeholder.jpg", {"dpi": (72, 72)})):
        path = write_image(tmp_path / name, (600, 300), "PNG" if name.endswith("png") else "JPEG", **save)
        result = image.extract(path, source_of(path), {"ocr": "off"})
        assert result.metadata["pages"][0]["dpi"] == 300.0


def test_transparent_areas_are_paper_not_ink() -> None:
    frame = Image.new("RGBA", (4, 2), (0, 0, 0, 0))
    frame.putpixel((0, 0), (0, 0, 0, 255))
    assert image._grayscale(frame).tolist() == [[0, 255, 255, 255], [255, 255, 255, 255]]


# --- through the pipeline ---------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the row writes are the same on PostgreSQL
def test_png_and_multipage_tiff_uploads_become_completed_rows(
    pipeline: Pipeline, s3, bucket: str, store, tmp_path: Path
) -> None:
    png, tiff = build_drawing_png(tmp_path / "sheet.png"), build_multipage_tiff(tmp_path / "sheet.tif")
    s3.put_object(Bucket=bucket, Key="scans/sheet.png", Body=png.read_bytes())
    s3.put_object(Bucket=bucket, Key="scans/sheet-2p.TIFF", Body=tiff.read_bytes())
    tick = pipeline.tick()
    assert {r.tags["extraction/format"] for r in tick.run_requests} == {"image"}
    assert all(run.success for run in pipeline.run_requests(tick.run_requests))

    for key, pages in (("scans/sheet.png", [1]), ("scans/sheet-2p.TIFF", [1, 2])):
        row = store.get(f"s3://{bucket}/{key}")
        assert (row.status, row.format) == (JobStatus.COMPLETED, "image")
        assert row.extractor_version == f"image/{image.VERSION}"
        result = row.result
        assert result["ocr"]["pages"] == pages and result["ocr"]["engine"] == "rapidocr-onnxruntime"
        title = result["title_block"]
        assert (title["drawing_number"], title["title"], title["revision"]) == ("BM-2041", "MOUNTING BRACKET", "C")
        assert sorted((d["value"], d["tolerance_plus"]) for d in result["dimensions"]) == [(67.2, 0.2), (105.5, 0.2)]
        assert [t["designation"] for t in result["threads"]] == ["M8x1.25-6H"]
        assert [item["PART NO"] for item in result["bom"]["items"]] == ["BM-2041-01", "ISO 4762", "ISO 7089"]
        assert all(b["source"] == "ocr" and b["confidence"] > 0.5 for b in result["text_blocks"])
    tiff_row = store.get(f"s3://{bucket}/scans/sheet-2p.TIFF")
    second_page = [b["text"] for b in tiff_row.result["text_blocks"] if b["page"] == 2]
    assert second_page == ["NOTE: DEBURR ALL EDGES"]
    partitions = pipeline.instance.get_dynamic_partitions(EXTRACTION_PARTITIONS_NAME)
    assert partition_key_for(ObjectRef(bucket, "scans/sheet.png")) in partitions


def test_grayscale_of_a_palette_image_with_transparency() -> None:
    frame = Image.new("P", (2, 1), 0)
    frame.putpalette([0, 0, 0, 255, 255, 255])
    frame.info["transparency"] = 0
    assert np.array_equal(image._grayscale(frame), np.array([[255, 255]], np.uint8))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_ocr_is_switched_off_per_file_through_s3_metadata(
    pipeline: Pipeline, s3, bucket: str, store, tmp_path: Path
) -> None:
    png = write_image(tmp_path / "blank.png", (600, 400), "PNG")
    s3.put_object(Bucket=bucket, Key="scans/blank.png", Body=png.read_bytes(), Metadata={"extraction-ocr": "off"})
    tick = pipeline.tick()
    assert all(run.success for run in pipeline.run_requests(tick.run_requests))
    row = store.get(f"s3://{bucket}/scans/blank.png")
    assert (row.status, row.format, row.options) == (JobStatus.COMPLETED, "image", {"ocr": "off"})
    assert row.result["warnings"] == [
        "OCR is off (EXTRACTION_OCR or the 'ocr' option): no text was read from the image"
    ]
    assert row.result["ocr"] is None


@pytest.mark.slow
def test_a_sheet_exported_at_screen_resolution_is_read_enlarged(tmp_path: Path) -> None:
    """At 54 dpi the sheet's 11 pt capitals are 6 pixels high: too small for the detector at the image's size
    (it finds none of the dimensions, threads or BOM rows there)."""
    path = build_drawing_png(tmp_path / "screen.png", dpi=54)
    result = image.extract(path, source_of(path), {})
    lines = {line for block in result.text_blocks for line in block.text.splitlines()}
    assert {"105.50±0.20", "67.20±0.20", "M8x1.25-6H", "ISO 4762", "DRAWING NO: BM-2041"} <= lines
    assert sorted((d.value, d.tolerance_plus, d.tolerance_minus) for d in result.dimensions) == [
        (67.2, 0.2, 0.2),
        (105.5, 0.2, 0.2),
    ]
