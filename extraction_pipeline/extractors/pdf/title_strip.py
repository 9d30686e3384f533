"""Title strips without labels: the side or bottom strip of architectural sheets (Revit, ArchiCAD) and the margin
text of test-case plots.

An architectural sheet prints its sheet number largest of all in its strip (``A-301``, ``A101``, ``S2.1``); around
it, without labels or with labels too small to read, the sheet's date and scale in the shapes they are printed in
(``12.11.2014``, ``1/4" = 1'-0"``), the sheet name right above the number, and above that the project: client and
address, in the title's size. The number anchors the strip: the date and scale nearest to it are the sheet's.

Plots without a title block may carry their drawing number written along the sheet's right margin (a vertical
line, often read as one run per few characters: joined here) and their title as the largest line of the bottom
band.
"""

from __future__ import annotations

import dataclasses
import re
import statistics

from extraction_pipeline.extractors.pdf.model import Page, Run
from extraction_pipeline.extractors.title_dates import find_date

_SHEET_NUMBER = re.compile(r"[A-Z]{1,3}[-.]?\d{1,4}(?:[.-]\d{1,3})?")
_FILE_LIKE_NUMBER = re.compile(r"(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9]+(?:[_\-.][A-Za-z0-9]+){2,}")
_SCALE_SHAPE = re.compile(
    r"\d+(?:\s*/\s*\d+)?\s*[\"”″]\s*=\s*\d+\s*['’′](?:\s*-?\s*\d+(?:\s+\d+/\d+)?\s*[\"”″])?|1\s*:\s*\d+(?:[.,]\d+)?"
)
_SIDE_SHARE = 0.2
_BOTTOM_SHARE = 0.15
_NUMBER_SIZE_RATIO = 1.5
"""A sheet number is printed at least this much larger than the page's typical text."""
_CAPTION_MIN_WORDS = 2
_CAPTION_CENTRE_SHARE = 0.15
"""A caption title is centred under the plot: its centre this close (share of the width) to the page's."""


def strip_fields(page: Page) -> tuple[dict[str, str], dict[str, str]]:
    """(fields, custom fields) of the page's unlabelled title strip, anchored on its sheet number; empty if none."""
    anchor = _sheet_number_run(page)
    if anchor is None:
        return {}, {}
    strip = [r for r in page.runs if _in_band_of(page, r, anchor) and r is not anchor and not r.rotation]
    fields = {"drawing_number": anchor.text.strip()}
    custom: dict[str, str] = {}
    date = _nearest(anchor, [r for r in strip if find_date(r.text) == r.text.strip()])
    if date is not None:
        fields["date"] = date.text.strip()
    scale = _nearest(anchor, [r for r in strip if _SCALE_SHAPE.fullmatch(r.text.strip())])
    if scale is not None:
        fields["scale"] = scale.text.strip()
    names = [r for r in strip if r not in (date, scale) and sum(ch.isalpha() for ch in r.text) >= 3]
    above = sorted(
        (r for r in names if r.bottom <= anchor.top and r.x1 > anchor.x0 and r.x0 < anchor.x1),
        key=lambda r: -r.bottom,
    )
    if above:
        title = above[0]
        fields["title"] = title.text.strip()
        project = [r for r in above[1:] if abs((r.font_size or r.height) - (title.font_size or title.height)) < 0.5]
        if project:
            custom["PROJECT"] = " ".join(r.text.strip() for r in sorted(project, key=lambda r: r.top))
    return fields, custom


def margin_number(page: Page) -> str | None:
    """A drawing number written along the right margin, shaped like a file name (``nist_ftc_11_asme1_rb``)."""
    for line in _vertical_lines(page):
        if line[0].center_x >= (1 - _SIDE_SHARE / 2) * page.width:
            text = "".join(run.text.strip() for run in line)
            if _FILE_LIKE_NUMBER.fullmatch(text):
                return text
    return None


