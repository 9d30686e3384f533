"""The OCR engine interface and its RapidOCR implementation (PP-OCRv4 ONNX models run by onnxruntime).

An engine takes one image (a tile of a page, at most a few thousand pixels a side) and returns the text lines
it reads, each with its 4-point polygon in the image's pixels, its confidence and its reading direction.
Everything else (rendering, tiling, coordinates, settings) is engine-independent and lives beside it.

RapidOCR's models ship inside its wheel: nothing is downloaded at run time. Its pipeline is run stage by stage
(detection, angle classification, recognition) rather than through ``RapidOCR.__call__`` because the angle
classifier's verdict (is this crop upside down?) is what tells a line read bottom-to-top from one read
top-to-bottom, and ``__call__`` drops it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from extraction_pipeline import settings

Point = tuple[float, float]


@dataclass(frozen=True)
class RecognizedText:
    """One line of text in image pixels (top-left origin, y down)."""

    text: str
    confidence: float
    polygon: tuple[Point, Point, Point, Point]
    """The text's own top-left, top-right, bottom-right and bottom-left corners, in that order."""
    rotation: float
    """Reading direction in degrees counter-clockwise from left-to-right (90: read bottom to top)."""


class OcrEngine(Protocol):
    name: str
    model_versions: dict[str, str]

    def recognize(self, image: np.ndarray, detection_scale: float = 1.0) -> list[RecognizedText]:
        """The lines of text in ``image`` (2-D grayscale or H x W x 3 BGR, uint8); text is located on the image
        scaled by ``detection_scale`` (< 1 for speed; > 1 when its letters are too small to be found) and read
        at its own resolution."""
        ...


_MIN_DETECTION_SIDE = 32
MAX_DETECTION_SCALE = 3.0
# The angle classifier must be this sure before a crop counts as upside down (RapidOCR's own threshold).
_UPSIDE_DOWN_SCORE = 0.9
# RapidOCR turns a crop at least this much taller than wide by 90 degrees before reading it.
_TALL_RATIO = 1.5


class RapidOcrEngine:
    """RapidOCR with bounded threads; build once per process (``default_engine``): loading takes ~1 s."""

    name = "rapidocr-onnxruntime"

    def __init__(self, threads: int = settings.DEFAULT_OCR_THREADS) -> None:
        import cv2
        from rapidocr_onnxruntime import RapidOCR

        cv2.setNumThreads(threads)
        self._ocr = RapidOCR(
            intra_op_num_threads=threads,
            inter_op_num_threads=1,
            # "min" with a tiny limit: the detector takes the image at the size it is given (recognize scales it)
            det_limit_type="min",
            det_limit_side_len=_MIN_DETECTION_SIDE,
            text_score=0.0,  # confidence is filtered by the caller (EXTRACTION_OCR_MIN_CONFIDENCE)
        )
        self.model_versions = _model_versions()

    def recognize(self, image: np.ndarray, detection_scale: float = 1.0) -> list[RecognizedText]:
        ocr = self._ocr
        bgr = ocr.load_img(image)
        try:
            boxes = _located(ocr, bgr, min(detection_scale, MAX_DETECTION_SCALE))
        except Exception as error:  # onnxruntime reports an allocation failure as its own RuntimeException
            if "bad_alloc" in str(error):
                raise MemoryError(f"OCR text detection: {error}") from error
            raise
        if boxes is None or len(boxes) == 0:
            return []
        boxes = ocr.sorted_boxes(boxes)
        crops = ocr.get_crop_img_list(bgr, boxes)
        _, angles, _ = ocr.text_cls(crops)
        flipped = [_is_upside_down(angle) for angle in angles]
        readings, _ = ocr.text_rec([_upright(crop, flip) for crop, flip in zip(crops, flipped, strict=True)], False)
        readings, flipped = _second_opinion(ocr, crops, readings, flipped)
        lines = []
        for box, flip, reading in zip(boxes, flipped, readings, strict=True):
            text, score = str(reading[0]).strip(), float(reading[1])
            if text:
                polygon, rotation = _reading_polygon(np.asarray(box, dtype=float), text, flip)
                lines.append(RecognizedText(text, round(score, 4), polygon, rotation))
        return lines


def _located(ocr: Any, bgr: np.ndarray, scale: float) -> np.ndarray | None:
    """Text boxes found on ``bgr`` scaled by ``scale``, in ``bgr``'s own pixels."""
    import cv2

    if abs(scale - 1.0) < 0.001:
        boxes, _ = ocr.text_det(bgr)
        return boxes
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
    smaller = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=interpolation)
    boxes, _ = ocr.text_det(smaller)
    if boxes is None or len(boxes) == 0:
        return None
    return np.asarray(boxes, dtype=np.float32) / np.float32(scale)


