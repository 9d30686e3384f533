"""Format detection by content, with the extension as a hint, on files built by the format libraries."""

from __future__ import annotations

import zipfile
from pathlib import Path

import ezdxf
import ifcopenshell
import pytest

from extraction_pipeline.errors import (
    CorruptFileError,
    EmptyFileError,
    FormatMismatchError,
    UnsupportedFormatError,
)
from extraction_pipeline.extractors import SUPPORTED_EXTENSIONS, detect_format, format_from_extension
from extraction_pipeline.extractors.schema import FileFormat
from extraction_pipeline_tests.extractors.pdf_builders import build_one_line_pdf
from extraction_pipeline_tests.realworld import realworld_path

RANDOM_BYTES = bytes.fromhex("8f3a0c77e1d2b4a90055ff13c6de7a21") * 64


def write_dxf(path: Path, *, binary: bool = False) -> Path:
    doc = ezdxf.new("R2018")
    doc.modelspace().add_line((0, 0), (100, 0))
    doc.saveas(path, fmt="bin" if binary else "asc")
    return path


def write_ifc(path: Path, schema: str) -> Path:
    model = ifcopenshell.file(schema=schema)
    model.createIfcProject(ifcopenshell.guid.new(), Name="Detect")
    model.write(str(path))
    return path


def step_text(schema: str, *, header_padding: str = "") -> str:
    return (
        "ISO-10303-21;\n"
        "HEADER;\n"
        f"FILE_DESCRIPTION(('{header_padding}'),'2;1');\n"
        "FILE_NAME('part.step','2024-05-01T10:00:00',('A. Author'),('ACME'),'pp','sys','');\n"
        f"FILE_SCHEMA(('{schema}'));\n"
        "ENDSEC;\n"
        "DATA;\n"
        "#1=PRODUCT('P-1','Bracket','',(#2));\n"
        "ENDSEC;\n"
        "END-ISO-10303-21;\n"
    )


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


# --- supported formats, each under its own extension ---------------------------------------------------
def test_pdf_written_by_fpdf2_is_pdf(tmp_path: Path) -> None:
    assert detect_format(build_one_line_pdf(tmp_path / "drawing.pdf"), "drawing.pdf") is FileFormat.PDF


def test_pdf_marker_after_leading_junk_within_1_kib_is_pdf(tmp_path: Path) -> None:
    pdf = build_one_line_pdf(tmp_path / "source.pdf").read_bytes()
    path = write(tmp_path / "mailed.pdf", b"\r\n" * 300 + pdf)
    assert detect_format(path, "mailed.pdf") is FileFormat.PDF


def test_pdf_marker_beyond_1_kib_is_not_pdf(tmp_path: Path) -> None:
    pdf = build_one_line_pdf(tmp_path / "source.pdf").read_bytes()
    path = write(tmp_path / "late.pdf", b"x" * 1100 + pdf)
    with pytest.raises(CorruptFileError, match=r"^late\.pdf is not a valid PDF file: "):
        detect_format(path, "late.pdf")


@pytest.mark.parametrize("binary", [False, True], ids=["ascii", "binary"])
def test_dxf_written_by_ezdxf_is_dxf(tmp_path: Path, binary: bool) -> None:
    assert detect_format(write_dxf(tmp_path / "plan.dxf", binary=binary), "plan.dxf") is FileFormat.DXF


def test_dxf_with_leading_blank_lines_and_999_comments_is_dxf(tmp_path: Path) -> None:
    body = write_dxf(tmp_path / "source.dxf").read_text(encoding="utf-8")
    path = write(tmp_path / "commented.dxf", "\n\n999\nmade by hand\n  999\nsecond comment\n" + body)
    assert detect_format(path, "commented.dxf") is FileFormat.DXF


