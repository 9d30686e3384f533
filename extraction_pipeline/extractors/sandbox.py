"""Run extractors in a warm child process with time and memory caps, so hostile input cannot harm the caller.

Parsers run C code (pdfium, ifcopenshell, zlib) on files anyone can upload. A file can make such code loop
forever, inflate a decompression bomb or crash outright; none of that may hang or kill the Dagster run worker
(or the CLI) that processes many files in a row. So each file is parsed in a child process that

- is started once with the ``spawn`` context (never ``fork``: the parent has threads) and then reused: a bulk
  import of thousands of files pays one process start, not one per file;
- caps its own address space (``RLIMIT_AS`` = ``ExtractionLimits.memory_bytes``) so a bomb ends in
  ``MemoryError`` (→ ``FileTooLargeError``) or a crash (→ ``ExtractorCrashedError``) instead of swapping the host;
- gets a per-request CPU budget (``RLIMIT_CPU``) as a backstop should the parent die mid-request;
- is killed with SIGKILL when a request outlives ``ExtractionLimits.timeout_seconds`` of wall-clock time
  (→ ``ExtractionTimeoutError``); the next request transparently starts a fresh child.

Typed ``ExtractionError``s raised in the child are re-raised in the parent with the same class and message.

``EXTRACTION_SANDBOX=off`` runs extractors in-process instead (no limits at all; for debugging with pdb or a
profiler only). Because the child is started with ``spawn``, a script that uses the sandbox must guard its
entry point with ``if __name__ == "__main__":`` (the child re-imports the parent's main module).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import math
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from extraction_pipeline import errors as errors_module
from extraction_pipeline import settings
from extraction_pipeline.errors import (
    ConfigurationError,
    CorruptFileError,
    ExtractionError,
    ExtractionTimeoutError,
    ExtractorCrashedError,
    FileTooLargeError,
)
from extraction_pipeline.extractors.schema import ExtractionResult, FileFormat, SourceInfo

MiB = 1024 * 1024

# The child reports ready after its interpreter starts; that is not the file's time, so it has its own budget.
_STARTUP_TIMEOUT_SECONDS = 60.0
_SHUTDOWN_TIMEOUT_SECONDS = 5.0
# A fresh child after this many files bounds leaks and heap fragmentation in the parsers' C code.
_MAX_REQUESTS_PER_WORKER = 500
# ...or as soon as the child's address space has grown past this share of the cap after a file, so
# the next file is not refused memory that the previous one left mapped.
_RECYCLE_ADDRESS_SPACE_SHARE = 0.5
_FALSE_WORDS = frozenset({"off", "0", "false", "no"})
_TRUE_WORDS = frozenset({"on", "1", "true", "yes", ""})


@dataclass(frozen=True)
class ExtractionLimits:
    """Caps on one file's extraction. ``from_env`` reads the ``EXTRACTION_*`` variables."""

    max_file_bytes: int = 512 * MiB
    timeout_seconds: float = settings.DEFAULT_TIMEOUT_SECONDS
    memory_bytes: int = 2048 * MiB

    def __post_init__(self) -> None:
        for name in ("max_file_bytes", "timeout_seconds", "memory_bytes"):
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"ExtractionLimits.{name} must be positive, got {getattr(self, name)}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ExtractionLimits:
        """Limits from ``EXTRACTION_MAX_FILE_BYTES``, ``EXTRACTION_TIMEOUT_SECONDS`` and
        ``EXTRACTION_MEMORY_LIMIT_BYTES``; unset variables keep the defaults."""
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            max_file_bytes=int(_env_number(env, "EXTRACTION_MAX_FILE_BYTES", defaults.max_file_bytes)),
            timeout_seconds=_env_number(env, settings.TIMEOUT_ENV, defaults.timeout_seconds),
            memory_bytes=int(_env_number(env, "EXTRACTION_MEMORY_LIMIT_BYTES", defaults.memory_bytes)),
        )


def _env_number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw) if "." in raw else int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from None


