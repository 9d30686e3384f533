"""Misbehaving "extractors" for the sandbox tests, run in the child through ``Sandbox.call``.

Each stands for what a hostile file can make a parser do: spin forever, allocate without bound, crash in
native code, raise an unexpected exception or a typed one.
"""

from __future__ import annotations

import ctypes
import os
import time
from typing import Any

from extraction_pipeline.errors import CorruptFileError

GiB = 1024 * 1024 * 1024


def child_pid() -> int:
    return os.getpid()


def echo(value: Any) -> Any:
    return value


def sleep_forever() -> None:
    while True:
        time.sleep(60)


def spin_forever() -> None:
    while True:
        pass


def allocate(size: int = 4 * GiB) -> int:
    block = bytearray(size)
    return len(block)


def exit_abruptly(status: int = 139) -> None:
    os._exit(status)


def segfault() -> None:
    ctypes.string_at(0)


def raise_value_error() -> None:
    raise ValueError("unexpected byte 0xff at offset 12")


def raise_corrupt(filename: str) -> None:
    raise CorruptFileError(f"{filename} is truncated after 12 bytes")


def unpicklable_result() -> Any:
    return lambda: None


def address_space_limit() -> int:
    import resource

    return resource.getrlimit(resource.RLIMIT_AS)[0]


def import_heavy_libraries() -> list[str]:
    """Import the parsers' native libraries the way the extractors do, under the child's memory cap."""
    import ezdxf
    import ifcopenshell
    import ifcopenshell.geom
    import numpy
    import pdfplumber
    import pypdfium2

    return [module.__name__ for module in (ezdxf, ifcopenshell, ifcopenshell.geom, numpy, pdfplumber, pypdfium2)]


class DamagedHeaderError(CorruptFileError):
    """A subclass an extractor module might define for itself."""


def raise_own_subclass(filename: str) -> None:
    raise DamagedHeaderError(f"{filename} has a damaged header")


def rendezvous(directory: str, parties: int, give_up_seconds: float) -> int:
    """Sign in under ``directory`` and wait until ``parties`` children have signed in (or give up); returns how many
    had. Only children running at the same time all meet: serialized calls each see fewer."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, str(os.getpid())), "w"):
        pass
    deadline = time.monotonic() + give_up_seconds
    while len(os.listdir(directory)) < parties and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(os.listdir(directory))
