"""How large a raster's text is in pixels, and how much to enlarge the raster before OCR when it is too small.

A sheet exported at screen resolution (a 72 dpi JPEG of a 36 x 24 in plan) has letters 5-8 pixels high: the
detector finds nothing at that size and the recognizer (which reads crops scaled to 48 pixels high) guesses.
Whatever the file's DPI tag says, the letters' own height tells: the ink of a drawing is mostly lines and
letters, and the connected ink blobs of letter size (a few to ~80 pixels high, not much wider than high) have
the letters' height as their median. An image whose letters are under ``SMALL_TEXT_PIXELS`` is searched for
text enlarged so that they are about ``TARGET_TEXT_PIXELS`` high.
"""

from __future__ import annotations

import math

import numpy as np

SMALL_TEXT_PIXELS = 10.0
"""Letters lower than this (pixels) are too small for the text detector to find."""
TARGET_TEXT_PIXELS = 13.0
"""...so it searches the image enlarged until they are about this high (time grows with the square)."""
MAX_UPSCALE = 3.0
_MIN_BLOBS = 30
"""Fewer letter-sized blobs than this say nothing about the text (a photo, a nearly empty page)."""
_BLOB_HEIGHTS = (3, 80)
_MAX_BLOB_ASPECT = 2.5
_MAX_ANALYSIS_PIXELS = 16_000_000
"""Larger images are measured on a reduced copy (the blob statistics need only the letters' rough size)."""


def typical_text_height(image: np.ndarray) -> float | None:
    """Median height (pixels) of the letter-sized ink blobs of a grayscale or BGR image; None when too few."""
    import cv2

    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    shrink = min(1.0, math.sqrt(_MAX_ANALYSIS_PIXELS / max(gray.size, 1)))
    if shrink < 1.0:
        gray = cv2.resize(gray, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    _, ink = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    heights, widths = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    low, high = _BLOB_HEIGHTS
    letters = heights[(heights >= low) & (heights <= high) & (widths <= _MAX_BLOB_ASPECT * heights)]
    if len(letters) < _MIN_BLOBS:
        return None
    return float(np.median(letters)) / shrink


def upscale_factor(text_height: float | None) -> float:
    """How much to enlarge an image whose letters are ``text_height`` pixels high for the detector (1.0: not)."""
    if text_height is None or text_height >= SMALL_TEXT_PIXELS:
        return 1.0
    return max(min(TARGET_TEXT_PIXELS / text_height, MAX_UPSCALE), 1.0)
