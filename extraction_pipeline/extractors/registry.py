"""Format → extractor module. Modules are imported lazily: parsers are heavy and only the child needs them."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import cast

from extraction_pipeline.extractors.base import ExtractorModule
from extraction_pipeline.extractors.schema import FileFormat

_MODULES: dict[FileFormat, str] = {
    FileFormat.PDF: "extraction_pipeline.extractors.pdf",
    FileFormat.DXF: "extraction_pipeline.extractors.dxf",
    FileFormat.IFC: "extraction_pipeline.extractors.ifc",
    FileFormat.STEP: "extraction_pipeline.extractors.step",
    FileFormat.WERK24: "extraction_pipeline.extractors.werk24",
    FileFormat.IMAGE: "extraction_pipeline.extractors.image",
}


def extractor_for(file_format: FileFormat) -> ExtractorModule:
    return cast(ExtractorModule, importlib.import_module(_MODULES[file_format]))


def extractor_version(file_format: FileFormat) -> str:
    """``<format>/<module VERSION>``, e.g. ``dxf/1.0.0``."""
    return f"{file_format.value}/{extractor_for(file_format).VERSION}"


def declared_versions() -> dict[str, str]:
    """Every extractor's ``VERSION``, read from the module source without importing the parser libraries.

    The asset's ``code_version`` is built from these at load time, so the Dagster UI marks partitions
    extracted by an older extractor as stale after an upgrade.
    """
    import ast
    import importlib.util

    versions: dict[str, str] = {}
    for file_format, module_name in _MODULES.items():
        spec = importlib.util.find_spec(module_name)
        if spec is None or spec.origin is None:
            continue
        tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "VERSION" for t in node.targets
            ):
                versions[file_format.value] = ast.literal_eval(node.value)
    return versions
