"""Which format a file really is: decided by its bytes, with the extension only as a hint.

The content decides because uploads are often misnamed; a disagreement between content and extension is
reported (``FormatMismatchError``) rather than silently guessed, so the user learns which file is wrong.
``format_from_extension`` is the cheap, I/O-free filter the S3 sensor uses.
"""

from __future__ import annotations

import re
from pathlib import Path

from extraction_pipeline.errors import (
    CorruptFileError,
    EmptyFileError,
    FormatMismatchError,
    UnsupportedFormatError,
)
from extraction_pipeline.extractors.schema import FileFormat
from extraction_pipeline.names import EXTENSION_FORMAT_NAMES, extension_of

EXTENSION_FORMATS: dict[str, FileFormat] = {ext: FileFormat(name) for ext, name in EXTENSION_FORMAT_NAMES.items()}
SUPPORTED_EXTENSIONS: tuple[str, ...] = tuple(EXTENSION_FORMATS)

# Enough for every signature and, in practice, a whole ISO 10303-21 HEADER section.
_HEAD_BYTES = 64 * 1024
# A HEADER section longer than this is not one we should keep reading for.
_MAX_STEP_HEADER_BYTES = 1024 * 1024
# Acrobat accepts a PDF whose "%PDF-" marker appears anywhere in the first 1024 bytes.
_PDF_MARKER_WINDOW = 1024

_DWG_MESSAGE = "DWG is not supported: convert it to DXF (e.g. with the ODA File Converter) and upload the DXF"
_BINARY_DXF_SENTINEL = b"AutoCAD Binary DXF\r\n\x1a\x00"
# AC1012…AC1032 for R13 onwards, AC1.2/AC1.40/AC2.10… for the oldest releases.
_DWG_MAGIC = re.compile(rb"AC(?:10\d\d|[12]\.\d)")
_STEP_MAGIC = b"ISO-10303-21;"
_STEP_COMMENT = re.compile(rb"/\*.*?\*/", re.DOTALL)
_FILE_SCHEMA = re.compile(rb"FILE_SCHEMA\s*\(\s*\(\s*'([^']*)'", re.IGNORECASE)
_UTF8_BOM = b"\xef\xbb\xbf"

# Formats we recognise only to name them in an error message.
_OTHER_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (unzip it and upload the files inside)"),
    (b"\x1f\x8b", "a gzip archive (decompress it and upload the file inside)"),
    (b"GIF8", "a GIF image (convert it to PNG)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office (OLE2) document"),
)

_FORMAT_LABELS: dict[FileFormat, str] = {
    FileFormat.PDF: "PDF",
    FileFormat.DXF: "DXF",
    FileFormat.IFC: "IFC",
    FileFormat.STEP: "STEP",
    FileFormat.WERK24: "Werk24",
    FileFormat.IMAGE: "image (PNG, JPEG or TIFF)",
}
# PNG, JPEG (any JFIF/Exif/raw marker) and TIFF (little- and big-endian; BigTIFF too).
_IMAGE_SIGNATURES: tuple[bytes, ...] = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"II*\x00",
    b"MM\x00*",
    b"II+\x00",
    b"MM\x00+",
)


def format_from_extension(name: str) -> FileFormat | None:
    """The format the file name's extension claims (case-insensitive), or None when it is not supported."""
    return EXTENSION_FORMATS.get(extension_of(name))


