"""The sandbox: a warm child process that survives hostile parsers, driven here with misbehaving probes."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from extraction_pipeline.errors import (
    ConfigurationError,
    CorruptFileError,
    ExtractionTimeoutError,
    ExtractorCrashedError,
    FileTooLargeError,
)
from extraction_pipeline.extractors import FileFormat, extract_file
from extraction_pipeline.extractors.hold import HELD_SUFFIX, TEST_HOLD_DIR_ENV
from extraction_pipeline.extractors.sandbox import (
    ExtractionLimits,
    MiB,
    Sandbox,
    default_sandbox,
    sandbox_enabled,
)
from extraction_pipeline_tests.extractors.dxf_builders import build_drawing_dxf
from extraction_pipeline_tests.live_stack import wait_for

PROBE = "extraction_pipeline_tests.extractors.sandbox_probe."
TIMEOUT_SECONDS = 1.0
# A stuck child is stopped: its 1 s cap plus wide room for a loaded machine (speed: benchmarks/speed_claims.py).
HANG_SECONDS = TIMEOUT_SECONDS + 30
MEMORY_BYTES = 1024 * MiB
LIMITS = ExtractionLimits(timeout_seconds=TIMEOUT_SECONDS, memory_bytes=MEMORY_BYTES)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(LIMITS, isolated=True) as shared:
        yield shared


def test_worker_process_is_reused_across_calls(sandbox: Sandbox) -> None:
    first = sandbox.call(PROBE + "child_pid")
    second = sandbox.call(PROBE + "child_pid")
    assert first == second == sandbox.pid
    assert first != os.getpid()


def test_child_runs_under_the_memory_cap(sandbox: Sandbox) -> None:
    assert sandbox.call(PROBE + "address_space_limit") == MEMORY_BYTES


@pytest.mark.parametrize("probe", ["sleep_forever", "spin_forever"])
def test_timeout_kills_the_child_and_the_next_call_runs_in_a_fresh_one(sandbox: Sandbox, probe: str) -> None:
    stuck_pid = sandbox.call(PROBE + "child_pid")
    started = time.monotonic()
    with pytest.raises(ExtractionTimeoutError) as raised:
        sandbox.call(PROBE + probe, label="stuck.pdf")
    assert time.monotonic() - started < HANG_SECONDS
    assert raised.value.message == (
        "stuck.pdf: extraction took longer than 1 s (EXTRACTION_TIMEOUT_SECONDS) and was stopped"
    )
    assert sandbox.call(PROBE + "echo", "next file") == "next file"
    assert sandbox.call(PROBE + "child_pid") != stuck_pid


def test_memory_bomb_is_refused_and_the_child_replaced(sandbox: Sandbox) -> None:
    before = sandbox.call(PROBE + "child_pid")
    # bytearray() raises MemoryError under RLIMIT_AS (a C parser may crash instead: see the hostile tests).
    with pytest.raises(FileTooLargeError) as raised:
        sandbox.call(PROBE + "allocate", 4 * 1024 * MiB, label="bomb.pdf")
    assert raised.value.message == (
        "bomb.pdf: extracting it needed more than 1024 MiB of memory (EXTRACTION_MEMORY_LIMIT_BYTES)"
    )
    # MemoryError may leave the heap in a poor state: the next file gets a fresh child.
    assert sandbox.call(PROBE + "child_pid") not in (before, None)


def test_abrupt_exit_is_a_crash(sandbox: Sandbox) -> None:
    with pytest.raises(ExtractorCrashedError) as raised:
        sandbox.call(PROBE + "exit_abruptly", 139, label="odd.dxf")
    assert raised.value.message.startswith(f"odd.dxf: {PROBE}exit_abruptly crashed (exit status 139); ")
    assert sandbox.call(PROBE + "echo", 2) == 2


def test_segfault_is_a_crash(sandbox: Sandbox) -> None:
    with pytest.raises(ExtractorCrashedError, match=r"^odd\.ifc: .* crashed \(killed by SIGSEGV\)"):
        sandbox.call(PROBE + "segfault", label="odd.ifc")
    assert sandbox.call(PROBE + "echo", 3) == 3


def test_unexpected_exception_becomes_corrupt_file_error(sandbox: Sandbox) -> None:
    pid = sandbox.call(PROBE + "child_pid")
    with pytest.raises(CorruptFileError) as raised:
        sandbox.call(PROBE + "raise_value_error", label="odd.step")
    assert raised.value.message == (
        f"odd.step could not be read: {PROBE}raise_value_error failed with "
        "ValueError: unexpected byte 0xff at offset 12"
    )
    assert sandbox.call(PROBE + "child_pid") == pid  # an exception does not cost the warm child


def test_typed_error_keeps_its_class_and_message(sandbox: Sandbox) -> None:
    with pytest.raises(CorruptFileError) as raised:
        sandbox.call(PROBE + "raise_corrupt", "part.stp")
    assert type(raised.value) is CorruptFileError
    assert raised.value.message == "part.stp is truncated after 12 bytes"


def test_error_subclass_of_an_extractor_module_arrives_as_its_shared_base(sandbox: Sandbox) -> None:
    # The parent must not import the extractor module (and its parser) just to name the error.
    with pytest.raises(CorruptFileError) as raised:
        sandbox.call(PROBE + "raise_own_subclass", "part.stp")
    assert type(raised.value) is CorruptFileError
    assert raised.value.message == "part.stp has a damaged header"


def test_result_that_cannot_cross_the_pipe_is_an_error(sandbox: Sandbox) -> None:
    with pytest.raises(CorruptFileError, match=r"^x\.pdf: the result of .* cannot be transferred"):
        sandbox.call(PROBE + "unpicklable_result", label="x.pdf")


def test_missing_code_is_a_configuration_error(sandbox: Sandbox) -> None:
    with pytest.raises(ConfigurationError, match=r"cannot load the code for .*no_such_function"):
        sandbox.call(PROBE + "no_such_function")


def test_child_killed_while_idle_is_replaced_transparently(sandbox: Sandbox) -> None:
    pid = sandbox.call(PROBE + "child_pid")
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.1)
    assert sandbox.call(PROBE + "child_pid") not in (pid, None)


def test_close_stops_the_child_and_the_sandbox_restarts_on_demand() -> None:
    with Sandbox(LIMITS, isolated=True) as own:
        pid = own.call(PROBE + "child_pid")
        own.close()
        assert own.pid is None
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        assert own.call(PROBE + "echo", "again") == "again"


def test_parser_libraries_import_under_the_default_memory_cap() -> None:
    with Sandbox(ExtractionLimits(timeout_seconds=60), isolated=True) as own:
        assert own.call(PROBE + "address_space_limit") == 2048 * MiB
        assert own.call(PROBE + "import_heavy_libraries") == [
            "ezdxf",
            "ifcopenshell",
            "ifcopenshell.geom",
            "numpy",
            "pdfplumber",
            "pypdfium2",
        ]


def test_in_process_mode_classifies_errors_the_same_way() -> None:
    own = Sandbox(LIMITS, isolated=False)
    assert own.call(PROBE + "child_pid") == os.getpid()
    assert own.pid is None
    with pytest.raises(CorruptFileError, match=r"failed with ValueError: unexpected byte 0xff"):
        own.call(PROBE + "raise_value_error", label="odd.step")
    with pytest.raises(CorruptFileError, match=r"^part\.stp is truncated after 12 bytes$"):
        own.call(PROBE + "raise_corrupt", "part.stp")


# --- configuration ----------------------------------------------------------------------------------------
def test_limits_defaults() -> None:
    assert ExtractionLimits.from_env({}) == ExtractionLimits(
        max_file_bytes=512 * MiB, timeout_seconds=120, memory_bytes=2048 * MiB
    )


def test_limits_from_environment() -> None:
    limits = ExtractionLimits.from_env(
        {
            "EXTRACTION_MAX_FILE_BYTES": "1048576",
            "EXTRACTION_TIMEOUT_SECONDS": "7.5",
            "EXTRACTION_MEMORY_LIMIT_BYTES": " 805306368 ",
        }
    )
    assert limits == ExtractionLimits(max_file_bytes=1024 * 1024, timeout_seconds=7.5, memory_bytes=768 * MiB)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("EXTRACTION_TIMEOUT_SECONDS", "soon", r"EXTRACTION_TIMEOUT_SECONDS must be a number, got 'soon'"),
        ("EXTRACTION_MEMORY_LIMIT_BYTES", "-1", r"memory_bytes must be positive, got -1"),
    ],
)
def test_invalid_limits_are_configuration_errors(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ExtractionLimits.from_env({variable: value})


@pytest.mark.parametrize(
    ("value", "expected"), [("", True), ("on", True), ("1", True), ("off", False), ("OFF", False), ("0", False)]
)
def test_sandbox_switch(value: str, expected: bool) -> None:
    assert sandbox_enabled({"EXTRACTION_SANDBOX": value}) is expected


def test_sandbox_switch_rejects_other_words() -> None:
    with pytest.raises(ConfigurationError, match=r"EXTRACTION_SANDBOX must be 'on' or 'off', got 'maybe'"):
        sandbox_enabled({"EXTRACTION_SANDBOX": "maybe"})


def test_default_sandbox_is_one_per_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTRACTION_SANDBOX", "off")  # no child needed to compare identities
    assert default_sandbox(LIMITS) is default_sandbox(LIMITS)
    assert default_sandbox(LIMITS) is not default_sandbox(ExtractionLimits(timeout_seconds=3))
    assert default_sandbox(LIMITS).isolated is False


def test_a_requested_hold_pauses_the_extraction_in_the_child_until_released(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold = tmp_path / "hold"
    hold.mkdir()
    monkeypatch.setenv(TEST_HOLD_DIR_ENV, str(hold))
    (hold / "held.dxf").touch()  # only this file is held
    held, free = build_drawing_dxf(tmp_path / "held.dxf"), build_drawing_dxf(tmp_path / "free.dxf")
    limits = ExtractionLimits(timeout_seconds=120)
    with Sandbox(limits, isolated=True) as sandbox, ThreadPoolExecutor(1) as thread:
        assert extract_file(free, filename="free.dxf", limits=limits, sandbox=sandbox).format is FileFormat.DXF
        pending = thread.submit(extract_file, held, filename="held.dxf", limits=limits, sandbox=sandbox)
        marker = hold / f"held.dxf{HELD_SUFFIX}"
        wait_for("the hold to begin", marker.exists, 60, 0.05)
        assert not pending.done() and int(marker.read_text()) == sandbox.pid
        (hold / "held.dxf").unlink()
        assert pending.result(timeout=60).format is FileFormat.DXF
    assert sorted(p.name for p in hold.iterdir()) == [f"held.dxf{HELD_SUFFIX}"]
