"""OCR throughput and memory, side by side: RapidOCR called bare on rendered pages vs our OCR path on the same
pages, and the peak memory of the extraction worker on a 36 x 24 in sheet. Not a test; see benchmarks/README.md.

    .venv/bin/python benchmarks/ocr_throughput.py [--realworld DIR] [--skip-memory] [--skip-throughput]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium

from extraction_pipeline.extractors import ExtractionLimits, Sandbox, extract_file
from extraction_pipeline.extractors.ocr.engine import RapidOcrEngine, ocr_threads
from extraction_pipeline.extractors.ocr.reader import read_pdf_page

DPI = 300
DEFAULT_REALWORLD = Path(__file__).resolve().parents[2] / "shared" / "realworld" / "pybase" / "pdf"
PAGE_SAMPLES = [f"sample_{n:02d}.pdf" for n in range(2, 9)]  # letter-size plots and the scan
LARGE_SAMPLE = "sample_09.pdf"  # 36 x 24 in AutoCAD plot


def pdf_files(realworld: Path, workdir: Path) -> list[Path]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from extraction_pipeline_tests.extractors.ocr_builders import build_outlined_text_pdf, build_raster_pdf

    files = [build_outlined_text_pdf(workdir / "outlined.pdf"), build_raster_pdf(workdir / "raster.pdf")]
    if realworld.is_dir():
        files += [realworld / name for name in PAGE_SAMPLES if (realworld / name).is_file()]
    else:
        print(f"real-world drawings not found at {realworld}: generated sheets only")
    return files


def render(path: Path) -> np.ndarray:
    document = pdfium.PdfDocument(str(path))
    try:
        bitmap = document[0].render(scale=DPI / 72, grayscale=True)
        return np.array(bitmap.to_numpy(), copy=True)
    finally:
        document.close()


def throughput(files: list[Path]) -> None:
    from rapidocr_onnxruntime import RapidOCR

    threads = ocr_threads()
    bare = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)
    ours = RapidOcrEngine(threads=threads)
    print(f"OCR throughput, {DPI} dpi, {threads} inference thread(s); one run, bare and ours alternating per page")
    print(f"{'page':<16} {'pixels':>9} {'bare s':>8} {'lines':>6} {'ours s':>8} {'lines':>6} {'ours/bare':>9}")
    totals = [0.0, 0.0]
    for path in files:
        image = render(path)
        started = time.perf_counter()
        bare_lines, _ = bare(image)
        bare_seconds = time.perf_counter() - started
        document = pdfium.PdfDocument(str(path))
        started = time.perf_counter()
        reading = read_pdf_page(document[0], ours, dpi=DPI, min_confidence=0.5)  # renders the page itself
        our_seconds = time.perf_counter() - started
        document.close()
        totals[0] += bare_seconds
        totals[1] += our_seconds
        print(
            f"{path.name:<16} {image.size / 1e6:>8.1f}M {bare_seconds:>8.2f} {len(bare_lines or []):>6} "
            f"{our_seconds:>8.2f} {len(reading.lines):>6} {our_seconds / bare_seconds:>9.2f}"
        )
    pages = len(files)
    print(
        f"{'total':<16} {'':>9} {totals[0]:>8.2f} {'':>6} {totals[1]:>8.2f} {'':>6} {totals[1] / totals[0]:>9.2f}"
        f"   pages/s: bare {pages / totals[0]:.3f}, ours {pages / totals[1]:.3f}"
    )


def peak_memory(realworld: Path) -> None:
    path = realworld / LARGE_SAMPLE
    if not path.is_file():
        print(f"\npeak memory: {path} not found, skipped")
        return
    limits = ExtractionLimits(timeout_seconds=900)  # measure the whole sheet, not the default 120 s budget
    started = time.perf_counter()
    with Sandbox(limits) as sandbox:
        result = extract_file(path, filename=path.name, sandbox=sandbox)
    seconds = time.perf_counter() - started
    child_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    self_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ocr = result.ocr
    print(f"\n{LARGE_SAMPLE} (36 x 24 in) through the sandbox: {seconds:.1f} s")
    if ocr is not None:
        detail = ocr.page_details[0]
        print(
            f"  OCR: {detail.lines} lines at {detail.dpi:g} dpi in {detail.seconds:.1f} s, complete={detail.complete}"
        )
    print(
        f"  peak RSS: sandbox child {child_mib:.0f} MiB, parent {self_mib:.0f} MiB "
        f"(the child's cap: {limits.memory_bytes >> 20} MiB of address space)"
    )
    print(f"  warnings: {result.warnings}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realworld", type=Path, default=DEFAULT_REALWORLD)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    if not args.skip_throughput:
        with tempfile.TemporaryDirectory() as workdir:
            throughput(pdf_files(args.realworld, Path(workdir)))
    if not args.skip_memory:
        peak_memory(args.realworld)


if __name__ == "__main__":
    main()
