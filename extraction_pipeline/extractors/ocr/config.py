"""OCR settings of one extraction: ``EXTRACTION_OCR*`` variables, overridden per file by extractor options.

Per-file options come from S3 user metadata like every other option (``x-amz-meta-extraction-ocr: always``
becomes ``{"ocr": "always"}``, ``x-amz-meta-extraction-ocr-dpi: 200`` becomes ``{"ocr_dpi": "200"}``), so values
may be strings; a bad value is a ``ConfigurationError`` naming where it came from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from extraction_pipeline import settings
from extraction_pipeline.errors import ConfigurationError


class OcrMode(str, Enum):
    AUTO = "auto"  # OCR pages without a usable text layer
    OFF = "off"
    ALWAYS = "always"  # OCR every page; text the text layer already has is not repeated


@dataclass(frozen=True)
class OcrConfig:
    mode: OcrMode = OcrMode.AUTO
    dpi: int = settings.DEFAULT_OCR_DPI
    max_pages: int = settings.DEFAULT_OCR_MAX_PAGES
    min_confidence: float = settings.DEFAULT_OCR_MIN_CONFIDENCE

    @classmethod
    def resolve(cls, options: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> OcrConfig:
        """The environment's settings with the file's options (``ocr``, ``ocr_dpi``, ``ocr_max_pages``,
        ``ocr_min_confidence``) taking precedence."""
        env = os.environ if environ is None else environ
        return cls(
            mode=_mode(_pick(options, "ocr", env, settings.OCR_ENV, OcrMode.AUTO.value)),
            dpi=int(_number(_pick(options, "ocr_dpi", env, settings.OCR_DPI_ENV, cls.dpi), "DPI", 72, 600)),
            max_pages=int(
                _number(_pick(options, "ocr_max_pages", env, settings.OCR_MAX_PAGES_ENV, cls.max_pages), "pages", 0)
            ),
            min_confidence=_number(
                _pick(options, "ocr_min_confidence", env, settings.OCR_MIN_CONFIDENCE_ENV, cls.min_confidence),
                "confidence",
                0.0,
                1.0,
            ),
        )


def _pick(options: Mapping[str, Any], option: str, env: Mapping[str, str], variable: str, default: Any) -> tuple:
    """(value, where it came from): the option, else the variable, else the default."""
    if options.get(option) not in (None, ""):
        return options[option], f"the '{option}' option"
    if env.get(variable, "").strip():
        return env[variable].strip(), variable
    return default, "the default"


def _mode(picked: tuple) -> OcrMode:
    value, origin = picked
    try:
        return OcrMode(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(m.value for m in OcrMode)
        raise ConfigurationError(f"{origin} must be one of {choices}, got {value!r}") from None


def _number(picked: tuple, what: str, low: float, high: float | None = None) -> float:
    value, origin = picked
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{origin} must be a number ({what}), got {value!r}") from None
    if number < low or (high is not None and number > high):
        bounds = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise ConfigurationError(f"{origin} must be {bounds}, got {value!r}")
    return number
