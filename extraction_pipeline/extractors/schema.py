"""The one result schema every extractor returns (versioned; PyBase maps it into record fields).

Field names follow the shapes PyBase's extraction UI already reads (tables, text blocks, dimensions,
title block, BOM, CAD layers/blocks/geometry summary). Bump ``SCHEMA_VERSION`` on any incompatible change.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.0"

BBox = tuple[float, float, float, float]
"""(x0, y0, x1, y1) in the source's own units: PDF points (top-left origin) or drawing units."""


class FileFormat(str, Enum):
    PDF = "pdf"
    DXF = "dxf"
    IFC = "ifc"
    STEP = "step"
    WERK24 = "werk24"
    IMAGE = "image"  # PNG, JPEG, TIFF (multi-page too), read by OCR


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceInfo(_Model):
    filename: str
    size: int
    sha256: str


class TextBlock(_Model):
    text: str
    page: int | None = None
    layer: str | None = None
    bbox: BBox | None = None
    font_size: float | None = None
    # text read by OCR (a page without a usable text layer, a raster upload); None for the file's own text
    source: str | None = None  # "ocr"
    confidence: float | None = None  # the recognizer's, 0..1 (the lowest of the block's lines)
    rotation: float | None = None  # reading direction, degrees counter-clockwise (90: read bottom to top)
    polygon: list[tuple[float, float]] | None = None  # a rotated line's corners, its own top-left first


class Table(_Model):
    headers: list[str]
    rows: list[list[str]]
    page: int | None = None
    bbox: BBox | None = None
    num_rows: int = 0
    num_columns: int = 0
    # CAD tables (DXF ACAD_TABLE): the layout holding it instead of a page, its title row, its insertion point
    layout: str | None = None
    title: str | None = None
    insert_point: tuple[float, float, float] | None = None


class DimensionType(str, Enum):
    LINEAR = "linear"
    RADIUS = "radius"
    DIAMETER = "diameter"
    ANGULAR = "angular"
    ORDINATE = "ordinate"


class Dimension(_Model):
    value: float
    unit: str = "mm"
    tolerance_plus: float | None = None
    tolerance_minus: float | None = None  # a positive magnitude, as PyBase reads it
    dimension_type: DimensionType = DimensionType.LINEAR
    label: str | None = None
    text: str | None = None  # as printed: "10' - 8\"", ".650 [16.50]", "16 +0/-0,15", "Ø12 h11"
    fit: str | None = None  # ISO 286 fit such as "H7/g6"
    page: int | None = None
    layer: str | None = None
    bbox: BBox | None = None
    confidence: float = 1.0


class Thread(_Model):
    designation: str  # as written: "M8x1.25", "1/4-20 UNC"
    standard: str  # "ISO metric" | "UNC" | "UNF" | ...
    nominal_diameter: float
    pitch: float | None = None  # mm for metric
    threads_per_inch: float | None = None
    unit: str = "mm"
    page: int | None = None
    layer: str | None = None
    bbox: BBox | None = None


class SurfaceFinish(_Model):
    parameter: str  # "Ra", "Rz"
    value: float
    unit: str = "um"
    page: int | None = None
    layer: str | None = None
    bbox: BBox | None = None


class GdtCallout(_Model):
    characteristic: str  # "flatness", "position", ...
    tolerance: float | None = None
    datums: list[str] = Field(default_factory=list)
    text: str = ""
    page: int | None = None
    layer: str | None = None
    bbox: BBox | None = None


class TitleBlock(_Model):
    drawing_number: str | None = None
    title: str | None = None
    revision: str | None = None
    date: str | None = None
    author: str | None = None
    company: str | None = None
    scale: str | None = None
    sheet: str | None = None
    material: str | None = None
    finish: str | None = None
    custom_fields: dict[str, str] = Field(default_factory=dict)


class Bom(_Model):
    headers: list[str]
    items: list[dict[str, str]]
    total_items: int = 0


class Layer(_Model):
    name: str
    color: int | None = None
    linetype: str | None = None
    lineweight: int | None = None
    is_on: bool = True
    is_frozen: bool = False
    is_locked: bool = False
    entity_count: int = 0


class BlockAttribute(_Model):
    tag: str
    value: str


class Block(_Model):
    name: str
    insert_count: int = 0
    base_point: tuple[float, float, float] | None = None
    entity_count: int = 0
    # one list per insert, so every insert's attributes are kept (not only the first one's)
    attributes: list[list[BlockAttribute]] = Field(default_factory=list)


class GeometrySummary(_Model):
    lines: int = 0
    circles: int = 0
    arcs: int = 0
    polylines: int = 0
    splines: int = 0
    ellipses: int = 0
    points: int = 0
    hatches: int = 0
    solids: int = 0
    meshes: int = 0
    texts: int = 0
    dimensions: int = 0
    inserts: int = 0
    other: int = 0
    total: int = 0