def sandbox_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """False when ``EXTRACTION_SANDBOX`` is ``off`` (also ``0``, ``false``, ``no``)."""
    raw = (os.environ if environ is None else environ).get("EXTRACTION_SANDBOX", "").strip().lower()
    if raw in _FALSE_WORDS:
        return False
    if raw in _TRUE_WORDS:
        return True
    raise ConfigurationError(f"EXTRACTION_SANDBOX must be 'on' or 'off', got {raw!r}")


class SandboxStartError(RuntimeError):
    """The child process could not be started: a problem of the host, not of any file."""


# --- the protocol between parent and child -----------------------------------------------------------
@dataclass(frozen=True)
class _Request:
    """``kind`` "extract": ``target`` is a FileFormat value; "call": a dotted name of any importable callable."""

    kind: str
    target: str
    label: str  # the file name errors are about
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    timeout_seconds: float = settings.DEFAULT_TIMEOUT_SECONDS


@dataclass(frozen=True)
class _Success:
    value: Any
    recycle: bool = False


@dataclass(frozen=True)
class _Failure:
    error_name: str  # a class of extraction_pipeline.errors
    message: str
    recycle: bool = False


_Response = _Success | _Failure


def _failure(error_class: type[ExtractionError], message: str, *, recycle: bool = False) -> _Failure:
    # Named by its nearest class in extraction_pipeline.errors: resolving a class defined in an extractor
    # module would make the parent import that module, and with it the parser library.
    shared = next(cls for cls in error_class.__mro__ if cls.__module__ == ExtractionError.__module__)
    return _Failure(shared.__qualname__, message, recycle)


_request_deadline: tuple[float, float] | None = None


def request_deadline() -> tuple[float | None, float | None]:
    """(``time.monotonic()`` by which the running request is stopped, its whole budget in seconds), or
    (None, None) outside a request. Long extractors (OCR) use it to stop early and return what they have."""
    return _request_deadline if _request_deadline is not None else (None, None)


def _execute(request: _Request, memory_bytes: int | None) -> _Response:
    """Run one request and classify its outcome; shared by the child and by the in-process mode."""
    global _request_deadline
    _request_deadline = (time.monotonic() + request.timeout_seconds, request.timeout_seconds)
    try:
        return _classified_outcome(request, memory_bytes)
    finally:
        _request_deadline = None


def _classified_outcome(request: _Request, memory_bytes: int | None) -> _Response:
    try:
        function = _resolve(request)
    except ExtractionError as error:
        return _failure(type(error), error.message)
    except Exception as error:
        return _failure(
            ConfigurationError, f"cannot load the code for {request.target}: {type(error).__name__}: {error}"
        )
    try:
        return _Success(function(*request.args, **request.kwargs))
    except ExtractionError as error:
        return _failure(type(error), error.message)
    except MemoryError:
        # The heap may be in a poor state after this: the child is replaced before the next file.
        return _failure(FileTooLargeError, _out_of_memory_message(request.label, memory_bytes), recycle=True)
    except Exception as error:
        # A parser that raises something unexpected on a file raises it again on every retry with the same
        # code: the outcome is deterministic for this file, hence a permanent CorruptFileError.
        return _failure(
            CorruptFileError,
            f"{request.label} could not be read: {_component(request)} failed with {type(error).__name__}: {error}",
        )


def _resolve(request: _Request) -> Any:
    if request.kind == "extract":
        from extraction_pipeline.extractors.registry import extractor_for

        return _checked_extract(extractor_for(FileFormat(request.target)).extract)
    module_name, _, attribute = request.target.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def _checked_extract(extract: Any) -> Any:
    from extraction_pipeline.extractors.hold import hold_if_requested
    from extraction_pipeline.extractors.registry import extractor_version

    def run(path: str, source: SourceInfo, options: dict[str, Any]) -> ExtractionResult:
        hold_if_requested(source.filename)  # test-only, inert unless EXTRACTION_TEST_HOLD_DIR is set
        result = extract(Path(path), source, options)
        if not isinstance(result, ExtractionResult):
            raise TypeError(f"extractor returned {type(result).__name__}, not ExtractionResult")
        # Stamped here, where the extractor module is already loaded: the parent never imports parsers.
        return result.model_copy(update={"extractor_version": extractor_version(result.format)})

    return run


