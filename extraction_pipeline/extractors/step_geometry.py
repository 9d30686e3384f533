"""STEP geometry through OpenCascade (the optional ``OCP`` package, extra ``geometry``): solid count,
volume, surface area and bounding box of the whole file.

OpenCascade runs in a short-lived process of its own (``python -m extraction_pipeline.extractors.step_geometry
FILE``), not in the sandbox's warm child: its libraries map about 800 MiB of address space, which would stay in
the child and count against ``EXTRACTION_MEMORY_LIMIT_BYTES`` for every later file of any format (and a load that
fails half-way leaves a process unable to allocate at all). The process inherits the child's limits; a crash,
an out-of-memory or a hang there costs the geometry only, with a warning.

OpenCascade's STEP reader converts every length into millimetres (its default session unit, whatever the
file's own unit), so the volume is in mm3, the area in mm2 and the bounding box in mm. Without OCP, or for a
file without faces, the result's ``geometry`` is None and a warning says that geometry was not computed.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from extraction_pipeline.extractors.schema import Extents, StepGeometry

GEOMETRY_UNIT = "mm"
GEOMETRY_TIMEOUT_SECONDS = 60.0
NOT_INSTALLED_WARNING = (
    "geometry was not computed: the optional OCP (OpenCascade) package is not installed "
    "(pip install 'extraction_pipeline[geometry]')"
)
NO_SHAPE_WARNING = "geometry was not computed: the file holds no shape OpenCascade can build"


def measure_geometry(
    path: Path, warnings: list[str], *, has_faces: bool = True, timeout_seconds: float = GEOMETRY_TIMEOUT_SECONDS
) -> StepGeometry | None:
    """Solids, volume, area and bounding box, or None with a warning saying why there are none.
    ``has_faces=False`` (the file has no face entity: product structure only) skips OpenCascade."""
    if not _ocp_installed():
        warnings.append(NOT_INSTALLED_WARNING)
        return None
    if not has_faces:
        warnings.append(NO_SHAPE_WARNING)
        return None
    command = [sys.executable, "-m", __name__, str(path)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_seconds, check=False)
    except subprocess.TimeoutExpired:
        warnings.append(f"geometry was not computed: OpenCascade took longer than {timeout_seconds:g} s")
        return None
    except OSError as exc:
        warnings.append(f"geometry was not computed: OpenCascade could not be started ({exc})")
        return None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        warnings.append(
            f"geometry was not computed: OpenCascade stopped with exit status {done.returncode} "
            "(out of memory under EXTRACTION_MEMORY_LIMIT_BYTES, or a crash on this file)"
        )
        return None
    answer = json.loads(lines[-1])
    warnings.extend(answer["warnings"])
    return StepGeometry.model_validate(answer["geometry"]) if answer["geometry"] is not None else None


def _ocp_installed() -> bool:
    return importlib.util.find_spec("OCP") is not None


def measure_in_this_process(path: Path, warnings: list[str]) -> StepGeometry | None:
    """The measurement itself (what the separate process runs); OpenCascade's failures become warnings."""
    try:
        import OCP  # noqa: F401 - fails here, not half-way through a measurement
    except ImportError as exc:  # installed but broken, or no room to load it under the memory limit
        warnings.append(f"geometry was not computed: OpenCascade could not be loaded ({exc})")
        return None
    try:
        return _measure(path, warnings)
    except Exception as exc:  # OpenCascade's own failures (MemoryError included)
        warnings.append(f"geometry was not computed: OpenCascade could not measure it ({exc})")
        return None


def _silence_opencascade() -> None:
    """OpenCascade prints its reader's complaints to the process's stdout (where ``extract --json`` writes);
    its findings that matter become warnings here instead."""
    from OCP.Message import Message

    messenger = Message.DefaultMessenger_s()
    for printer in list(messenger.Printers()):
        messenger.RemovePrinter(printer)


def _measure(path: Path, warnings: list[str]) -> StepGeometry | None:
    from OCP.Bnd import Bnd_Box
    from OCP.BRepBndLib import BRepBndLib
    from OCP.BRepGProp import BRepGProp
    from OCP.GProp import GProp_GProps
    from OCP.IFSelect import IFSelect_RetDone
    from OCP.STEPControl import STEPControl_Reader
    from OCP.TopAbs import TopAbs_FACE, TopAbs_SOLID
    from OCP.TopExp import TopExp_Explorer

    _silence_opencascade()
    reader = STEPControl_Reader()
    if reader.ReadFile(str(path)) != IFSelect_RetDone:
        warnings.append("geometry was not computed: OpenCascade could not read the file's geometry")
        return None
    reader.TransferRoots()
    shape = reader.OneShape()
    if shape.IsNull() or not TopExp_Explorer(shape, TopAbs_FACE).More():
        # product structure without shapes: an empty compound is no measurement of 0 mm3
        warnings.append(NO_SHAPE_WARNING)
        return None
    solids = 0
    explorer = TopExp_Explorer(shape, TopAbs_SOLID)
    while explorer.More():
        solids += 1
        explorer.Next()
    volume, area = GProp_GProps(), GProp_GProps()
    BRepGProp.VolumeProperties_s(shape, volume)
    BRepGProp.SurfaceProperties_s(shape, area)
    box = Bnd_Box()
    BRepBndLib.AddOptimal_s(shape, box, False, False)  # exact geometry, no tolerance gap around it
    extents = None
    if not box.IsVoid():
        low, high = box.CornerMin(), box.CornerMax()  # cadquery-ocp 8 cannot return Bnd_Box.Get()'s tuple
        extents = Extents(min=(low.X(), low.Y(), low.Z()), max=(high.X(), high.Y(), high.Z()), unit=GEOMETRY_UNIT)
    # faces that close no solid (a surface model, or a damaged solid) enclose no volume worth reporting
    solid_volume = abs(volume.Mass()) if solids else None
    return StepGeometry(solids=solids, volume=solid_volume, area=area.Mass(), bounding_box=extents)


def main(argv: list[str]) -> int:
    """``python -m extraction_pipeline.extractors.step_geometry FILE``: one JSON line with ``geometry`` and
    ``warnings`` (OpenCascade's own messages are silenced, so stdout holds only this line)."""
    warnings: list[str] = []
    geometry = measure_in_this_process(Path(argv[0]), warnings)
    answer = {"geometry": geometry.model_dump(mode="json") if geometry is not None else None, "warnings": warnings}
    sys.stdout.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
