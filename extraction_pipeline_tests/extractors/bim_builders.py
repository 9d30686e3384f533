"""Builders of small BIM / product-structure files the extractor tests read.

The IFC file is written with ifcopenshell.api, the STEP file is Part-21 text written out by hand (no library
in the venv writes AP214 product structure), so both tests read files whose content is known exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ifcopenshell
import ifcopenshell.api.aggregate
import ifcopenshell.api.context
import ifcopenshell.api.material
import ifcopenshell.api.project
import ifcopenshell.api.pset
import ifcopenshell.api.root
import ifcopenshell.api.spatial
import ifcopenshell.api.type
import ifcopenshell.api.unit

# --- IFC -----------------------------------------------------------------------------------------------


def build_building_ifc(path: Path) -> Path:
    """An IFC4 building in millimetres.

    Project "Test Project" → site "Test Site" → building "Test Building" → storeys "Ground Floor"
    (elevation 0) and "First Floor" (elevation 3000). Header: name "building.ifc", author "Ada Lovelace",
    organization "Analytical Engines Ltd". Ground floor: walls W-01 and W-02 (IfcWall, typed by
    IfcWallType "WT-200", whose material is "Concrete"), the IfcWallStandardCase W-03, slab S-01, door D-01
    and space "Room 101" (aggregated under the storey). First floor: slab S-02. W-01 carries
    Pset_WallCommon (IsExternal=True, FireRating="REI60") and Qto_WallBaseQuantities (Length=5000,
    Height=2800). S-01 has its own material "Screed".
    """
    model = ifcopenshell.api.project.create_file(version="IFC4")
    project = ifcopenshell.api.root.create_entity(model, ifc_class="IfcProject", name="Test Project")
    ifcopenshell.api.unit.assign_unit(model, length={"is_metric": True, "raw": "MILLIMETERS"})
    ifcopenshell.api.context.add_context(model, context_type="Model")

    site = ifcopenshell.api.root.create_entity(model, ifc_class="IfcSite", name="Test Site")
    building = ifcopenshell.api.root.create_entity(model, ifc_class="IfcBuilding", name="Test Building")
    ground = ifcopenshell.api.root.create_entity(model, ifc_class="IfcBuildingStorey", name="Ground Floor")
    first = ifcopenshell.api.root.create_entity(model, ifc_class="IfcBuildingStorey", name="First Floor")
    ground.Elevation = 0.0
    first.Elevation = 3000.0
    ifcopenshell.api.aggregate.assign_object(model, products=[site], relating_object=project)
    ifcopenshell.api.aggregate.assign_object(model, products=[building], relating_object=site)
    ifcopenshell.api.aggregate.assign_object(model, products=[ground, first], relating_object=building)

    space = ifcopenshell.api.root.create_entity(model, ifc_class="IfcSpace", name="Room 101")
    ifcopenshell.api.aggregate.assign_object(model, products=[space], relating_object=ground)

    wall_1 = ifcopenshell.api.root.create_entity(model, ifc_class="IfcWall", name="W-01")
    wall_2 = ifcopenshell.api.root.create_entity(model, ifc_class="IfcWall", name="W-02")
    wall_3 = ifcopenshell.api.root.create_entity(model, ifc_class="IfcWallStandardCase", name="W-03")
    slab_1 = ifcopenshell.api.root.create_entity(model, ifc_class="IfcSlab", name="S-01")
    slab_2 = ifcopenshell.api.root.create_entity(model, ifc_class="IfcSlab", name="S-02")
    door = ifcopenshell.api.root.create_entity(model, ifc_class="IfcDoor", name="D-01")
    ifcopenshell.api.spatial.assign_container(
        model, products=[wall_1, wall_2, wall_3, slab_1, door], relating_structure=ground
    )
    ifcopenshell.api.spatial.assign_container(model, products=[slab_2], relating_structure=first)

    wall_type = ifcopenshell.api.root.create_entity(model, ifc_class="IfcWallType", name="WT-200")
    ifcopenshell.api.type.assign_type(model, related_objects=[wall_1, wall_2], relating_type=wall_type)

    concrete = ifcopenshell.api.material.add_material(model, name="Concrete")
    screed = ifcopenshell.api.material.add_material(model, name="Screed")
    ifcopenshell.api.material.assign_material(model, products=[wall_type], material=concrete)
    ifcopenshell.api.material.assign_material(model, products=[slab_1], material=screed)

    pset = ifcopenshell.api.pset.add_pset(model, product=wall_1, name="Pset_WallCommon")
    ifcopenshell.api.pset.edit_pset(model, pset=pset, properties={"IsExternal": True, "FireRating": "REI60"})
    qto = ifcopenshell.api.pset.add_qto(model, product=wall_1, name="Qto_WallBaseQuantities")
    ifcopenshell.api.pset.edit_qto(model, qto=qto, properties={"Length": 5000.0, "Height": 2800.0})

    model.header.file_name.name = "building.ifc"
    model.header.file_name.author = ("Ada Lovelace",)
    model.header.file_name.organization = ("Analytical Engines Ltd",)
    model.write(str(path))
    return path


# --- STEP ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepPart:
    """One PRODUCT with its formation and definition; ``entity_id`` is the PRODUCT's instance number."""

    entity_id: int
    product_id: str
    name: str
    description: str = ""


