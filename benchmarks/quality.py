"""Result quality of the extractors: precision and recall per format and field on a labelled set, the share of
files that complete or end with a typed error, and counts compared with an independent reading through the
format libraries (ezdxf, ifcopenshell, pdfplumber). Not a test: it measures whatever the extractors do today
and prints the goals of issue 7 beside the numbers.

    .venv/bin/python benchmarks/quality.py                      # generated set + ../shared/realworld (~1 min)
    .venv/bin/python benchmarks/quality.py --formats ifc,step --no-realworld --no-drawings --verbose

Beside them, the shared real drawings (``../shared/realworld/drawings``: 41 files, what a person reads on each)
are scored by their own ``score.py`` (imported from there, see ``extraction_pipeline_tests/shared_drawings.py``),
per check group and per format; it takes minutes (OCR of scans), ``--drawings-jobs`` files at a time.

The labelled set is in ``quality_cases.py``. Truth of a real-world file is the library's own reading: ezdxf's
DIMENSION entities (``get_measurement()``, in layouts and in blocks once per insert) and ACAD_TABLE entities,
ifcopenshell's ``by_type(cls, include_subtypes=False)`` for every IfcProduct class and ``calculate_unit_scale``.
Extraction runs in this process through ``extract_file`` (the sandbox's in-process mode).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quality_cases import DEFAULT_REALWORLD, Case, generated_cases, realworld_cases

from extraction_pipeline.errors import ExtractionError
from extraction_pipeline.extractors import Sandbox, extract_file
from extraction_pipeline.extractors.schema import ExtractionResult
from extraction_pipeline_tests.shared_drawings import DRAWINGS_DIR, SharedDrawingsMissing, report_lines, score_drawings

FORMATS = ("pdf", "dxf", "ifc", "step")
TITLE_FIELDS = ("drawing_number", "title", "revision", "date", "author", "company", "scale", "sheet", "material")
TITLE_FIELDS += ("finish",)
_UNTYPED = re.compile(r"could not be read: the \w+ extractor failed with \w+")
_MAX_BLOCK_DEPTH = 8


# --- running --------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    case: Case
    result: ExtractionResult | None
    error_type: str | None
    error_message: str | None
    seconds: float

    @property
    def status(self) -> str:
        if self.result is not None:
            return "completed"
        if self.error_type == "CorruptFileError" and _UNTYPED.search(self.error_message or ""):
            return "crash"  # the sandbox wraps an untyped exception of an extractor: a bug, not a verdict
        return "expected error" if self.error_type == self.case.expect_error else "typed error"


def run_case(case: Case, sandbox: Sandbox, options: dict[str, str]) -> Outcome:
    started = time.perf_counter()
    try:
        result = extract_file(case.path, filename=case.name, sandbox=sandbox, options=options)
    except ExtractionError as error:
        return Outcome(case, None, type(error).__name__, error.message, time.perf_counter() - started)
    except Exception as error:  # outside the sandbox's classification: a bug of the pipeline itself
        return Outcome(case, None, f"untyped {type(error).__name__}", str(error), time.perf_counter() - started)
    return Outcome(case, result, None, None, time.perf_counter() - started)


# --- independent readings through the libraries ------------------------------------------------------------


def ezdxf_reading(path: Path) -> dict[str, Any] | None:
    """DIMENSION measurements and ACAD_TABLE count in every layout, block contents counted once per insert."""
    import ezdxf
    from ezdxf import recover

    try:
        doc = ezdxf.readfile(path)  # no audit: it would delete DIMENSIONs without a geometry block
    except ezdxf.DXFStructureError:
        try:
            doc, _ = recover.readfile(path)
        except (OSError, ezdxf.DXFStructureError):
            return None
    values: list[float] = []
    tables = [0]

    def walk(entities: Iterable[Any], depth: int) -> None:
        for entity in entities:
            kind = entity.dxftype()
            if kind in ("DIMENSION", "ARC_DIMENSION", "LARGE_RADIAL_DIMENSION"):
                value = _measurement(entity)
                if value is not None:
                    values.append(value)
            elif kind == "ACAD_TABLE":
                tables[0] += 1
            elif kind == "INSERT" and depth < _MAX_BLOCK_DEPTH:
                block = doc.blocks.get(entity.dxf.name)
                if block is not None:
                    walk(block, depth + 1)

    for layout in doc.layouts:
        walk(layout, 0)
    unit = ezdxf.units.decode(doc.header.get("$INSUNITS", 0))
    return {"dimensions": values, "tables": tables[0], "units": {"length": unit} if unit else {}}


def _measurement(dimension: Any) -> float | None:
    try:
        value = dimension.get_measurement()
    except Exception:  # ezdxf cannot measure some damaged or exotic dimensions
        return None
    if isinstance(value, (int, float)):
        return abs(float(value))
    is_y_ordinate = bool(getattr(dimension, "dimtype", 0) & 64)
    return abs(float(value[1] if is_y_ordinate else value[0]))  # ordinate: the feature's offset on its axis


def ifcopenshell_reading(path: Path) -> dict[str, Any] | None:
    import ifcopenshell
    import ifcopenshell.util.unit

    try:
        model = ifcopenshell.open(str(path))
    except (ifcopenshell.Error, RuntimeError, OSError):
        return None
    schema = ifcopenshell.ifcopenshell_wrapper.schema_by_name(model.schema_identifier)
    names: list[str] = []
    pending = [schema.declaration_by_name("IfcProduct")]
    while pending:
        declaration = pending.pop()
        names.append(declaration.name())
        pending.extend(declaration.subtypes())
    counts = {name: len(model.by_type(name, include_subtypes=False)) for name in names}
    try:
        scale: float | None = float(ifcopenshell.util.unit.calculate_unit_scale(model))
    except Exception:  # a model ifcopenshell's own helper cannot take
        scale = None
    return {"counts": {name: count for name, count in sorted(counts.items()) if count}, "length_scale": scale}


def pdfplumber_reading(path: Path) -> dict[str, Any] | None:
    import pdfplumber

    try:
        with pdfplumber.open(path) as pdf:
            return {"tables": sum(len(page.find_tables()) for page in pdf.pages)}
    except Exception:  # pdfplumber cannot open it either
        return None


READINGS = {"dxf": ezdxf_reading, "ifc": ifcopenshell_reading, "pdf": pdfplumber_reading}


# --- scoring ----------------------------------------------------------------------------------------------------


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    files: int = 0

    def add(self, tp: int, fp: int, fn: int) -> None:
        self.tp, self.fp, self.fn, self.files = self.tp + tp, self.fp + fp, self.fn + fn, self.files + 1

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def match_values(found: Sequence[float], truth: Sequence[float]) -> tuple[int, int, int]:
    """Matched values each used once; equal within 1e-3 relative (abs for small values)."""
    left = list(truth)
    tp = 0
    for value in found:
        hit = next((i for i, want in enumerate(left) if abs(value - want) <= 1e-3 * max(1.0, abs(want))), None)
        if hit is not None:
            tp += 1
            left.pop(hit)
    return tp, len(found) - tp, len(left)


_MTEXT_CODE = re.compile(r"\\[A-Za-z][^;\\{}]*;|[{}]")


def _norm(text: str) -> str:
    return " ".join(_MTEXT_CODE.sub("", str(text)).split()).casefold()


def _cells(rows: Iterable[Iterable[str]]) -> Counter[str]:
    return Counter(cell for row in rows for text in row if (cell := _norm(text)))


def match_tables(result: ExtractionResult, truth: list[list[list[str]]], ignore: str | None) -> tuple[int, int, int]:
    """A found table matches a truth table when 90 % of the larger one's non-empty cells are in both. Unmatched
    found tables holding ``ignore`` (the drawing number: a title block kept as a table too) are not counted."""
    wanted = [_cells(table) for table in truth]
    tp = fp = 0
    for table in result.tables:
        cells = _cells([table.headers, *table.rows])
        hit = next(
            (i for i, want in enumerate(wanted) if (cells & want).total() >= 0.9 * max(cells.total(), want.total())),
            None,
        )
        if hit is not None:
            tp += 1
            wanted.pop(hit)
        elif not (ignore and _norm(ignore) in cells):
            fp += 1
    return tp, fp, len(wanted)


def match_title_block(result: ExtractionResult, truth: dict[str, str]) -> tuple[int, int, int]:
    found = result.title_block.model_dump() if result.title_block is not None else {}
    tp = fp = 0
    for name in TITLE_FIELDS:
        value = found.get(name)
        if not value:
            continue
        if name in truth and _norm(value) == _norm(truth[name]):
            tp += 1
        else:
            fp += 1
    return tp, fp, len(truth) - tp


def match_values_of(found: Sequence[str], truth: Sequence[str]) -> tuple[int, int, int]:
    tp = sum((Counter(found) & Counter(truth)).values())
    return tp, len(found) - tp, len(truth) - tp


def match_geometry(result: ExtractionResult, truth: dict[str, float]) -> tuple[int, int, int]:
    """Solids, volume and area each a hit when equal within 1e-6 relative; a missing geometry misses all."""
    geometry = result.step.geometry if result.step is not None else None
    if geometry is None:
        return 0, 0, len(truth)
    hits = sum(
        1
        for name, want in truth.items()
        if (got := getattr(geometry, name)) is not None and abs(got - want) <= 1e-6 * max(1.0, abs(want))
    )
    return hits, len(truth) - hits, len(truth) - hits


def match_counts(found: dict[str, int], truth: dict[str, int]) -> tuple[int, int, int]:
    tp = sum(1 for name, count in truth.items() if found.get(name) == count)
    return tp, sum(1 for name, count in found.items() if truth.get(name) != count), len(truth) - tp


def result_units(result: ExtractionResult) -> dict[str, str]:
    if result.ifc is not None:
        return dict(result.ifc.units)
    if result.step is not None:
        return dict(result.step.units)
    return {"length": result.units} if result.units else {}


# --- the report -------------------------------------------------------------------------------------------------


GOALS = {
    "dimensions": ("P>=0.95 R>=0.90", lambda p, r: (p or 0) >= 0.95 and (r or 0) >= 0.9),
    "title block": ("R>=0.90", lambda p, r: (r or 0) >= 0.9),
    "class counts": ("exact", lambda p, r: p == 1.0 and r == 1.0),
    "units": ("exact", lambda p, r: p in (1.0, None) and r in (1.0, None)),
}


class Report:
    def __init__(self) -> None:
        self.tallies: dict[tuple[str, str, str], Tally] = {}
        self.agreement: dict[tuple[str, str], list[tuple[str, int, int, bool]]] = {}
        self.non_drawing_pages: list[tuple[str, int]] = []  # (file, dimensions on the page)
        self.misses: list[str] = []
        self.text_callouts = 0  # DXF dimensions read from TEXT/MTEXT (not DIMENSION entities)

    def tally(self, case: Case, field: str) -> Tally:
        return self.tallies.setdefault((case.file_format, field, case.origin), Tally())

    def score(self, outcome: Outcome, reading: dict[str, Any] | None) -> None:
        case, result = outcome.case, outcome.result
        if result is None:
            return
        dimensions, found_dimensions = case.dimensions, [d.value for d in result.dimensions]
        if reading is not None and case.file_format == "dxf":
            # entity dimensions (confidence 1.0) are what ezdxf counts; callouts read from TEXT are extra
            entity_values = [d.value for d in result.dimensions if d.confidence >= 1.0]
            self.agree(case, "DIMENSION entities (ezdxf)", len(entity_values), len(reading["dimensions"]))
            self.agree(case, "ACAD_TABLE entities (ezdxf)", len(result.tables), reading["tables"])
            self.text_callouts += len(found_dimensions) - len(entity_values)
            if dimensions is None:  # no labels: the library's reading is the truth, of entity dimensions
                dimensions, found_dimensions = reading["dimensions"], entity_values
        if reading is not None and case.file_format == "pdf":
            self.agree(case, "tables (pdfplumber find_tables)", len(result.tables), reading["tables"])
        if case.drawing and dimensions is not None:
            self.add(case, "dimensions", match_values(found_dimensions, dimensions))
        if not case.drawing:
            pages = int(result.metadata.get("page_count") or 1)
            per_page = Counter(d.page or 1 for d in result.dimensions)
            self.non_drawing_pages += [(case.name, per_page.get(page, 0)) for page in range(1, pages + 1)]
        if case.tables is not None:
            ignore = (case.title_block or {}).get("drawing_number")
            self.add(case, "tables", match_tables(result, case.tables, ignore))
        if case.title_block is not None:
            self.add(case, "title block", match_title_block(result, case.title_block))
        self.score_models(case, result, reading)

    def score_models(self, case: Case, result: ExtractionResult, reading: dict[str, Any] | None) -> None:
        counts = case.ifc_counts if case.ifc_counts is not None else (reading or {}).get("counts")
        if result.ifc is not None and counts is not None:
            self.add(case, "class counts", match_counts(result.ifc.element_counts, counts))
            if reading is not None:
                found, library = result.ifc.element_counts, reading["counts"]
                what = "products by exact class (ifcopenshell)"
                self.agree(case, what, sum(found.values()), sum(library.values()), found == library)
        if result.step is not None and case.step_geometry is not None:
            self.add(case, "geometry", match_geometry(result, case.step_geometry))
        if result.step is not None and case.step_roots is not None:
            roots = [node.product_id for node in result.step.assembly]
            self.add(case, "assembly roots", match_values_of(roots, case.step_roots))
        units = case.units if case.units is not None else (reading or {}).get("units")
        if units is not None:
            found = result_units(result)
            self.add(case, "units", (int(found == units), int(found != units and bool(found)), int(found != units)))
        elif result.ifc is not None and reading is not None and reading["length_scale"] is not None:
            scale = result.ifc.unit_scales.get("length")
            right = scale is not None and abs(scale - reading["length_scale"]) <= 1e-9 * max(1.0, scale)
            self.add(case, "units", (int(right), int(not right and scale is not None), int(not right)))

    def add(self, case: Case, field: str, counts: tuple[int, int, int]) -> None:
        self.tally(case, field).add(*counts)
        if counts[1] or counts[2]:
            self.misses.append(f"{case.file_format} {case.name}: {field} tp={counts[0]} fp={counts[1]} fn={counts[2]}")

    def agree(self, case: Case, what: str, found: int, library: int, equal: bool | None = None) -> None:
        """``found`` and ``library`` are totals; ``equal`` says whether they agree in detail (default: totals)."""
        same = found == library if equal is None else equal
        self.agreement.setdefault((case.file_format, what), []).append((case.name, found, library, same))


def _ratio(value: float | None) -> str:
    return "   -" if value is None else f"{value:4.2f}"


def print_completion(outcomes: list[Outcome]) -> None:
    print("\n== files completed / typed error (a valid file of every class must complete) ==")
    print(
        f"{'format':6} {'origin':9} {'files':>5} {'completed':>9} {'expected error':>14} {'other typed error':>17}"
        f" {'crash':>5} {'seconds':>8}"
    )
    groups: dict[tuple[str, str], list[Outcome]] = {}
    for outcome in outcomes:
        groups.setdefault((outcome.case.file_format, outcome.case.origin), []).append(outcome)
    for (file_format, origin), group in sorted(groups.items()):
        status = Counter(outcome.status for outcome in group)
        share = (status["completed"] + status["expected error"]) / len(group)
        print(
            f"{file_format:6} {origin:9} {len(group):5d} {status['completed']:9d} "
            f"{status['expected error']:14d} {status['typed error']:17d} {status['crash']:5d} {share:11.0%} "
            f"{sum(o.seconds for o in group):8.1f}"
        )
    for outcome in outcomes:
        if outcome.status in ("typed error", "crash"):
            print(f"  {outcome.case.file_format} {outcome.case.name}: {outcome.error_type}: {outcome.error_message}")


def print_scores(report: Report) -> None:
    print("\n== precision / recall per format and field (truth: labels; real-world: the library's reading) ==")
    print(
        f"{'format':6} {'field':14} {'origin':9} {'files':>5} {'TP':>5} {'FP':>5} {'FN':>5} {'prec':>5} {'recall':>6}"
        f"  goal"
    )
    for (file_format, field, origin), tally in sorted(report.tallies.items()):
        goal, met = GOALS.get(field, ("", None))
        verdict = "" if met is None else (" met" if met(tally.precision, tally.recall) else " NOT met")
        print(
            f"{file_format:6} {field:14} {origin:9} {tally.files:5d} {tally.tp:5d} {tally.fp:5d} {tally.fn:5d} "
            f"{_ratio(tally.precision):>5} {_ratio(tally.recall):>6}  {goal}{verdict}"
        )
    if report.non_drawing_pages:
        worst = max(report.non_drawing_pages, key=lambda item: item[1])
        mean = sum(n for _, n in report.non_drawing_pages) / len(report.non_drawing_pages)
        verdict = "met" if worst[1] <= 2 else "NOT met"
        print(
            f"pdf    pages that are no drawing (schematic, prose, data tables): {len(report.non_drawing_pages)} pages, "
            f"dimensions per page mean {mean:.2f}, max {worst[1]} ({worst[0]})  goal <= 2 per page {verdict}"
        )


def print_agreement(report: Report) -> None:
    print("\n== counts against an independent reading through the library ==")
    if report.text_callouts:
        callouts = report.text_callouts
        print(f"(DXF: {callouts} dimensions more were read from TEXT/MTEXT callouts such as '45°': not compared,")
        print(" ezdxf counts DIMENSION entities only; the DIMENSION rows compare entity dimensions, confidence 1.0)")
    for (file_format, what), rows in sorted(report.agreement.items()):
        equal = sum(1 for *_, same in rows if same)
        found_total = sum(found for _, found, _, _ in rows)
        library_total = sum(library for _, _, library, _ in rows)
        goal = "goal: equal " + ("met" if equal == len(rows) else "NOT met") if file_format != "pdf" else "(info)"
        print(
            f"{file_format:5} {what:38} equal in {equal:3d}/{len(rows):<3d} files; "
            f"extractor {found_total}, library {library_total}  {goal}"
        )
        for name, found, library, same in rows:
            if not same:
                print(f"      {name}: extractor {found}, library {library}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--realworld", type=Path, default=DEFAULT_REALWORLD)
    parser.add_argument("--no-realworld", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="list every file with a miss")
    parser.add_argument("--drawings", type=Path, default=DRAWINGS_DIR, help="the shared drawings with score.py")
    parser.add_argument("--no-drawings", action="store_true", help="leave out the shared real drawings")
    parser.add_argument("--drawings-jobs", type=int, default=2)
    parser.add_argument(
        "--ocr",
        default="off",
        choices=("off", "auto"),
        help="OCR of PDF pages without a text layer (off by default: no file of the labelled set needs it, "
        "and it takes minutes on the real-world plots)",
    )
    args = parser.parse_args(argv)
    formats = {name.strip() for name in args.formats.split(",") if name.strip()}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="quality-") as tmp:
        cases, notes = generated_cases(Path(tmp), formats)
        if not args.no_realworld:
            more, skipped = realworld_cases(args.realworld, formats)
            cases, notes = cases + more, notes + skipped
        sandbox = Sandbox(isolated=False)
        options = {"ocr": args.ocr}
        outcomes = [run_case(case, sandbox, options if case.file_format == "pdf" else {}) for case in cases]
        report = Report()
        for outcome in outcomes:
            reading = (
                READINGS[outcome.case.file_format](outcome.case.path) if outcome.case.file_format in READINGS else None
            )
            report.score(outcome, reading)
    print(
        f"quality benchmark: {len(cases)} files ({', '.join(sorted(formats))}) in {time.perf_counter() - started:.0f} s"
    )
    for note in notes:
        print(f"  note: {note}")
    print_completion(outcomes)
    print_scores(report)
    print_agreement(report)
    if args.verbose:
        print("\n== files with misses ==")
        for line in report.misses:
            print(f"  {line}")
    if not args.no_drawings:
        print_drawings(args.drawings, args.drawings_jobs, verbose=args.verbose)
    return 0


def print_drawings(directory: Path, jobs: int, *, verbose: bool) -> None:
    print(f"\n== shared real drawings ({directory}), scored by their score.py: checks passed per group and format ==")
    try:
        score = score_drawings(directory, jobs=jobs)
    except SharedDrawingsMissing as missing:
        print(f"  skipped: {missing}")
        return
    for line in [*report_lines(score), *(score.misses if verbose else [])]:
        print(f"  {line}")


if __name__ == "__main__":
    sys.exit(main())
