"""The shared real drawings (``<project>/../shared/realworld/drawings``) scored by their own scorer.

The scorer (``score.py`` next to the drawings' ``TRUTH.json``) is imported from the shared folder by path, never
copied: its ``extract`` runs ``extraction-pipeline extract FILE --json`` on each file, its ``evaluate`` judges
each check and ``group_of`` puts the check in its group (title blocks, dimensions, tables/BOM, ...). Here the
checks are only tallied per kind, per group and per format, for ``benchmarks/quality.py`` and the score floor
test (``extractors/test_shared_drawings.py``).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from extraction_pipeline_tests.realworld import REALWORLD_ROOT

DRAWINGS_DIR = REALWORLD_ROOT / "drawings"


class SharedDrawingsMissing(Exception):
    """The shared drawings, their truth or their scorer are not where the project expects them."""


@dataclass
class DrawingsScore:
    """Checks passed and made, as ``[passed, total]`` per check kind, group, format and file."""

    per_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    per_group: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    per_format: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    per_file: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    crashes: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    group_order: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> int:
        return sum(passed for passed, _ in self.per_kind.values())

    @property
    def total(self) -> int:
        return sum(total for _, total in self.per_kind.values())

    def group(self, label: str) -> tuple[int, int]:
        passed, total = self.per_group.get(label, [0, 0])
        return passed, total

    def summary(self) -> str:
        groups = ", ".join(f"{label} {p}/{t}" for label in self.group_order for p, t in [self.group(label)] if t)
        formats = ", ".join(f"{name} {p}/{t}" for name, (p, t) in sorted(self.per_format.items()))
        return (
            f"{self.passed}/{self.total} checks ({groups}); per format: {formats}; "
            f"{len(self.per_file) - len(self.crashes)}/{len(self.per_file)} files without crash"
        )

    def record(self, path: str, kind: str, group: str, ok: bool) -> None:
        for tally in (self.per_kind[kind], self.per_group[group], self.per_format[path.split("/")[0]]):
            tally[0] += ok
            tally[1] += 1
        self.per_file[path][0] += ok
        self.per_file[path][1] += 1


def load_scorer(directory: Path = DRAWINGS_DIR) -> ModuleType:
    """``score.py`` of the shared folder as a module of its own; it runs the extractor of this interpreter's venv."""
    path = directory / "score.py"
    if not (path.is_file() and (directory / "TRUTH.json").is_file()):
        raise SharedDrawingsMissing(f"the shared drawings' score.py and TRUTH.json are missing at {directory}")
    spec = importlib.util.spec_from_file_location("shared_drawings_score", path)
    if spec is None or spec.loader is None:
        raise SharedDrawingsMissing(f"{path} cannot be imported")
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    own_cli = Path(sys.executable).parent / "extraction-pipeline"
    if own_cli.exists():  # the scorer looks in <cwd>/.venv; the running venv is the one under test
        scorer.h.project_bin = lambda name: str(Path(sys.executable).parent / name)
    return scorer


def score_drawings(directory: Path = DRAWINGS_DIR, *, jobs: int = 2) -> DrawingsScore:
    """Every file of the shared set through the extractor, ``jobs`` at a time, each check judged by the scorer."""
    scorer = load_scorer(directory)
    truth: dict[str, list[dict[str, Any]]] = json.loads((directory / "TRUTH.json").read_text())["files"]
    missing = [name for name in truth if not (directory / name).is_file()]
    if missing:
        raise SharedDrawingsMissing(f"{len(missing)} shared drawings are missing, e.g. {directory / missing[0]}")
    started = time.perf_counter()
    files = sorted(truth)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        runs = dict(zip(files, pool.map(lambda name: scorer.extract(directory / name), files), strict=True))
    score = DrawingsScore(group_order=[label for label, _ in scorer.GROUPS], seconds=time.perf_counter() - started)
    for name in files:
        returncode, result, seconds = runs[name]
        if not _shaped(returncode, result):
            score.crashes.append(f"{name} (rc={returncode}, {seconds:.0f} s)")
        for check in truth[name]:
            ok, got = _judged(scorer, check, returncode, result)
            score.record(name, check["kind"], scorer.group_of(check["kind"]), ok)
            if not ok:
                got_text = json.dumps(got, ensure_ascii=False, default=str)[:100]
                score.misses.append(
                    f"{check['id']}: expect {json.dumps(check['expect'], ensure_ascii=False)[:80]} | got {got_text}"
                )
    return score


def _shaped(returncode: int | None, result: Any) -> bool:
    """A result (or a typed error) in the CLI's JSON shape, as the scorer demands of every file."""
    if returncode is None or not isinstance(result, dict):
        return False
    return "format" in result if returncode == 0 else isinstance(result.get("error"), dict)


def _judged(scorer: ModuleType, check: dict[str, Any], returncode: int | None, result: Any) -> tuple[bool, Any]:
    if returncode != 0 or not isinstance(result, dict):
        return False, f"no result (rc={returncode})"
    try:
        ok, got = scorer.evaluate(check, result)[:2]
    except Exception as error:  # a malformed field is a miss, as the scorer counts it
        return False, f"{type(error).__name__}: {error}"
    return bool(ok), got


def report_lines(score: DrawingsScore) -> list[str]:
    """The score as ``benchmarks/quality.py`` prints it: per group, per format, per kind."""
    lines = [f"all checks       {score.passed:4d}/{score.total:<4d} ({score.seconds:.0f} s)"]
    lines += [f"{label:16s} {p:4d}/{t:<4d}" for label in score.group_order for p, t in [score.group(label)] if t]
    lines.append("per format: " + ", ".join(f"{n} {p}/{t}" for n, (p, t) in sorted(score.per_format.items())))
    lines.append("per kind:   " + ", ".join(f"{k} {p}/{t}" for k, (p, t) in sorted(score.per_kind.items())))
    lines += [f"crash/hang: {crash}" for crash in score.crashes]
    return lines