_STEP_HEADER = """ISO-10303-21;
HEADER;
/* written by the extraction_pipeline tests */
FILE_DESCRIPTION(('Gearbox assembly','for tests'),'2;1');
FILE_NAME('gearbox.step','2024-05-06T07:08:09',('Ada Lovelace'),('Analytical Engines Ltd'),
  'ST-DEVELOPER v18','SolidWorks 2023','approved by QA');
FILE_SCHEMA(('AUTOMOTIVE_DESIGN { 1 0 10303 214 1 1 1 1 }'));
ENDSEC;
DATA;
#1=APPLICATION_CONTEXT('automotive design');
#2=PRODUCT_CONTEXT('',#1,'mechanical');
#3=PRODUCT_DEFINITION_CONTEXT('part definition',#1,'design');
#10=(LENGTH_UNIT()NAMED_UNIT(*)SI_UNIT(.MILLI.,.METRE.));
#11=(NAMED_UNIT(*)PLANE_ANGLE_UNIT()SI_UNIT($,.RADIAN.));
#12=(NAMED_UNIT(*)SI_UNIT($,.STERADIAN.)SOLID_ANGLE_UNIT());
#13=UNCERTAINTY_MEASURE_WITH_UNIT(LENGTH_MEASURE(1.E-07),#10,'distance_accuracy_value','confusion accuracy');
#14=(GEOMETRIC_REPRESENTATION_CONTEXT(3)GLOBAL_UNCERTAINTY_ASSIGNED_CONTEXT((#13))
  GLOBAL_UNIT_ASSIGNED_CONTEXT((#10,#11,#12))REPRESENTATION_CONTEXT('Context #1','3D Context'));
"""


def _step_string(text: str) -> str:
    """A Part-21 string literal: quotes doubled (non-ASCII must already be \\X2\\-encoded by the caller)."""
    return "'" + text.replace("'", "''") + "'"


def assembly_step_text(parts: list[StepPart], links: list[tuple[int, int]], extra_lines: tuple[str, ...] = ()) -> str:
    """A Part-21 AP214 file: each part as PRODUCT → PRODUCT_DEFINITION_FORMATION → PRODUCT_DEFINITION
    (instance numbers ``entity_id``, ``+1``, ``+2``), and one NEXT_ASSEMBLY_USAGE_OCCURRENCE per
    ``(parent entity_id, child entity_id)`` link, numbered from 1000; ``extra_lines`` end the DATA section."""
    lines = [_STEP_HEADER]
    for part in parts:
        n = part.entity_id
        lines.append(
            f"#{n}=PRODUCT({_step_string(part.product_id)},{_step_string(part.name)},"
            f"{_step_string(part.description)},(#2));\n"
        )
        lines.append(f"#{n + 1}=PRODUCT_DEFINITION_FORMATION_WITH_SPECIFIED_SOURCE('','',#{n},.NOT_KNOWN.);\n")
        lines.append(f"#{n + 2}=PRODUCT_DEFINITION('design','',#{n + 1},#3);\n")
    for index, (parent, child) in enumerate(links):
        lines.append(
            f"#{1000 + index}=NEXT_ASSEMBLY_USAGE_OCCURRENCE('NAUO{index + 1}','Next assembly relationship',"
            f"'',#{parent + 2},#{child + 2},$);\n"
        )
    lines.extend(f"{line}\n" for line in extra_lines)
    lines.append("ENDSEC;\nEND-ISO-10303-21;\n")
    return "".join(lines)


