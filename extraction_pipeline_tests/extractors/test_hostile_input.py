"""Hostile input through ``extract_file`` and the real extractors: every bad file ends as a PermanentError
within the time cap, and the sandbox then extracts a good file normally. Also the entry point's own checks."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import ezdxf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extraction_pipeline.errors import (
    ConfigurationError,
    CorruptFileError,
    EmptyFileError,
    ExtractionTimeoutError,
    ExtractorCrashedError,
    FileTooLargeError,
    ObjectNotFoundError,
    PermanentError,
    RemoteServiceError,
)
from extraction_pipeline.extractors import (
    SUPPORTED_EXTENSIONS,
    ExtractionLimits,
    ExtractionResult,
    FileFormat,
    Sandbox,
    SourceInfo,
    choose_extractor,
    extract_file,
)
from extraction_pipeline.extractors import dxf as dxf_extractor
from extraction_pipeline.extractors.sandbox import MiB
from extraction_pipeline_tests.extractors.bim_builders import build_assembly_step, build_building_ifc
from extraction_pipeline_tests.extractors.pdf_builders import build_one_line_pdf

TIMEOUT_SECONDS = 10.0
# What is tested is that no file hangs the sandbox: its own cap plus wide room for a loaded machine, not a speed.
HANG_SECONDS = 3 * TIMEOUT_SECONDS
# Enough for the parsers' libraries (about 300 MiB of address space) and a normal drawing, not for a bomb.
LIMITS = ExtractionLimits(max_file_bytes=64 * MiB, timeout_seconds=TIMEOUT_SECONDS, memory_bytes=1024 * MiB)
# What a bad file may end as. ConfigurationError is not among them: it would mean a missing extractor.
FILE_ERRORS = (CorruptFileError, FileTooLargeError, ExtractionTimeoutError, ExtractorCrashedError)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(LIMITS, isolated=True) as shared:
        yield shared


def extract(sandbox: Sandbox, path: Path, options: Mapping[str, Any] | None = None) -> ExtractionResult:
    return extract_file(path, filename=path.name, options=options, limits=LIMITS, sandbox=sandbox)


def assert_refused_in_time(sandbox: Sandbox, path: Path) -> PermanentError:
    started = time.monotonic()
    with pytest.raises(FILE_ERRORS) as raised:
        extract(sandbox, path)
    assert time.monotonic() - started < HANG_SECONDS
    assert path.name in raised.value.message
    return raised.value


# --- good files, built with the format libraries --------------------------------------------------------
def write_good_dxf(path: Path) -> Path:
    doc = ezdxf.new("R2018")
    doc.layers.add("WALLS")
    doc.modelspace().add_line((0, 0), (4000, 0), dxfattribs={"layer": "WALLS"})
    doc.saveas(path)
    return path


def assert_good_dxf_extracts(sandbox: Sandbox, directory: Path) -> None:
    path = write_good_dxf(directory / "good.dxf")
    result = extract(sandbox, path)
    assert result.format is FileFormat.DXF
    assert result.source == SourceInfo(
        filename="good.dxf", size=path.stat().st_size, sha256=hashlib.sha256(path.read_bytes()).hexdigest()
    )
    assert result.extractor_version == f"dxf/{dxf_extractor.VERSION}"
    assert result.geometry_summary is not None
    assert result.geometry_summary.lines == 1
    assert [layer.entity_count for layer in result.layers if layer.name == "WALLS"] == [1]


def assert_good_pdf_extracts(sandbox: Sandbox, directory: Path) -> None:
    result = extract(sandbox, build_one_line_pdf(directory / "good.pdf"))
    assert result.format is FileFormat.PDF
    assert "DRAWING NO. 4711" in " ".join(block.text for block in result.text_blocks)


# --- hostile files -----------------------------------------------------------------------------------------
def write_flate_bomb_pdf(path: Path, inflated_bytes: int) -> Path:
    """A one-page PDF whose content stream is ~1 KB of Flate data per MiB of zeros it inflates to."""
    stream = zlib_stream_of_zeros(inflated_bytes // MiB)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    body = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref_offset = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_offset)
    path.write_bytes(bytes(body))
    return path


def zlib_stream_of_zeros(mebibytes: int) -> bytes:
    """The zlib stream of ``mebibytes`` MiB of zeros, deflated once and repeated (compressing it all takes
    seconds): after a full flush, every MiB of zeros deflates to the same block."""
    chunk = bytes(MiB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    checksum = 1
    for _ in range(mebibytes):
        checksum = zlib.adler32(chunk, checksum)
    return b"\x78\xda" + block * mebibytes + compressor.flush() + checksum.to_bytes(4, "big")


def test_zlib_stream_of_zeros_inflates_to_zeros() -> None:
    stream = zlib_stream_of_zeros(3)
    assert len(stream) < 4096
    assert zlib.decompress(stream) == bytes(3 * MiB)


def test_flate_bomb_pdf_is_refused_then_a_good_pdf_extracts(sandbox: Sandbox, tmp_path: Path) -> None:
    bomb = write_flate_bomb_pdf(tmp_path / "bomb.pdf", 512 * MiB)
    assert bomb.stat().st_size < MiB
    assert_refused_in_time(sandbox, bomb)
    assert_good_pdf_extracts(sandbox, tmp_path)


def test_truncated_dxf_is_corrupt_then_a_good_dxf_extracts(sandbox: Sandbox, tmp_path: Path) -> None:
    whole = write_good_dxf(tmp_path / "whole.dxf").read_bytes()
    truncated = tmp_path / "truncated.dxf"
    truncated.write_bytes(whole[: len(whole) // 2])
    error = assert_refused_in_time(sandbox, truncated)
    assert isinstance(error, CorruptFileError)
    assert_good_dxf_extracts(sandbox, tmp_path)


@pytest.mark.parametrize(
    ("name", "build", "file_format"),
    [
        ("drawing.pdf", build_one_line_pdf, FileFormat.PDF),
        ("building.ifc", build_building_ifc, FileFormat.IFC),
        ("assembly.step", build_assembly_step, FileFormat.STEP),
    ],
)
def test_truncated_files_are_corrupt_and_whole_ones_extract(
    sandbox: Sandbox, tmp_path: Path, name: str, build: Callable[[Path], Path], file_format: FileFormat
) -> None:
    whole = build(tmp_path / name)
    truncated = tmp_path / f"truncated-{name}"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert isinstance(assert_refused_in_time(sandbox, truncated), CorruptFileError)
    assert extract(sandbox, whole).format is file_format


# Headers that pass detection, so the random tail reaches the parser itself.
FORMAT_HEADERS: dict[str, bytes] = {
    ".pdf": b"%PDF-1.7\n",
    ".dxf": b"  0\nSECTION\n  2\nENTITIES\n",
    ".ifc": b"ISO-10303-21;\nHEADER;\nFILE_SCHEMA(('IFC4'));\nENDSEC;\nDATA;\n",
    ".step": b"ISO-10303-21;\nHEADER;\nFILE_SCHEMA(('AUTOMOTIVE_DESIGN'));\nENDSEC;\nDATA;\n",
    ".stp": b"ISO-10303-21;\nHEADER;\nFILE_SCHEMA(('CONFIG_CONTROL_DESIGN'));\nENDSEC;\nDATA;\n",
    ".png": b"\x89PNG\r\n\x1a\n",
    ".jpg": b"\xff\xd8\xff\xe0",
    ".jpeg": b"\xff\xd8\xff\xe0",
    ".tif": b"II*\x00",
    ".tiff": b"MM\x00*",
}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    extension=st.sampled_from(SUPPORTED_EXTENSIONS),
    with_header=st.booleans(),
    tail=st.binary(min_size=1, max_size=2048),
)
def test_random_bytes_behind_every_extension_are_permanent_errors(
    sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory, extension: str, with_header: bool, tail: bytes
) -> None:
    path = tmp_path_factory.mktemp("random") / f"random{extension}"
    path.write_bytes((FORMAT_HEADERS[extension] if with_header else b"") + tail)
    started = time.monotonic()
    try:
        extract(sandbox, path)
    except PermanentError as error:
        # Hypothesis also tries the byte strings of the code under test (b"%PDF-", b"AC1015"...), so the
        # detector's refusals (mismatch, DWG) are as legitimate here as the parsers' CorruptFileError.
        assert not isinstance(error, ConfigurationError)
        assert path.name in error.message
        assert time.monotonic() - started < HANG_SECONDS
    else:
        # A header and random bytes can still be a valid (empty) file for a tolerant parser: rare, allowed.
        assert with_header


def test_sandbox_extracts_normally_after_the_random_files(sandbox: Sandbox, tmp_path: Path) -> None:
    assert_good_dxf_extracts(sandbox, tmp_path)


# --- the entry point's own checks ---------------------------------------------------------------------------
class RefusingSandbox(Sandbox):
    """Fails the test if a file reaches parsing."""

    def run(self, *args: Any, **kwargs: Any) -> ExtractionResult:
        raise AssertionError("the file reached the extractor")


def test_file_over_the_size_cap_is_refused_before_parsing(tmp_path: Path) -> None:
    path = write_good_dxf(tmp_path / "big.dxf")
    limits = ExtractionLimits(max_file_bytes=1024)
    with pytest.raises(FileTooLargeError) as raised:
        extract_file(path, filename="big.dxf", limits=limits, sandbox=RefusingSandbox(limits, isolated=False))
    assert raised.value.message == (
        f"big.dxf is {path.stat().st_size} bytes, over the 1024 bytes limit (EXTRACTION_MAX_FILE_BYTES)"
    )


def test_empty_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "empty.ifc"
    path.touch()
    with pytest.raises(EmptyFileError, match=r"^empty\.ifc is empty \(0 bytes\)$"):
        extract_file(path, filename="empty.ifc", sandbox=RefusingSandbox(LIMITS, isolated=False))


def test_missing_file_is_object_not_found(tmp_path: Path) -> None:
    with pytest.raises(ObjectNotFoundError, match=r"^gone\.pdf: the file is gone"):
        extract_file(tmp_path / "gone.pdf", filename="gone.pdf", sandbox=RefusingSandbox(LIMITS, isolated=False))


def test_werk24_without_token_is_a_configuration_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WERK24_TOKEN", raising=False)
    path = build_one_line_pdf(tmp_path / "drawing.pdf")
    with pytest.raises(ConfigurationError) as raised:
        extract_file(
            path, filename="drawing.pdf", options={"engine": "werk24"}, sandbox=RefusingSandbox(isolated=False)
        )
    assert raised.value.message == "drawing.pdf: the Werk24 engine was requested but WERK24_TOKEN is not set"


class TimingOutSandbox(Sandbox):
    """Records the time budget it was given and times out, as a hung web service would make it."""

    def run(self, *args: Any, timeout_seconds: float | None = None, **kwargs: Any) -> ExtractionResult:
        self.given_timeout = timeout_seconds
        raise ExtractionTimeoutError(f"drawing.pdf: extraction took longer than {timeout_seconds:g} s")


def test_werk24_gets_its_service_budget_and_a_hang_is_retryable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WERK24_TOKEN", "token")
    path = build_one_line_pdf(tmp_path / "drawing.pdf")
    sandbox = TimingOutSandbox(ExtractionLimits(timeout_seconds=20), isolated=False)
    with pytest.raises(RemoteServiceError) as raised:
        extract_file(
            path, filename="drawing.pdf", options={"engine": "werk24", "werk24_timeout_seconds": 90}, sandbox=sandbox
        )
    assert sandbox.given_timeout == 110
    assert raised.value.message == (
        "drawing.pdf: Werk24 did not answer in time (drawing.pdf: extraction took longer than 110 s)"
    )


def test_the_parent_process_never_imports_a_parser(tmp_path: Path) -> None:
    path = write_good_dxf(tmp_path / "plan.dxf")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from extraction_pipeline.extractors import extract_file\n"
        "if __name__ == '__main__':\n"
        f"    result = extract_file(Path({str(path)!r}), filename='plan.dxf')\n"
        "    heavy = ('ezdxf', 'pdfplumber', 'pypdfium2', 'ifcopenshell', 'numpy')\n"
        "    print(result.format.value, sorted(name for name in heavy if name in sys.modules))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True, cwd=tmp_path
    )
    assert completed.stdout.strip() == "dxf []"


@pytest.mark.parametrize(
    ("file_format", "options", "environ", "expected"),
    [
        (FileFormat.PDF, {}, {}, FileFormat.PDF),
        (FileFormat.PDF, {"engine": "werk24"}, {"WERK24_TOKEN": "t"}, FileFormat.WERK24),
        (FileFormat.PDF, {}, {"EXTRACTION_ENGINE": "werk24", "WERK24_TOKEN": "t"}, FileFormat.WERK24),
        (FileFormat.PDF, {"engine": "native"}, {"EXTRACTION_ENGINE": "werk24", "WERK24_TOKEN": "t"}, FileFormat.PDF),
        (FileFormat.DXF, {}, {"EXTRACTION_ENGINE": "werk24", "WERK24_TOKEN": "t"}, FileFormat.DXF),
        (FileFormat.IFC, {"engine": "Native"}, {}, FileFormat.IFC),
    ],
)
def test_engine_choice(
    file_format: FileFormat, options: dict[str, str], environ: dict[str, str], expected: FileFormat
) -> None:
    assert choose_extractor(file_format, options, filename="f", environ=environ) is expected


@pytest.mark.parametrize(
    ("file_format", "options", "environ", "message"),
    [
        (FileFormat.PDF, {"engine": "werk24"}, {}, r"^a\.pdf: the Werk24 engine was requested but WERK24_TOKEN"),
        (FileFormat.DXF, {"engine": "werk24"}, {"WERK24_TOKEN": "t"}, r"reads PDF drawings only.*DXF file$"),
        (FileFormat.PDF, {"engine": "ocr"}, {}, r"the 'engine' option must be one of native, werk24, got 'ocr'"),
        (FileFormat.PDF, {}, {"EXTRACTION_ENGINE": "x"}, r"EXTRACTION_ENGINE must be one of native, werk24"),
    ],
)
def test_engine_choice_refusals(
    file_format: FileFormat, options: dict[str, str], environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        choose_extractor(file_format, options, filename="a.pdf", environ=environ)