def test_text_whose_first_pair_is_not_0_section_is_not_dxf(tmp_path: Path) -> None:
    path = write(tmp_path / "notes.dxf", "  0\nTABLE\n  2\nLAYER\n")
    with pytest.raises(CorruptFileError, match=r"^notes\.dxf is not a valid DXF file: .*text without"):
        detect_format(path, "notes.dxf")


@pytest.mark.parametrize("schema", ["IFC2X3", "IFC4", "IFC4X3_ADD2"])
def test_ifc_written_by_ifcopenshell_is_ifc(tmp_path: Path, schema: str) -> None:
    assert detect_format(write_ifc(tmp_path / "model.ifc", schema), "model.ifc") is FileFormat.IFC


@pytest.mark.parametrize(
    "schema",
    [
        "AUTOMOTIVE_DESIGN { 1 0 10303 214 1 1 1 1 }",
        "CONFIG_CONTROL_DESIGN",
        "AP242_MANAGED_MODEL_BASED_3D_ENGINEERING_MIM_LF { 1 0 10303 442 1 1 4 }",
    ],
)
@pytest.mark.parametrize("name", ["part.step", "part.stp", "PART.STP"])
def test_step_schemas_are_step(tmp_path: Path, schema: str, name: str) -> None:
    assert detect_format(write(tmp_path / name, step_text(schema)), name) is FileFormat.STEP


def test_file_schema_split_over_lines_behind_a_comment_is_read(tmp_path: Path) -> None:
    text = step_text("IFC4").replace(
        "FILE_SCHEMA(('IFC4'));", "/* FILE_SCHEMA(('CONFIG_CONTROL_DESIGN')); */\nFILE_SCHEMA (\n ( 'IFC4' ) );"
    )
    assert detect_format(write(tmp_path / "model.ifc", "\ufeff  " + text), "model.ifc") is FileFormat.IFC


def test_file_schema_after_a_header_longer_than_64_kib_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "model.ifc", step_text("IFC4", header_padding="d" * 100_000))
    assert detect_format(path, "model.ifc") is FileFormat.IFC


@pytest.mark.parametrize(("name", "expected"), [("model.ifc", FileFormat.IFC), ("model.stp", FileFormat.STEP)])
def test_iso_10303_21_without_file_schema_follows_the_extension(
    tmp_path: Path, name: str, expected: FileFormat
) -> None:
    path = write(tmp_path / name, "ISO-10303-21;\nHEADER;\nENDSEC;\nDATA;\n")
    assert detect_format(path, name) is expected


# --- content the extension does not announce ------------------------------------------------------------
def test_known_content_under_unknown_extension_is_detected(tmp_path: Path) -> None:
    path = write_dxf(tmp_path / "export.txt")
    assert detect_format(path, "export.txt") is FileFormat.DXF


@pytest.mark.parametrize(
    ("name", "build", "message"),
    [
        ("file.dxf", build_one_line_pdf, r"^file\.dxf contains PDF data, not DXF: rename it to \.pdf"),
        ("plan.pdf", write_dxf, r"^plan\.pdf contains DXF data, not PDF: rename it to \.dxf"),
        ("model.step", lambda p: write_ifc(p, "IFC4"), r"^model\.step contains IFC data, not STEP"),
    ],
)
def test_content_of_one_format_under_another_extension_is_a_mismatch(
    tmp_path: Path, name: str, build: object, message: str
) -> None:
    path = build(tmp_path / name)  # type: ignore[operator]
    with pytest.raises(FormatMismatchError, match=message):
        detect_format(path, name)


def test_step_content_under_ifc_extension_is_a_mismatch(tmp_path: Path) -> None:
    path = write(tmp_path / "model.ifc", step_text("CONFIG_CONTROL_DESIGN"))
    with pytest.raises(FormatMismatchError, match=r"^model\.ifc contains STEP data, not IFC: rename it to \.step"):
        detect_format(path, "model.ifc")


# --- refused content --------------------------------------------------------------------------------------
def test_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EmptyFileError, match=r"^empty\.pdf is empty \(0 bytes\)$"):
        detect_format(write(tmp_path / "empty.pdf", b""), "empty.pdf")