GEARBOX = StepPart(100, "ASM-100", "Gearbox", "Two-stage gearbox")
SHAFT = StepPart(200, "P-200", "Shaft")
BEARING = StepPart(300, "P-300", "Bearing 6204")


def build_assembly_step(path: Path) -> Path:
    """Three products (Gearbox ASM-100, Shaft P-200, Bearing P-300); the gearbox uses the shaft and the
    bearing once each (two NAUO links); units mm / rad / sr."""
    path.write_text(assembly_step_text([GEARBOX, SHAFT, BEARING], [(100, 200), (100, 300)]), encoding="ascii")
    return path


STEEL_BAR = StepPart(600, "RM-600", "Steel bar 40x40 S235")
PTFE_SHEET = StepPart(700, "RM-700", "PTFE sheet 2 mm")
GREASE = StepPart(800, "RM-800", "Grease NLGI 2")


def material_step_text() -> str:
    """The gearbox assembly plus three materials modelled as products, the ways writers do it: the steel bar
    is the stock the shaft is made from (MAKE_FROM_USAGE_OPTION #1100, shaft P-200 made from RM-600), the
    PTFE sheet is in the AP214 product category "raw material" (#1101), the grease's PRODUCT points at a
    PRODUCT_CONTEXT of discipline "material" (#4) instead of the mechanical #2; the parts are in the category
    "part" (#1102)."""
    extra = (
        "#4=PRODUCT_CONTEXT('',#1,'material');",
        "#1100=MAKE_FROM_USAGE_OPTION('MF1','made from','',#202,#602,1,'preferred',"
        "MEASURE_WITH_UNIT(LENGTH_MEASURE(250.),#10));",
        "#1101=PRODUCT_RELATED_PRODUCT_CATEGORY('raw material',$,(#700));",
        "#1102=PRODUCT_RELATED_PRODUCT_CATEGORY('part',$,(#100,#200,#300));",
    )
    parts = [GEARBOX, SHAFT, BEARING, STEEL_BAR, PTFE_SHEET, GREASE]
    return assembly_step_text(parts, [(100, 200), (100, 300)], extra).replace(
        "#800=PRODUCT('RM-800','Grease NLGI 2','',(#2));", "#800=PRODUCT('RM-800','Grease NLGI 2','',(#4));"
    )


# --- IFC as other tools write it -----------------------------------------------------------------------

_IMPERIAL_UNITS = {
    # length name -> (area name, volume name, metres per unit)
    "FOOT": ("SQUARE FOOT", "CUBIC FOOT", 0.3048),
    "INCH": ("SQUARE INCH", "CUBIC INCH", 0.0254),
}


def _imperial_unit_lines(length_name: str) -> list[str]:
    """Revit's way: each conversion-based unit points at an IfcMeasureWithUnit holding an IfcRatioMeasure of
    the SI unit (#11 m, #15 m2, #19 m3, #23 rad); the assignment is #26."""
    area_name, volume_name, metres = _IMPERIAL_UNITS[length_name]
    return [
        "#10=IFCDIMENSIONALEXPONENTS(0,0,0,0,0,0,0);",
        "#11=IFCSIUNIT(*,.LENGTHUNIT.,$,.METRE.);",
        f"#12=IFCMEASUREWITHUNIT(IFCRATIOMEASURE({metres!r}),#11);",
        "#13=IFCDIMENSIONALEXPONENTS(1,0,0,0,0,0,0);",
        f"#14=IFCCONVERSIONBASEDUNIT(#13,.LENGTHUNIT.,'{length_name}',#12);",
        "#15=IFCSIUNIT(*,.AREAUNIT.,$,.SQUARE_METRE.);",
        f"#16=IFCMEASUREWITHUNIT(IFCRATIOMEASURE({metres**2!r}),#15);",
        "#17=IFCDIMENSIONALEXPONENTS(2,0,0,0,0,0,0);",
        f"#18=IFCCONVERSIONBASEDUNIT(#17,.AREAUNIT.,'{area_name}',#16);",
        "#19=IFCSIUNIT(*,.VOLUMEUNIT.,$,.CUBIC_METRE.);",
        f"#20=IFCMEASUREWITHUNIT(IFCRATIOMEASURE({metres**3!r}),#19);",
        "#21=IFCDIMENSIONALEXPONENTS(3,0,0,0,0,0,0);",
        f"#22=IFCCONVERSIONBASEDUNIT(#21,.VOLUMEUNIT.,'{volume_name}',#20);",
        "#23=IFCSIUNIT(*,.PLANEANGLEUNIT.,$,.RADIAN.);",
        "#24=IFCMEASUREWITHUNIT(IFCRATIOMEASURE(0.0174532925199433),#23);",
        "#25=IFCCONVERSIONBASEDUNIT(#10,.PLANEANGLEUNIT.,'DEGREE',#24);",
        "#26=IFCUNITASSIGNMENT((#14,#18,#22,#25));",
    ]