def caption_title(page: Page) -> str | None:
    """The largest line of words centred in the bottom band, larger than the page's typical text (a plot's
    caption)."""
    typical = _typical_size(page)
    band = [
        r
        for r in page.runs
        if r.top >= (1 - _BOTTOM_SHARE) * page.height
        and not r.rotation
        and len(r.text.split()) >= _CAPTION_MIN_WORDS
        and not r.text.strip().endswith((".", ",", ";", ":"))  # a note's sentence, not a caption
        and sum(ch.isalpha() for ch in r.text) >= len(r.text) / 2
        and (r.font_size or r.height) > typical
        and abs(r.center_x - page.width / 2) <= _CAPTION_CENTRE_SHARE * page.width
    ]
    best = max(band, key=lambda r: (r.font_size or r.height, -r.top), default=None)
    return best.text.strip() if best is not None else None


def _sheet_number_run(page: Page) -> Run | None:
    typical = _typical_size(page)
    candidates = [
        r
        for r in page.runs
        if _SHEET_NUMBER.fullmatch(r.text.strip())
        and not r.rotation
        and (r.center_x >= (1 - _SIDE_SHARE) * page.width or r.center_y >= (1 - _BOTTOM_SHARE) * page.height)
        and (r.font_size or r.height) >= _NUMBER_SIZE_RATIO * typical
    ]
    return max(candidates, key=lambda r: r.font_size or r.height, default=None)


def _in_band_of(page: Page, run: Run, anchor: Run) -> bool:
    if anchor.center_x >= (1 - _SIDE_SHARE) * page.width:
        return run.center_x >= (1 - _SIDE_SHARE) * page.width
    return run.center_y >= (1 - _BOTTOM_SHARE) * page.height


def _nearest(anchor: Run, runs: list[Run]) -> Run | None:
    return min(runs, key=lambda r: abs(r.center_x - anchor.center_x) + abs(r.center_y - anchor.center_y), default=None)


def _typical_size(page: Page) -> float:
    sizes = [r.font_size or r.height for r in page.runs]
    return statistics.median(sizes) if sizes else 0.0


def _vertical_lines(page: Page) -> list[list[Run]]:
    """Runs turned a quarter counter-clockwise, joined along their column in reading order (bottom to top)."""
    turned = sorted((r for r in page.runs if r.rotation and round(r.rotation) % 360 == 90), key=lambda r: -r.bottom)
    lines: list[list[Run]] = []
    for run in turned:
        line = next(
            (
                ln
                for ln in lines
                if abs(ln[-1].x0 - run.x0) <= 1 and abs(ln[-1].x1 - run.x1) <= 1 and ln[-1].top - run.bottom <= 1
            ),
            None,
        )
        if line is None:
            lines.append([run])
        else:
            line.append(run)
    return lines


_WORD_GAP_SIZES = 0.8
"""Words of one turned line stand at most this many font sizes apart along it."""


def turned_lines(runs: list[Run]) -> list[Run]:
    """Runs turned a quarter (either way) joined into the lines they are pieces of, each read in its own direction:
    a text layer gives a turned line word by word, OCR line by line."""
    lines: list[list[Run]] = []
    for run in sorted((r for r in runs if r.rotation and round(r.rotation) % 180 == 90), key=_reading_position):
        line = next((ln for ln in lines if _continues(ln[-1], run)), None)
        if line is None:
            lines.append([run])
        else:
            line.append(run)
    return [_joined(line) for line in lines]


def _reading_position(run: Run) -> float:
    """Along the line: bottom to top for a line turned counter-clockwise, top to bottom for one turned clockwise."""
    return -run.bottom if round(run.rotation or 0) % 360 == 90 else run.top


def _continues(last: Run, run: Run) -> bool:
    size = last.font_size or (last.x1 - last.x0)
    gap = last.top - run.bottom if round(last.rotation or 0) % 360 == 90 else run.top - last.bottom
    return (
        last.rotation == run.rotation
        and abs(last.x0 - run.x0) <= size / 4
        and abs(last.x1 - run.x1) <= size / 4
        and -1.0 <= gap <= _WORD_GAP_SIZES * size
    )


def _joined(line: list[Run]) -> Run:
    if len(line) == 1:
        return line[0]
    return dataclasses.replace(
        line[0],
        text=" ".join(r.text.strip() for r in line),
        x0=min(r.x0 for r in line),
        top=min(r.top for r in line),
        x1=max(r.x1 for r in line),
        bottom=max(r.bottom for r in line),
        spaced=None,
        polygon=None,
    )
