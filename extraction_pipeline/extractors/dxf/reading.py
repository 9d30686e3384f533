"""Reading a DXF file: strictly when it is well-formed, through ``ezdxf.recover`` when it is damaged.

A file is read strictly first and used as is. ezdxf's audit is deliberately not run on it: it deletes
DIMENSION entities that lack a geometry block (common in files written by scripts), and their measurements
are exactly what we want. Only a file the strict reader refuses goes through ``ezdxf.recover`` (which
audits and repairs); what recover reports having repaired becomes warnings — and nothing is warned when it
reports nothing.

A file without the final EOF marker is read when everything before it is whole (it ends with a section's
ENDSEC): only the marker is missing, and that is said in a warning. A file that stops anywhere else was cut
(in the middle of a section or an entity) and is refused: reading it would silently drop what came after
the cut.

The version reported is the file's own ``$ACADVER``: ezdxf upgrades what it loads (an AC1003 file becomes
AC1009 in memory), which says nothing about the file. Likewise ``$TDCREATE``, which ezdxf sets to the time of
loading: both are read from the file's HEADER section as written (``LoadedDrawing.file_header``).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ezdxf
from ezdxf import recover
from ezdxf.document import Drawing
from ezdxf.lldxf.const import acad_release
from ezdxf.lldxf.tagger import ascii_tags_loader, binary_tags_loader
from ezdxf.lldxf.types import DXFTag
from ezdxf.lldxf.validator import is_binary_dxf_file, is_dxf_file

from extraction_pipeline.errors import CorruptFileError, EmptyFileError

_MAX_REPAIR_WARNINGS = 10
_MAX_REFUSAL_CHARS = 200
_TAIL_BYTES = 64
_BINARY_HEADER_BYTES = 1024 * 1024
_EOF_MARKER = b"  0\nEOF\n"

# Release names of the versions ezdxf does not name (it reads them as R12).
_OLD_RELEASES = {"AC1002": "R2.5", "AC1003": "R2.6", "AC1004": "R9", "AC1006": "R10"}


@dataclass(frozen=True)
class LoadedDrawing:
    doc: Drawing
    warnings: list[str]
    file_header: dict[str, str]  # header variables ezdxf rewrites on loading, as the file wrote them

    @property
    def file_version(self) -> str | None:
        """The file's own ``$ACADVER`` ("AC1003"); None when its header has none."""
        return self.file_header.get("$ACADVER") or None

    @property
    def release(self) -> str | None:
        """The AutoCAD release that wrote ``file_version`` ("R2.6", "R2010"), None when unknown."""
        if self.file_version is None:
            return None
        return acad_release.get(self.file_version) or _OLD_RELEASES.get(self.file_version)


def load_drawing(path: Path, filename: str) -> LoadedDrawing:
    """The parsed drawing, warnings about real repairs, and the file's own version.

    Raises ``EmptyFileError`` for an empty file and ``CorruptFileError`` for a file that is no DXF, was cut,
    or is damaged beyond what ``ezdxf.recover`` can read.
    """
    if path.stat().st_size == 0:
        raise EmptyFileError(f"{filename} is empty")
    binary = is_binary_dxf_file(str(path))
    if not binary and not is_dxf_file(str(path)):
        raise CorruptFileError(f"{filename} is not a DXF file: it does not start with a DXF SECTION")
    file_header = _file_header(path, binary)
    if _ends_with_eof_marker(path):
        doc, warnings = _read(path, filename)
        return LoadedDrawing(doc, warnings, file_header)
    if binary or not _ends_after_a_whole_section(path):
        raise CorruptFileError(f"{filename} is truncated: the DXF file stops before its end, inside a section")
    with tempfile.TemporaryDirectory(prefix="dxf-eof-") as directory:
        completed = Path(directory) / "with-eof.dxf"
        shutil.copyfile(path, completed)
        with completed.open("ab") as stream:
            stream.write(_EOF_MARKER if _tail(path).endswith(b"\n") else b"\n" + _EOF_MARKER)
        doc, warnings = _read(completed, filename)
    missing_eof = f"{filename} has no EOF marker: it ends after a whole section and was read as it is"
    return LoadedDrawing(doc, [missing_eof, *warnings], file_header)


def _read(path: Path, filename: str) -> tuple[Drawing, list[str]]:
    try:
        return ezdxf.readfile(path), []
    except MemoryError:
        raise
    except Exception as strict_error:  # ezdxf raises many kinds on damaged input; recover decides below
        refusal = (str(strict_error).strip().splitlines() or [type(strict_error).__name__])[0][:_MAX_REFUSAL_CHARS]
    try:
        doc, auditor = recover.readfile(path)
    except MemoryError:
        raise
    except Exception as exc:
        raise CorruptFileError(f"{filename} is a damaged DXF file that cannot be repaired: {exc}") from exc
    return doc, _repair_warnings(filename, refusal, [*auditor.fixes, *auditor.errors])


def _repair_warnings(filename: str, refusal: str, reported: list[Any]) -> list[str]:
    """What recover says it repaired; when it says nothing, only why the strict reader refused the file."""
    if not reported:
        return [f"{filename} does not follow the DXF structure ({refusal}); read with ezdxf.recover"]
    messages = list(dict.fromkeys(entry.message for entry in reported))
    summary = f"{filename} was damaged and has been repaired on reading: {len(messages)} problem(s) reported"
    return [summary, *(f"repair: {message}" for message in messages[:_MAX_REPAIR_WARNINGS])]


def _tail(path: Path) -> bytes:
    with path.open("rb") as stream:
        stream.seek(max(0, path.stat().st_size - _TAIL_BYTES))
        return stream.read()


def _ends_with_eof_marker(path: Path) -> bool:
    # ASCII DXF ends "  0\nEOF\n"; binary DXF ends with "EOF\0"; some writers append a DOS Ctrl-Z.
    return _tail(path).rstrip(b" \t\r\n\x00\x1a").endswith(b"EOF")


def _ends_after_a_whole_section(path: Path) -> bool:
    """The last two lines are the group code 0 and ENDSEC: the file stops between sections."""
    lines = [line.strip() for line in _tail(path).rstrip(b" \t\r\n\x1a").splitlines()]
    return len(lines) >= 2 and lines[-2:] == [b"0", b"ENDSEC"]


_REWRITTEN_ON_LOADING = frozenset({"$ACADVER", "$TDCREATE"})


def _file_header(path: Path, binary: bool) -> dict[str, str]:
    """The variables ezdxf rewrites on loading, as written in the file's HEADER section (empty when unreadable)."""
    try:
        if binary:
            with path.open("rb") as stream:
                return _header_values(binary_tags_loader(stream.read(_BINARY_HEADER_BYTES)))
        with path.open("rt", encoding="cp1252", errors="ignore") as text:
            return _header_values(ascii_tags_loader(text))
    except Exception:  # a damaged header: the values stay unknown, the readers decide about the file
        return {}


def _header_values(tags: Iterator[DXFTag]) -> dict[str, str]:
    values: dict[str, str] = {}
    if next(tags, None) != (0, "SECTION") or next(tags, None) != (2, "HEADER"):
        return values
    name = None
    for tag in tags:
        if tag == (0, "ENDSEC") or len(values) == len(_REWRITTEN_ON_LOADING):
            break
        if tag.code == 9:
            name = tag.value if tag.value in _REWRITTEN_ON_LOADING else None
        elif name is not None:
            values.setdefault(name, str(tag.value).strip())
            name = None
    return values