def _component(request: _Request) -> str:
    return f"the {request.target.upper()} extractor" if request.kind == "extract" else request.target


def _out_of_memory_message(label: str, memory_bytes: int | None) -> str:
    if memory_bytes is None:
        return f"{label}: extracting it ran out of memory"
    return (
        f"{label}: extracting it needed more than {memory_bytes // MiB} MiB of memory (EXTRACTION_MEMORY_LIMIT_BYTES)"
    )


def _raise_or_return(response: _Response) -> Any:
    if isinstance(response, _Success):
        return response.value
    raise _error_class(response)(response.message)


def _error_class(failure: _Failure) -> type[ExtractionError]:
    found = getattr(errors_module, failure.error_name, None)
    return found if isinstance(found, type) and issubclass(found, ExtractionError) else CorruptFileError


# --- the child -----------------------------------------------------------------------------------------
def _serve(connection: Connection, memory_bytes: int) -> None:
    """The child's main loop: one request in, one pickled response out, until told to stop or orphaned."""
    # Ctrl-C in a terminal reaches the whole process group; only the parent decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # No parser does linear algebra worth threads, and OpenBLAS reserves address space per thread (a
    # many-core host would spend the memory cap on it) when numpy is imported after this point.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # OCR (onnxruntime, OpenCV) sizes its thread pools by the host's cores unless told otherwise; several
    # sandboxes run at once (one per concurrent run), so each gets EXTRACTION_OCR_THREADS (default 1).
    threads = os.environ.get("EXTRACTION_OCR_THREADS", "").strip() or "1"
    for variable in ("OMP_NUM_THREADS", "OPENCV_FOR_THREADS_NUM"):
        os.environ.setdefault(variable, threads)
    _apply_memory_limit(memory_bytes)
    connection.send_bytes(pickle.dumps(os.getpid()))
    for served in range(1, _MAX_REQUESTS_PER_WORKER + 1):
        try:
            request: _Request | None = pickle.loads(connection.recv_bytes())
        except EOFError:  # the parent is gone
            return
        if request is None:
            return
        _apply_cpu_budget(request.timeout_seconds)
        response = _execute(request, memory_bytes)
        recycle = (
            response.recycle
            or served == _MAX_REQUESTS_PER_WORKER
            or _address_space_bytes() > memory_bytes * _RECYCLE_ADDRESS_SPACE_SHARE
        )
        connection.send_bytes(_encode(_with_recycle(response, recycle), request, memory_bytes))
        if recycle:
            return


def _with_recycle(response: _Response, recycle: bool) -> _Response:
    if isinstance(response, _Success):
        return _Success(response.value, recycle)
    return _Failure(response.error_name, response.message, recycle)


def _encode(response: _Response, request: _Request, memory_bytes: int) -> bytes:
    try:
        return pickle.dumps(response, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        failure = _failure(FileTooLargeError, _out_of_memory_message(request.label, memory_bytes), recycle=True)
    except Exception as error:
        failure = _failure(
            CorruptFileError,
            f"{request.label}: the result of {_component(request)} cannot be transferred: {error}",
            recycle=response.recycle,
        )
    return pickle.dumps(failure)


def _apply_memory_limit(memory_bytes: int) -> None:
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    # A crashing parser should not leave a core file of up to memory_bytes on the worker's disk.
    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))