class Extents(_Model):
    min: tuple[float, float, float]
    max: tuple[float, float, float]
    unit: str | None = None


class IfcSpatialNode(_Model):
    ifc_class: str
    global_id: str | None = None
    name: str | None = None
    elevation: float | None = None
    children: list[IfcSpatialNode] = Field(default_factory=list)


class IfcElement(_Model):
    ifc_class: str
    global_id: str
    name: str | None = None
    type_name: str | None = None
    storey: str | None = None
    materials: list[str] = Field(default_factory=list)
    property_sets: dict[str, dict[str, Any]] = Field(default_factory=dict)
    quantities: dict[str, dict[str, Any]] = Field(default_factory=dict)


class IfcModel(_Model):
    schema_identifier: str
    project_name: str | None = None
    hierarchy: list[IfcSpatialNode] = Field(default_factory=list)
    element_counts: dict[str, int] = Field(default_factory=dict)  # exact class, no subtype double count
    elements: list[IfcElement] = Field(default_factory=list)
    materials: list[str] = Field(default_factory=list)
    types: dict[str, int] = Field(default_factory=dict)  # type class/name -> count of typed occurrences
    # {"length": "ft", "area": "ft2", "volume": "ft3", "angle": "deg", "solid_angle": "sr"} (extractors/units.py)
    units: dict[str, str] = Field(default_factory=dict)
    unit_scales: dict[str, float] = Field(default_factory=dict)  # one such unit in m, m2, m3, rad, sr


class StepHeader(_Model):
    description: list[str] = Field(default_factory=list)
    implementation_level: str | None = None
    file_name: str | None = None
    timestamp: str | None = None
    author: list[str] = Field(default_factory=list)
    organization: list[str] = Field(default_factory=list)
    preprocessor_version: str | None = None
    originating_system: str | None = None
    authorization: str | None = None
    schema_identifiers: list[str] = Field(default_factory=list)


class StepProduct(_Model):
    entity_id: int
    id: str
    name: str | None = None
    description: str | None = None
    is_material: bool = False  # a raw material / stock modelled as a product: never an assembly root


class StepAssemblyNode(_Model):
    product_id: str
    name: str | None = None
    quantity: int = 1
    children: list[StepAssemblyNode] = Field(default_factory=list)


class StepGeometry(_Model):
    solids: int = 0
    volume: float | None = None
    area: float | None = None
    bounding_box: Extents | None = None


class StepModel(_Model):
    header: StepHeader
    products: list[StepProduct] = Field(default_factory=list)
    assembly: list[StepAssemblyNode] = Field(default_factory=list)
    units: dict[str, str] = Field(default_factory=dict)  # {"length": "mm", "angle": "rad", ...}
    unit_scales: dict[str, float] = Field(default_factory=dict)  # one such unit in m, rad, sr
    entity_count: int = 0
    geometry: StepGeometry | None = None


class OcrPage(_Model):
    page: int
    dpi: float  # the resolution the page was read at (lower than asked for very large sheets)
    lines: int
    seconds: float
    complete: bool = True  # False: time ran out before every tile of the page was read


class OcrInfo(_Model):
    pages: list[int]  # pages whose text came from OCR
    engine: str
    model_versions: dict[str, str] = Field(default_factory=dict)
    dpi: float  # requested (EXTRACTION_OCR_DPI / the ocr_dpi option)
    mean_confidence: float | None = None
    lines: int = 0
    page_details: list[OcrPage] = Field(default_factory=list)
    pages_not_read: list[int] = Field(default_factory=list)  # over EXTRACTION_OCR_MAX_PAGES or out of time


class ExtractionResult(_Model):
    schema_version: str = SCHEMA_VERSION
    format: FileFormat
    extractor_version: str
    source: SourceInfo
    metadata: dict[str, Any] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    # drawings (PDF, DXF, Werk24)
    text_blocks: list[TextBlock] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    dimensions: list[Dimension] = Field(default_factory=list)
    gdt: list[GdtCallout] = Field(default_factory=list)
    threads: list[Thread] = Field(default_factory=list)
    surface_finishes: list[SurfaceFinish] = Field(default_factory=list)
    title_block: TitleBlock | None = None
    bom: Bom | None = None
    # CAD (DXF)
    layers: list[Layer] = Field(default_factory=list)
    blocks: list[Block] = Field(default_factory=list)
    geometry_summary: GeometrySummary | None = None
    extents: Extents | None = None
    units: str | None = None
    # BIM / product structure
    ifc: IfcModel | None = None
    step: StepModel | None = None
    # OCR: which pages were read and how
    ocr: OcrInfo | None = None

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-ready dict (what goes into ``extraction_jobs.result`` and ``extract --json``)."""
        return self.model_dump(mode="json")