_METRIC_UNIT_LINES = [
    "#11=IFCSIUNIT(*,.LENGTHUNIT.,.MILLI.,.METRE.);",
    "#15=IFCSIUNIT(*,.AREAUNIT.,$,.SQUARE_METRE.);",
    "#19=IFCSIUNIT(*,.VOLUMEUNIT.,$,.CUBIC_METRE.);",
    "#23=IFCSIUNIT(*,.PLANEANGLEUNIT.,$,.RADIAN.);",
    "#26=IFCUNITASSIGNMENT((#11,#15,#19,#23));",
]

_OWNER_LINES = [
    "#1=IFCPERSON($,'Hopper','Grace',$,$,$,$,$);",
    "#2=IFCORGANIZATION($,'Compilers Inc',$,$,$);",
    "#3=IFCPERSONANDORGANIZATION(#1,#2,$);",
    "#4=IFCAPPLICATION(#2,'2021','Autodesk Revit 2021 (ENU)','Revit');",
    "#5=IFCOWNERHISTORY(#3,#4,$,.NOCHANGE.,$,$,$,0);",
    "#30=IFCCARTESIANPOINT((0.,0.,0.));",
    "#31=IFCAXIS2PLACEMENT3D(#30,$,$);",
    "#32=IFCGEOMETRICREPRESENTATIONCONTEXT($,'Model',3,1.E-05,#31,$);",
    "#41=IFCLOCALPLACEMENT($,#31);",
]

_PROJECT_LINES = [
    "#40=IFCPROJECT('0000000000000000000040',#5,'Revit Style Project',$,$,$,$,(#32),{units});",
    "#42=IFCSITE('0000000000000000000042',#5,'Site',$,$,#41,$,$,.ELEMENT.,$,$,$,$,$);",
    "#43=IFCBUILDING('0000000000000000000043',#5,'Building',$,$,#41,$,$,.ELEMENT.,$,$,$);",
    "#44=IFCBUILDINGSTOREY('0000000000000000000044',#5,'Level 1',$,$,#41,$,$,.ELEMENT.,0.);",
    "#45=IFCRELAGGREGATES('0000000000000000000045',#5,$,$,#40,(#42));",
    "#46=IFCRELAGGREGATES('0000000000000000000046',#5,$,$,#42,(#43));",
    "#47=IFCRELAGGREGATES('0000000000000000000047',#5,$,$,#43,(#44));",
    "#51=IFCRELCONTAINEDINSPATIALSTRUCTURE('0000000000000000000051',#5,$,$,(#50,#52),#44);",
]

