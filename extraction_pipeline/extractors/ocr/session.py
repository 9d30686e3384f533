"""OCR of one file's pages under its settings and time budget, and what the result says about it.

One ``OcrSession`` per extraction, for PDF pages and raster images alike: it reads at most ``max_pages`` pages,
stops before the sandbox's deadline (keeping time for the rest of the extraction), and collects the warnings and
the result's ``ocr`` block (pages read, engine, model versions, resolution, mean confidence).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from extraction_pipeline.extractors.ocr.config import OcrConfig
from extraction_pipeline.extractors.ocr.engine import OcrEngine, default_engine
from extraction_pipeline.extractors.ocr.reader import PageReading, read_image, read_pdf_page
from extraction_pipeline.extractors.schema import OcrInfo, OcrPage

_RESERVE_SHARE = 0.15
"""Share of the sandbox's time budget kept for everything after OCR (tables, title block, result)."""
_MIN_RESERVE_SECONDS = 2.0


class OcrSession:
    def __init__(
        self,
        config: OcrConfig,
        *,
        engine: Callable[[], OcrEngine] = default_engine,
        deadline: float | None = None,
        budget_seconds: float | None = None,
    ) -> None:
        """``deadline``/``budget_seconds``: when the extraction must end and how long it had (the sandbox's)."""
        self.config = config
        self._engine_factory = engine
        self._engine: OcrEngine | None = None
        self._deadline = _ocr_deadline(deadline, budget_seconds)
        self._readings: dict[int, PageReading] = {}
        self._skipped: list[int] = []
        self._out_of_time: list[int] = []
        self.warnings: list[str] = []

    @classmethod
    def for_sandbox_request(cls, config: OcrConfig) -> OcrSession:
        """A session bounded by the deadline of the sandbox request this code runs in (none in-process)."""
        from extraction_pipeline.extractors.sandbox import request_deadline

        deadline, budget = request_deadline()
        return cls(config, deadline=deadline, budget_seconds=budget)

    def read_pdf_page(
        self, number: int, page: Any, regions: list[tuple[float, float, float, float]] | None = None
    ) -> PageReading | None:
        """OCR of a ``pypdfium2.PdfPage`` (only ``regions`` of it when given, in points of the displayed page);
        None when the page is over ``max_pages`` or out of time."""
        return self._read(
            number, lambda engine, deadline: read_pdf_page(page, engine, regions=regions, **self._args(deadline))
        )

    def read_image(self, number: int, image: np.ndarray, dpi: float) -> PageReading | None:
        return self._read(
            number, lambda engine, deadline: read_image(image, engine, dpi=dpi, **self._args(deadline, dpi=False))
        )

    def _args(self, deadline: float | None, *, dpi: bool = True) -> dict[str, Any]:
        args: dict[str, Any] = {"min_confidence": self.config.min_confidence, "deadline": deadline}
        if dpi:
            args["dpi"] = self.config.dpi
        return args

    def _read(self, number: int, read: Callable[[OcrEngine, float | None], PageReading]) -> PageReading | None:
        if len(self._readings) >= self.config.max_pages:
            self._skipped.append(number)
            return None
        if self._deadline is not None and time.monotonic() >= self._deadline:
            self._out_of_time.append(number)
            return None
        if self._engine is None:
            self._engine = self._engine_factory()
        reading = read(self._engine, self._deadline)
        if reading.tiles_read == 0 and not reading.out_of_memory:  # not even one tile fits in the time left
            self._out_of_time.append(number)
            return None
        self._readings[number] = reading
        if not reading.complete:
            limit = "memory" if reading.out_of_memory else "time"
            setting = "EXTRACTION_MEMORY_LIMIT_BYTES" if reading.out_of_memory else "EXTRACTION_TIMEOUT_SECONDS"
            self.warnings.append(
                f"page {number}: OCR ran out of {limit} after {reading.tiles_read} of {reading.tiles_total} tiles "
                f"({setting}); text of the rest of the page is missing"
            )
        return reading

    def finish(self) -> OcrInfo | None:
        """The result's ``ocr`` block (None when no page was read), after adding the session's last warnings."""
        if self._skipped:
            self.warnings.append(
                f"OCR read {self.config.max_pages} page(s) (EXTRACTION_OCR_MAX_PAGES); "
                f"pages {', '.join(map(str, self._skipped))} were not read"
            )
        if self._out_of_time:
            self.warnings.append(
                f"OCR ran out of time (EXTRACTION_TIMEOUT_SECONDS): pages {', '.join(map(str, self._out_of_time))} "
                "were not read"
            )
        if not self._readings or self._engine is None:
            return None
        confidences = [line.confidence for r in self._readings.values() for line in r.lines]
        return OcrInfo(
            pages=sorted(self._readings),
            engine=self._engine.name,
            model_versions=dict(self._engine.model_versions),
            dpi=self.config.dpi,
            mean_confidence=round(statistics.fmean(confidences), 4) if confidences else None,
            lines=len(confidences),
            page_details=[
                OcrPage(
                    page=number,
                    dpi=reading.dpi,
                    lines=len(reading.lines),
                    seconds=round(reading.seconds, 2),
                    complete=reading.complete,
                )
                for number, reading in sorted(self._readings.items())
            ],
            pages_not_read=sorted(self._skipped + self._out_of_time),
        )


def _ocr_deadline(deadline: float | None, budget_seconds: float | None) -> float | None:
    if deadline is None:
        return None
    reserve = max(_RESERVE_SHARE * (budget_seconds or 0.0), _MIN_RESERVE_SECONDS)
    return deadline - reserve