def detect_format(path: Path, filename: str) -> FileFormat:
    """The format of ``path``'s content; ``filename`` (the user's name for it) is the extension hint.

    Raises ``EmptyFileError``, ``UnsupportedFormatError`` (DWG, unknown content and extension),
    ``FormatMismatchError`` (content of one supported format behind another's extension) or
    ``CorruptFileError`` (a supported extension with content of no supported format).
    """
    head = _read_head(path, _HEAD_BYTES)
    if not head:
        raise EmptyFileError(f"{filename} is empty (0 bytes)")
    if _DWG_MAGIC.match(head):
        raise UnsupportedFormatError(f"{filename}: {_DWG_MESSAGE}")
    claimed = format_from_extension(filename)
    content = _sniff(path, head, claimed)
    if content is None:
        if claimed is None:
            raise UnsupportedFormatError(
                f"{filename} is not a supported file: {_describe_unknown(head)}. "
                f"Supported extensions: {', '.join(SUPPORTED_EXTENSIONS)}"
            )
        label = _FORMAT_LABELS[claimed]
        raise CorruptFileError(f"{filename} is not a valid {label} file: {_describe_unknown(head)}")
    if claimed is not None and claimed is not content:
        raise FormatMismatchError(
            f"{filename} contains {_FORMAT_LABELS[content]} data, not {_FORMAT_LABELS[claimed]}: "
            f"rename it to {_extension_for(content)} or upload the intended file"
        )
    return content


def _read_head(path: Path, size: int) -> bytes:
    with path.open("rb") as stream:
        return stream.read(size)


def _sniff(path: Path, head: bytes, claimed: FileFormat | None) -> FileFormat | None:
    if head.startswith(b"%PDF-"):
        return FileFormat.PDF
    if head.startswith(_IMAGE_SIGNATURES):
        return FileFormat.IMAGE
    if head.startswith(_BINARY_DXF_SENTINEL):
        return FileFormat.DXF
    text_start = head.removeprefix(_UTF8_BOM).lstrip()
    if text_start.startswith(_STEP_MAGIC):
        return _step_or_ifc(path, head, claimed)
    if _starts_like_ascii_dxf(head):
        return FileFormat.DXF
    if b"%PDF-" in head[:_PDF_MARKER_WINDOW]:
        return FileFormat.PDF
    return None


def _starts_like_ascii_dxf(head: bytes) -> bool:
    """Group code 0 / SECTION first, after blank lines and 999 comment pairs (what ezdxf also accepts)."""
    lines = head.removeprefix(_UTF8_BOM).decode("latin-1").splitlines()
    index = 0
    while index < len(lines) and not lines[index].strip():
        index += 1
    while index + 1 < len(lines):
        code, value = lines[index].strip(), lines[index + 1].strip()
        if code == "999":
            index += 2
            continue
        return code == "0" and value.upper() == "SECTION"
    return False


def _step_or_ifc(path: Path, head: bytes, claimed: FileFormat | None) -> FileFormat:
    """IFC and STEP share ISO 10303-21; the HEADER's FILE_SCHEMA tells them apart (IFC2X3, IFC4, IFC4X3…)."""
    schema = _file_schema(head)
    if schema is None and len(head) == _HEAD_BYTES:
        schema = _file_schema(_read_head(path, _MAX_STEP_HEADER_BYTES))
    if schema is None:
        # No schema to go by: the extractor will report the broken header; the extension picks which one.
        return claimed if claimed in (FileFormat.IFC, FileFormat.STEP) else FileFormat.STEP
    return FileFormat.IFC if schema.upper().startswith("IFC") else FileFormat.STEP


def _file_schema(data: bytes) -> str | None:
    header = _STEP_COMMENT.sub(b"", data.split(b"ENDSEC;", 1)[0])
    match = _FILE_SCHEMA.search(header)
    return match.group(1).decode("latin-1").strip() if match else None


def _describe_unknown(head: bytes) -> str:
    for signature, description in _OTHER_SIGNATURES:
        if head.startswith(signature):
            return f"it is {description}"
    if b"\x00" in head[:_PDF_MARKER_WINDOW]:
        return "its content is binary data of no supported format (no PDF, DXF, ISO 10303-21 or PNG/JPEG/TIFF header)"
    return "its content is text without a PDF, DXF (0/SECTION) or ISO 10303-21 header"


def _extension_for(file_format: FileFormat) -> str:
    return next(ext for ext, fmt in EXTENSION_FORMATS.items() if fmt is file_format)
