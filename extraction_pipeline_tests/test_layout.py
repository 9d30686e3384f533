"""The package's shape, checked from its source by ``scripts/check_layout.py``: no import circle (deferred imports
count), no module over 500 lines outside ``extractors/``, nothing imported from Dagster's private ``dagster._core``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

PROJECT = Path(__file__).resolve().parents[1]


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_layout", PROJECT / "scripts" / "check_layout.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_package_has_no_import_circle_no_oversized_module_and_no_private_dagster_import() -> None:
    assert _checker().find_problems(PROJECT) == []


def test_the_checker_finds_a_deferred_circle_a_long_module_and_a_private_dagster_import(tmp_path: Path) -> None:
    package = tmp_path / "extraction_pipeline"
    (package / "extractors").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from extraction_pipeline.b import g\n\n\ndef f():\n    return g\n")
    (package / "b.py").write_text("def g():\n    from extraction_pipeline import a  # deferred\n\n    return a\n")
    (package / "long.py").write_text("x = 1\n" * 501)
    (package / "extractors" / "parser.py").write_text("x = 1\n" * 900)  # parsers may be long
    (package / "private.py").write_text("from dagster._core.storage.tags import PARTITION_NAME_TAG\n")

    problems = _checker().find_problems(tmp_path)

    assert "import circle: extraction_pipeline.a <-> extraction_pipeline.b" in problems
    assert "extraction_pipeline/long.py: 501 lines (more than 500)" in problems
    assert "extraction_pipeline/private.py:1: imports dagster._core.storage.tags" in problems
    assert len(problems) == 3