def _apply_cpu_budget(timeout_seconds: float) -> None:
    """Let the kernel end this request after about twice its wall-clock budget in CPU time.

    The parent's SIGKILL is the real timeout; this only matters if the parent died mid-request and nobody
    is left to kill a parser spinning in C code. RLIMIT_CPU counts the process's whole life, so the soft
    limit moves forward with every request (the hard limit stays, so it can be raised again).
    """
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + 2 * timeout_seconds + 5)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _address_space_bytes() -> int:
    """The child's current virtual size (Linux ``/proc``; 0 elsewhere, which never triggers a recycle)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


# --- the parent ----------------------------------------------------------------------------------------
class Sandbox:
    """A reusable child process that runs extractors under ``limits``; one request at a time.

    Use as a context manager, or call ``close()``; ``default_sandbox()`` gives the process-wide instance.
    """

    def __init__(self, limits: ExtractionLimits | None = None, *, isolated: bool | None = None) -> None:
        self.limits = limits if limits is not None else ExtractionLimits.from_env()
        self.isolated = sandbox_enabled() if isolated is None else isolated
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The current child's pid (None before the first request, after ``close`` or in-process)."""
        process = self._process
        return process.pid if process is not None and process.is_alive() else None

    def run(
        self,
        file_format: FileFormat,
        path: Path,
        source: SourceInfo,
        options: Mapping[str, Any],
        *,
        timeout_seconds: float | None = None,
    ) -> ExtractionResult:
        """Extract ``path`` with the registered extractor for ``file_format``; ``timeout_seconds`` overrides
        ``limits.timeout_seconds`` for this file (a remote engine waits on a service, not on a parser)."""
        request = _Request(
            kind="extract",
            target=file_format.value,
            label=source.filename,
            args=(str(path), source, dict(options)),
            timeout_seconds=timeout_seconds or self.limits.timeout_seconds,
        )
        result = self._submit(request)
        return result if isinstance(result, ExtractionResult) else ExtractionResult.model_validate(result)

    def call(self, dotted_name: str, *args: Any, label: str | None = None, **kwargs: Any) -> Any:
        """Run any importable callable (``"package.module.function"``) under the same caps; arguments
        and result must pickle. Tests use it to run misbehaving probes; production code uses ``run``."""
        request = _Request(
            kind="call",
            target=dotted_name,
            label=label or dotted_name,
            args=args,
            kwargs=kwargs,
            timeout_seconds=self.limits.timeout_seconds,
        )
        return self._submit(request)

    def close(self) -> None:
        """Stop the child (politely, then SIGKILL). The sandbox can still be used: it starts a new one."""
        with self._lock:
            self._stop_worker()

    def warm(self) -> None:
        """Start the child now (a batch starts its children while its first files download); a child that
        cannot start is left to the first request, which reports it."""
        if not self.isolated:
            return
        with self._lock, contextlib.suppress(SandboxStartError):
            self._worker()

    def _submit(self, request: _Request) -> Any:
        if not self.isolated:
            return _raise_or_return(_execute(request, None))
        with self._lock:
            return _raise_or_return(self._round_trip(request))

    def _round_trip(self, request: _Request) -> _Response:
        process, connection = self._worker()
        try:
            connection.send_bytes(pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:  # the idle child died (killed from outside): one fresh child, one more try
            self._kill_worker()
            process, connection = self._worker()
            connection.send_bytes(pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))
        if not self._answered_in_time(connection, process, request.timeout_seconds):
            self._kill_worker()
            raise ExtractionTimeoutError(
                f"{request.label}: extraction took longer than {request.timeout_seconds:g} s "
                "(EXTRACTION_TIMEOUT_SECONDS) and was stopped"
            )
        try:
            response: _Response = pickle.loads(connection.recv_bytes())
        except (EOFError, OSError):
            raise self._crash_error(request) from None
        if response.recycle:
            self._stop_worker()
        return response

    def _answered_in_time(self, connection: Connection, process: BaseProcess, timeout: float) -> bool:
        """Whether the child answered (or died) within ``timeout``. Interrupted meanwhile (a cancelled run), the
        child is killed: it is mid-request, and its late answer must not be read as the next request's."""
        try:
            return bool(wait([connection, process.sentinel], timeout=timeout))
        except BaseException:
            self._kill_worker()
            raise

    def _crash_error(self, request: _Request) -> ExtractionError:
        process = self._process
        assert process is not None
        process.join(_SHUTDOWN_TIMEOUT_SECONDS)
        exit_code = process.exitcode
        self._kill_worker()
        if exit_code == -signal.SIGXCPU:
            return ExtractionTimeoutError(
                f"{request.label}: extraction used more CPU time than its budget "
                f"(about {2 * request.timeout_seconds:g} s) and was stopped"
            )
        return ExtractorCrashedError(
            f"{request.label}: {_component(request)} crashed ({_describe_exit(exit_code)}); "
            f"the file triggers a parser bug or needs more than {self.limits.memory_bytes // MiB} MiB of memory"
        )

    def _worker(self) -> tuple[BaseProcess, Connection]:
        if self._process is not None and self._connection is not None and self._process.is_alive():
            return self._process, self._connection
        self._kill_worker()
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_serve, args=(child_end, self.limits.memory_bytes), name="extraction-sandbox", daemon=True
        )
        try:
            process.start()
        except OSError as error:
            raise SandboxStartError(f"cannot start the extraction sandbox process: {error}") from error
        finally:
            # Only the child may hold its end: then the child's death reads as EOF here.
            child_end.close()
        self._process, self._connection = process, parent_end
        if not wait([parent_end, process.sentinel], timeout=_STARTUP_TIMEOUT_SECONDS):
            self._kill_worker()
            raise SandboxStartError(f"the extraction sandbox did not start within {_STARTUP_TIMEOUT_SECONDS:g} s")
        try:
            parent_end.recv_bytes()
        except (EOFError, OSError):
            exit_code = process.exitcode
            self._kill_worker()
            raise SandboxStartError(
                f"the extraction sandbox exited while starting ({_describe_exit(exit_code)})"
            ) from None
        return process, parent_end

    def _stop_worker(self) -> None:
        process, connection = self._process, self._connection
        if process is not None and connection is not None and process.is_alive():
            with contextlib.suppress(OSError):
                connection.send_bytes(pickle.dumps(None))
            # Joining a child that exits by itself lets it flush what it must (coverage data, for one).
            process.join(_SHUTDOWN_TIMEOUT_SECONDS)
        self._kill_worker()

    def _kill_worker(self) -> None:
        process, connection = self._process, self._connection
        self._process = self._connection = None
        if connection is not None:
            connection.close()
        if process is not None:
            if process.is_alive():
                process.kill()
            process.join(_SHUTDOWN_TIMEOUT_SECONDS)
            process.close()