# The wall's sets, as Revit's IFC2X3 exports write them: quantities and a property with an unset Name ($).
_WALL_LINES = [
    "#50=IFCWALLSTANDARDCASE('0000000000000000000050',#5,'Basic Wall:Generic 8in',$,$,#41,$,'316302');",
    "#52=IFCWALL('0000000000000000000052',#5,'Basic Wall:Parapet',$,$,#41,$,'316400');",
    "#60=IFCQUANTITYLENGTH('Length',$,$,20.);",
    "#61=IFCQUANTITYAREA($,$,$,180.);",
    "#62=IFCQUANTITYVOLUME($,$,$,120.);",
    "#63=IFCELEMENTQUANTITY('0000000000000000000063',#5,'BaseQuantities',$,'Revit',(#60,#61,#62));",
    "#64=IFCRELDEFINESBYPROPERTIES('0000000000000000000064',#5,$,$,(#50),#63);",
    "#70=IFCPROPERTYSINGLEVALUE('IsExternal',$,IFCBOOLEAN(.T.),$);",
    "#71=IFCPROPERTYSINGLEVALUE($,$,IFCLABEL('orphan value'),$);",
    "#72=IFCPROPERTYSET('0000000000000000000072',#5,'Pset_WallCommon',$,(#70,#71));",
    "#73=IFCRELDEFINESBYPROPERTIES('0000000000000000000073',#5,$,$,(#50),#72);",
    "#74=IFCPROPERTYSINGLEVALUE('Phase',$,IFCLABEL('New Construction'),$);",
    "#75=IFCPROPERTYSET('0000000000000000000075',#5,$,$,(#74));",
    "#76=IFCRELDEFINESBYPROPERTIES('0000000000000000000076',#5,$,$,(#50),#75);",
]


def revit_style_ifc_text(*, length_unit: str | None = "FOOT", project: bool = True, schema: str = "IFC2X3") -> str:
    """An IFC2X3 file written the way Revit's exporter writes one (hand-written Part 21, so every instance
    number is known).

    ``length_unit``: ``"FOOT"`` or ``"INCH"`` (conversion-based length, area, volume units and DEGREE, as
    Revit writes imperial projects), ``"MILLIMETRE"`` (SI mm, m2, m3, rad) or None (no IfcUnitAssignment at
    all). ``project=False`` leaves out the IfcProject and the spatial structure (an exported fragment; the
    unit assignment, if any, is then attached to nothing). ``schema`` is only written into FILE_SCHEMA.

    Content: IfcWallStandardCase #50 "Basic Wall:Generic 8in" and IfcWall #52 "Basic Wall:Parapet" (in
    storey "Level 1" of site "Site" / building "Building" when there is a project). #50 carries the
    IfcElementQuantity "BaseQuantities" with Length #60 = 20, an unnamed area #61 = 180 and an unnamed volume
    #62 = 120; the property set "Pset_WallCommon" with IsExternal #70 = True and an unnamed label #71 =
    "orphan value"; and an unnamed property set #75 with Phase #74 = "New Construction".
    """
    if length_unit is None:
        unit_lines: list[str] = []
    elif length_unit == "MILLIMETRE":
        unit_lines = _METRIC_UNIT_LINES
    else:
        unit_lines = _imperial_unit_lines(length_unit)
    units_ref = "#26" if unit_lines else "$"
    project_lines = [line.format(units=units_ref) for line in _PROJECT_LINES] if project else []
    header = (
        "ISO-10303-21;\nHEADER;\n"
        "FILE_DESCRIPTION(('ViewDefinition [CoordinationView_V2.0]'),'2;1');\n"
        "FILE_NAME('revit_style.ifc','2024-03-01T10:00:00',('Grace Hopper'),('Compilers Inc'),"
        "'The EXPRESS Data Manager Version 5.02','21.1.0.0 - Exporter 21.1.0.0',$);\n"
        f"FILE_SCHEMA(('{schema}'));\nENDSEC;\nDATA;\n"
    )
    body = "\n".join([*_OWNER_LINES, *unit_lines, *project_lines, *_WALL_LINES])
    return header + body + "\nENDSEC;\nEND-ISO-10303-21;\n"


def build_revit_style_ifc(path: Path, **kwargs: object) -> Path:
    """``revit_style_ifc_text(**kwargs)`` written to ``path``."""
    path.write_text(revit_style_ifc_text(**kwargs), encoding="ascii")  # type: ignore[arg-type]
    return path


def build_imperial_ifc4(path: Path) -> Path:
    """An IFC4 project in imperial units the way ifcopenshell.api writes them (lowercase names, the factor as
    an IfcReal of the SI unit): foot, square foot, cubic foot and degree."""
    model = ifcopenshell.api.project.create_file(version="IFC4")
    ifcopenshell.api.root.create_entity(model, ifc_class="IfcProject", name="Imperial Project")
    names = ("foot", "square foot", "cubic foot", "degree")
    units = [ifcopenshell.api.unit.add_conversion_based_unit(model, name=name) for name in names]
    ifcopenshell.api.unit.assign_unit(model, units=units)
    model.write(str(path))
    return path
