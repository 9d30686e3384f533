"""Raster uploads (PNG, JPEG, TIFF including multi-page TIFF): every page read by OCR into the drawing result.

A scanned or exported drawing has no text layer at all, so each page (TIFF frame) goes through the same OCR as
a PDF page without one (``extractors/ocr``), and its lines become runs that flow through the PDF extractor's
stages: text blocks, unruled tables, title block, dimensions, threads and BOM. Nothing here is image-specific
beyond opening the file.

Coordinates are points (1/72 in), top-left origin, at the image's own resolution (its DPI tag, or 300 dpi when
it states none or an implausible one), so a scan at 300 dpi and its PDF print give the same numbers.
``metadata`` says ``image_format``, ``page_count`` and, per page, the pixel size, DPI and colour mode.

``EXTRACTION_OCR=off`` (or the ``ocr`` option) leaves nothing to read: the result is completed with a warning.
Options: ``ocr``, ``ocr_dpi`` (unused: images are read at their own resolution), ``ocr_max_pages``,
``ocr_min_confidence``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from extraction_pipeline.errors import CorruptFileError, FileTooLargeError
from extraction_pipeline.extractors.ocr.config import OcrConfig, OcrMode
from extraction_pipeline.extractors.ocr.session import OcrSession
from extraction_pipeline.extractors.pdf.drawing import drawing_result
from extraction_pipeline.extractors.pdf.model import Page, PageObjects
from extraction_pipeline.extractors.pdf.ocr import add_ocr_runs
from extraction_pipeline.extractors.pdf.tables import add_text_tables
from extraction_pipeline.extractors.schema import ExtractionResult, FileFormat, SourceInfo

VERSION = "1.0.0"

DEFAULT_DPI = 300.0
_PLAUSIBLE_DPI = (100.0, 2400.0)
"""A DPI tag outside this range is a placeholder (72 is many encoders' default), not the scan's resolution."""
MAX_IMAGE_PIXELS = 400_000_000
"""Pillow refuses larger frames (a decompression bomb); a 48 x 36 in sheet at 600 dpi is 622 million."""
_POINTS_PER_INCH = 72.0
_OCR_OFF_WARNING = "OCR is off (EXTRACTION_OCR or the 'ocr' option): no text was read from the image"


def extract(path: Path, source: SourceInfo, options: Mapping[str, Any]) -> ExtractionResult:
    config = OcrConfig.resolve(options)
    session = OcrSession.for_sandbox_request(config)
    pages: list[Page] = []
    page_info: list[dict[str, Any]] = []
    with _open_image(path, source) as image:
        image_format = image.format
        for number, frame in enumerate(_frames(image, source), start=1):
            dpi = _frame_dpi(frame)
            points = _POINTS_PER_INCH / dpi
            page = Page(number, frame.width * points, frame.height * points, 0, PageObjects())
            page_info.append(
                {"page": number, "width_px": frame.width, "height_px": frame.height, "dpi": dpi, "mode": frame.mode}
            )
            if config.mode is not OcrMode.OFF:
                reading = session.read_image(number, _grayscale(frame), dpi)
                if reading is not None:
                    add_ocr_runs(page, reading.lines)
            pages.append(page)
    warnings = [] if config.mode is not OcrMode.OFF else [_OCR_OFF_WARNING]
    ocr = session.finish()
    metadata = {"image_format": image_format, "page_count": len(pages), "pages": page_info, "page_size_unit": "pt"}
    for page in pages:
        add_text_tables(page)
    result = drawing_result(
        source,
        pages,
        file_format=FileFormat.IMAGE,
        version=VERSION,
        warnings=warnings + session.warnings,
        metadata_for=lambda unit, title_page: {**metadata, "default_unit": unit, "title_block_page": title_page},
    )
    result.ocr = ocr
    return result


@contextmanager
def _open_image(path: Path, source: SourceInfo) -> Iterator[Image.Image]:
    """Pillow's image, with its errors turned into typed ones and its bomb limit set to ours."""
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        image = Image.open(path)
    except Image.DecompressionBombError as error:
        raise FileTooLargeError(_too_large(source, error)) from error
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise CorruptFileError(f"{source.filename} is not a readable image: {error}") from error
    with image:
        yield image


def _frames(image: Image.Image, source: SourceInfo) -> Iterator[Image.Image]:
    """Each page (TIFF frame; one for PNG/JPEG), decoded one at a time so memory is one frame's."""
    try:
        for frame in ImageSequence.Iterator(image):
            frame.load()
            yield frame
    except Image.DecompressionBombError as error:
        raise FileTooLargeError(_too_large(source, error)) from error
    except (OSError, ValueError, SyntaxError) as error:
        raise CorruptFileError(f"{source.filename} is a damaged or truncated image: {error}") from error


def _too_large(source: SourceInfo, error: Exception) -> str:
    return f"{source.filename} is too large an image to read (over {MAX_IMAGE_PIXELS:,} pixels): {error}"


def _frame_dpi(frame: Image.Image) -> float:
    dpi = frame.info.get("dpi")
    try:
        value = float(dpi[0]) if isinstance(dpi, tuple) else float(dpi)
    except (TypeError, ValueError, IndexError):
        return DEFAULT_DPI
    low, high = _PLAUSIBLE_DPI
    return round(value, 2) if low <= value <= high else DEFAULT_DPI


def _grayscale(frame: Image.Image) -> np.ndarray:
    """8-bit grayscale; transparency over white (a transparent PNG's empty areas are paper, not ink)."""
    if frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
        rgba = frame.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("L"))
    return np.asarray(frame.convert("L"))