def _describe_exit(exit_code: int | None) -> str:
    if exit_code is None:
        return "it did not exit"
    if exit_code < 0:
        try:
            name = signal.Signals(-exit_code).name
        except ValueError:
            name = f"signal {-exit_code}"
        if exit_code == -signal.SIGKILL:
            return f"killed by {name}, most likely by the kernel for lack of memory"
        return f"killed by {name}"
    return f"exit status {exit_code}"


# --- the process-wide default ---------------------------------------------------------------------------
_defaults: dict[tuple[float, int, bool], Sandbox] = {}
_defaults_lock = threading.Lock()
_defaults_pid = os.getpid()


def default_sandbox(limits: ExtractionLimits | None = None) -> Sandbox:
    """The process-wide sandbox for ``limits`` (from the environment when None), so that a run worker
    processing many files reuses one child. Closed at interpreter exit."""
    global _defaults_pid
    limits = limits if limits is not None else ExtractionLimits.from_env()
    key = (limits.timeout_seconds, limits.memory_bytes, sandbox_enabled())
    with _defaults_lock:
        if _defaults_pid != os.getpid():
            # A forked copy of this module: the children belong to the parent process, not to us.
            _defaults.clear()
            _defaults_pid = os.getpid()
        sandbox = _defaults.get(key)
        if sandbox is None:
            sandbox = _defaults[key] = Sandbox(limits, isolated=key[2])
        return sandbox


def close_default_sandboxes() -> None:
    with _defaults_lock:
        sandboxes = list(_defaults.values()) if _defaults_pid == os.getpid() else []
        _defaults.clear()
    for sandbox in sandboxes:
        sandbox.close()


# Registered after multiprocessing's own exit handler, so it runs first and stops children politely.
atexit.register(close_default_sandboxes)