@pytest.mark.parametrize("name", ["house.dwg", "house.dxf", "house"])
def test_dwg_is_refused_with_conversion_advice(tmp_path: Path, name: str) -> None:
    path = write(tmp_path / "house.bin", b"AC1032\x00\x00\x00\x00\x00\x00" + RANDOM_BYTES)
    with pytest.raises(UnsupportedFormatError) as raised:
        detect_format(path, name)
    assert raised.value.message == (
        f"{name}: DWG is not supported: convert it to DXF (e.g. with the ODA File Converter) and upload the DXF"
    )


@pytest.mark.parametrize("extension", SUPPORTED_EXTENSIONS)
def test_random_bytes_under_a_known_extension_are_corrupt(tmp_path: Path, extension: str) -> None:
    name = f"x{extension}"
    image = "image (PNG, JPEG or TIFF)"
    label = {".pdf": "PDF", ".dxf": "DXF", ".ifc": "IFC", ".step": "STEP", ".stp": "STEP"}.get(extension, image)
    with pytest.raises(CorruptFileError) as raised:
        detect_format(write(tmp_path / name, RANDOM_BYTES), name)
    assert raised.value.message == (
        f"{name} is not a valid {label} file: "
        "its content is binary data of no supported format (no PDF, DXF, ISO 10303-21 or PNG/JPEG/TIFF header)"
    )


def test_zip_under_ifc_extension_names_the_archive(tmp_path: Path) -> None:
    path = tmp_path / "model.ifc"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.ifc", "ISO-10303-21;")
    with pytest.raises(CorruptFileError, match=r"^model\.ifc is not a valid IFC file: it is a ZIP archive"):
        detect_format(path, "model.ifc")


def test_unknown_content_under_unknown_extension_lists_supported_extensions(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedFormatError) as raised:
        detect_format(write(tmp_path / "blob.bin", RANDOM_BYTES), "blob.bin")
    assert raised.value.message.startswith("blob.bin is not a supported file: its content is binary data")
    assert raised.value.message.endswith(
        "Supported extensions: .pdf, .dxf, .ifc, .step, .stp, .png, .jpg, .jpeg, .tif, .tiff"
    )


# --- the extension filter the S3 sensor uses ------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("drawings/2024/A-101.PDF", FileFormat.PDF),
        ("plan.dxf", FileFormat.DXF),
        ("model.Ifc", FileFormat.IFC),
        ("part.step", FileFormat.STEP),
        ("part.stp", FileFormat.STEP),
        ("C:\\exports\\part.stp", FileFormat.STEP),
        (".pdf", FileFormat.PDF),
        ("house.dwg", None),
        ("archive.pdf.zip", None),
        ("folder.pdf/readme", None),
        ("README", None),
        ("", None),
    ],
)
def test_format_from_extension(name: str, expected: FileFormat | None) -> None:
    assert format_from_extension(name) is expected


def test_supported_extensions() -> None:
    assert SUPPORTED_EXTENSIONS == (".pdf", ".dxf", ".ifc", ".step", ".stp", ".png", ".jpg", ".jpeg", ".tif", ".tiff")


# --- files we did not write -------------------------------------------------------------------------------
REALWORLD_FORMATS = {"pdf": FileFormat.PDF, "dxf": FileFormat.DXF, "ifc": FileFormat.IFC, "step": FileFormat.STEP}


@pytest.mark.realworld
@pytest.mark.parametrize("folder", sorted(REALWORLD_FORMATS))
def test_realworld_files_are_detected_as_their_folders_format(folder: str) -> None:
    paths = sorted(realworld_path("pybase", folder).iterdir())
    assert paths, f"{realworld_path('pybase', folder)} is empty"
    detected = {path.name: detect_format(path, path.name) for path in paths}
    assert detected == dict.fromkeys(detected, REALWORLD_FORMATS[folder])