def _is_upside_down(angle: Any) -> bool:
    label, score = angle
    return "180" in str(label) and float(score) > _UPSIDE_DOWN_SCORE


def _upright(crop: np.ndarray, upside_down: bool) -> np.ndarray:
    """The crop as the recognizer must see it (what ``TextClassifier`` would have returned)."""
    return np.ascontiguousarray(np.rot90(crop, 2)) if upside_down else crop


_SURE_READING = 0.9
"""A turned crop read at least this confidently was turned rightly: it is not read the other way (time)."""


def _second_opinion(ocr: Any, crops: list[np.ndarray], readings: list, flipped: list[bool]) -> tuple[list, list[bool]]:
    """Crops the angle classifier called upside down read the other way too; the more confident reading wins.

    The classifier sees a crop squeezed to 192 x 48 pixels: on a long line it sometimes calls upright text upside
    down (with 0.98 confidence), and the turned crop then reads as garbage that the confidence filter drops.
    Only crops whose turned reading is unsure are read again."""
    turned = [index for index, flip in enumerate(flipped) if flip and float(readings[index][1]) < _SURE_READING]
    if not turned:
        return readings, flipped
    others, _ = ocr.text_rec([crops[index] for index in turned], False)
    readings, flipped = list(readings), list(flipped)
    for index, other in zip(turned, others, strict=True):
        if float(other[1]) > float(readings[index][1]):
            readings[index], flipped[index] = other, False
    return readings, flipped


def _reading_polygon(box: np.ndarray, text: str, upside_down: bool) -> tuple[tuple[Point, Point, Point, Point], float]:
    """Reorder the detector's clockwise box (image top-left first) so it starts at the text's own top-left.

    RapidOCR reads a crop clearly taller than wide after turning it 90 degrees counter-clockwise: text running
    top to bottom comes out upright (rotation 270), text running bottom to top upside down, which the angle
    classifier then flags (rotation 90). A short text in a tall box (a lone ``1``) is upright text, not turned.
    """
    width = max(np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[2] - box[3]))
    height = max(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2]))
    turned = height >= _TALL_RATIO * max(width, 1.0) and _char_aspect(height, width, text) <= _char_aspect(
        width, height, text
    )
    start = 1 if turned else 0  # the text's own top-left corner
    if upside_down:
        start = (start + 2) % 4
    corners = [box[(start + i) % 4] for i in range(4)]
    dx, dy = corners[1][0] - corners[0][0], corners[1][1] - corners[0][1]
    polygon = tuple((round(float(x), 2), round(float(y), 2)) for x, y in corners)
    return polygon, _snapped(math.degrees(math.atan2(-dy, dx)))  # type: ignore[return-value]


_SNAP_DEGREES = 2.0
"""A detector box's angle within this of a quarter turn is that quarter turn (its tilt is pixel noise)."""


def _snapped(degrees: float) -> float:
    quarter = round(degrees / 90) * 90
    angle = quarter if abs(degrees - quarter) <= _SNAP_DEGREES else round(degrees, 1)
    return float(angle % 360)


_CHAR_WIDTH_PER_HEIGHT = 0.6


def _char_aspect(along: float, across: float, text: str) -> float:
    """How far from a typical character's width/height the box is if ``text`` runs ``along`` it (0 = typical)."""
    ratio = (along / max(len(text), 1)) / max(across, 1.0)
    return abs(math.log(max(ratio, 1e-6) / _CHAR_WIDTH_PER_HEIGHT))


def _model_versions() -> dict[str, str]:
    """Package versions and the ONNX model files RapidOCR loads (from its own config)."""
    import rapidocr_onnxruntime
    from rapidocr_onnxruntime.utils import read_yaml

    config = read_yaml(str(Path(rapidocr_onnxruntime.__file__).parent / "config.yaml"))
    versions = {
        "rapidocr-onnxruntime": metadata.version("rapidocr-onnxruntime"),
        "onnxruntime": metadata.version("onnxruntime"),
    }
    for stage in ("Det", "Cls", "Rec"):
        versions[stage.lower()] = Path(config[stage]["model_path"]).stem
    return versions


def ocr_threads() -> int:
    """``EXTRACTION_OCR_THREADS`` (default 1): inference threads of one extraction."""
    return max(1, settings.env_int(settings.OCR_THREADS_ENV, settings.DEFAULT_OCR_THREADS))


@functools.cache
def default_engine() -> OcrEngine:
    """The process's engine (the sandbox child keeps it warm between files)."""
    return RapidOcrEngine(threads=ocr_threads())


def engine_loaded() -> bool:
    return default_engine.cache_info().currsize > 0
