"""STEP geometry through OpenCascade (the optional ``OCP`` package, extra ``geometry``): solid count,
volume, surface area and bounding box of the whole file.

OpenCascade's STEP reader converts every length into millimetres (its default session unit, whatever the
file's own unit), so the volume is in mm3, the area in mm2 and the bounding box in mm. Without OCP the
result's ``geometry`` is None and a warning says that geometry was not computed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from extraction_pipeline.extractors.schema import Extents, StepGeometry

GEOMETRY_UNIT = "mm"
# cadquery-ocp maps ~780 MiB of shared libraries on import; a little more for reading and measuring
OCP_ADDRESS_SPACE_BYTES = 1024 << 20
NOT_INSTALLED_WARNING = (
    "geometry was not computed: the optional OCP (OpenCascade) package is not installed "
    "(pip install 'extraction_pipeline[geometry]')"
)

NO_SHAPE_WARNING = "geometry was not computed: the file holds no shape OpenCascade can build"


def measure_geometry(path: Path, warnings: list[str]) -> StepGeometry | None:
    """Solids, volume, area and bounding box, or None with a warning saying why there are none."""
    headroom = _address_space_headroom() if "OCP" not in sys.modules else None
    if headroom is not None and headroom < OCP_ADDRESS_SPACE_BYTES:
        # Loading OpenCascade into too small an address space fails half-way and leaves the process unable
        # to allocate anything: decide before trying.
        warnings.append(
            f"geometry was not computed: OpenCascade needs about {OCP_ADDRESS_SPACE_BYTES >> 20} MiB of "
            f"address space and only {headroom >> 20} MiB are left under the memory limit "
            "(EXTRACTION_MEMORY_LIMIT_BYTES)"
        )
        return None
    try:
        import OCP  # noqa: F401 - only whether the optional extra is installed
    except ModuleNotFoundError:
        warnings.append(NOT_INSTALLED_WARNING)
        return None
    except ImportError as exc:  # installed but broken
        warnings.append(f"geometry was not computed: OpenCascade could not be loaded ({exc})")
        return None
    try:
        return _measure(path, warnings)
    except Exception as exc:  # OpenCascade's own failures; the product structure still stands
        warnings.append(f"geometry was not computed: OpenCascade could not measure it ({exc})")
        return None


def _address_space_headroom() -> int | None:
    """Bytes of address space left under RLIMIT_AS (the sandbox's memory cap), None when unlimited or unknown."""
    try:
        import resource

        limit, _ = resource.getrlimit(resource.RLIMIT_AS)
        if limit == resource.RLIM_INFINITY:
            return None
        with open("/proc/self/status", encoding="ascii") as status:
            used_kib = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    except (ImportError, OSError, StopIteration, ValueError):
        return None
    return limit - used_kib * 1024


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
    return StepGeometry(solids=solids, volume=abs(volume.Mass()), area=area.Mass(), bounding_box=extents)
