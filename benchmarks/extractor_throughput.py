"""Extractor throughput, side by side: the bare parser library vs our extractor in-process vs ``extract_file``
through the warm sandbox. Not a test; see benchmarks/README.md for how to read the table.

    .venv/bin/python benchmarks/extractor_throughput.py [--rounds 3] [--formats pdf,dxf,ifc,step]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from extraction_pipeline.extractors import ExtractionLimits, Sandbox, extract_file

FORMATS = ("pdf", "dxf", "ifc", "step")
SUFFIXES = {"pdf": (".pdf",), "dxf": (".dxf",), "ifc": (".ifc",), "step": (".step", ".stp")}
DEFAULT_REALWORLD = Path(__file__).resolve().parents[2] / "shared" / "realworld" / "pybase"
GENERATED_SIZES = (1, 2, 4)  # scale factors of the generated files


# --- the bare library parse each extractor builds on -------------------------------------------------------
def parse_pdf(path: Path) -> None:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            page.extract_text()


def parse_dxf(path: Path) -> None:
    import ezdxf

    ezdxf.readfile(path)


def parse_ifc(path: Path) -> None:
    import ifcopenshell

    ifcopenshell.open(str(path)).by_type("IfcProduct")


def parse_step(path: Path) -> None:
    with path.open("rb") as lines:
        for _ in lines:
            pass


LIBRARY_PARSERS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "pdf": ("pdfplumber open + extract_text per page", parse_pdf),
    "dxf": ("ezdxf.readfile", parse_dxf),
    "ifc": ("ifcopenshell.open + by_type('IfcProduct')", parse_ifc),
    "step": ("read the file line by line", parse_step),
}


# --- generated files ------------------------------------------------------------------------------------------
def generate_pdf(path: Path, scale: int) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A3", orientation="landscape")
    pdf.set_font("helvetica", size=9)
    for page in range(scale):
        pdf.add_page()
        for row in range(12):
            for column in range(5):
                pdf.set_xy(20 + 60 * column, 20 + 8 * row)
                pdf.cell(55, 7, f"P{page}-{row}-{column} 25.4 +/-0.1", border=1)
        pdf.set_xy(300, 260)
        pdf.cell(100, 8, f"DRAWING NO: BM-{page:04d}   REV: B   SCALE: 1:2", border=1)
    pdf.output(str(path))


def generate_dxf(path: Path, scale: int) -> None:
    import ezdxf

    doc = ezdxf.new("R2018", setup=True)
    msp = doc.modelspace()
    for index in range(300 * scale):
        layer = f"LAYER-{index % 12}"
        msp.add_line((index, 0), (index, 100), dxfattribs={"layer": layer})
        msp.add_circle((index, 50), 2.5, dxfattribs={"layer": layer})
        if index % 4 == 0:
            msp.add_text(f"NOTE {index}: M8x1.25 Ra 1.6", dxfattribs={"insert": (index, 110), "layer": layer})
        if index % 10 == 0:
            msp.add_linear_dim(base=(index, -10), p1=(index, 0), p2=(index + 10, 0)).render()
    doc.saveas(path)


def generate_ifc(path: Path, scale: int) -> None:
    import ifcopenshell.api.aggregate
    import ifcopenshell.api.project
    import ifcopenshell.api.pset
    import ifcopenshell.api.root
    import ifcopenshell.api.spatial
    import ifcopenshell.api.unit

    model = ifcopenshell.api.project.create_file(version="IFC4")
    project = ifcopenshell.api.root.create_entity(model, ifc_class="IfcProject", name="Benchmark")
    ifcopenshell.api.unit.assign_unit(model)
    site = ifcopenshell.api.root.create_entity(model, ifc_class="IfcSite", name="Site")
    building = ifcopenshell.api.root.create_entity(model, ifc_class="IfcBuilding", name="Building")
    ifcopenshell.api.aggregate.assign_object(model, products=[site], relating_object=project)
    ifcopenshell.api.aggregate.assign_object(model, products=[building], relating_object=site)
    for level in range(scale):
        storey = ifcopenshell.api.root.create_entity(model, ifc_class="IfcBuildingStorey", name=f"Level {level}")
        ifcopenshell.api.aggregate.assign_object(model, products=[storey], relating_object=building)
        walls = [
            ifcopenshell.api.root.create_entity(model, ifc_class="IfcWall", name=f"W-{level}-{index}")
            for index in range(40)
        ]
        ifcopenshell.api.spatial.assign_container(model, products=walls, relating_structure=storey)
        for wall in walls:
            pset = ifcopenshell.api.pset.add_pset(model, product=wall, name="Pset_WallCommon")
            ifcopenshell.api.pset.edit_pset(model, pset=pset, properties={"IsExternal": True, "FireRating": "REI60"})
    model.write(str(path))


def generate_step(path: Path, scale: int) -> None:
    lines = [
        "ISO-10303-21;",
        "HEADER;",
        "FILE_DESCRIPTION(('benchmark'),'2;1');",
        "FILE_NAME('bench.step','2024-01-01T00:00:00',('bench'),('bench'),'','bench','');",
        "FILE_SCHEMA(('AUTOMOTIVE_DESIGN { 1 0 10303 214 1 1 1 1 }'));",
        "ENDSEC;",
        "DATA;",
        "#1=APPLICATION_CONTEXT('automotive design');",
        "#2=PRODUCT_CONTEXT('',#1,'mechanical');",
        "#3=PRODUCT_DEFINITION_CONTEXT('part definition',#1,'design');",
    ]
    next_id = 10
    definitions = []
    for index in range(100 * scale):
        product, formation, definition = next_id, next_id + 1, next_id + 2
        lines += [
            f"#{product}=PRODUCT('P-{index}','Part {index}','',(#2));",
            f"#{formation}=PRODUCT_DEFINITION_FORMATION('','',#{product});",
            f"#{definition}=PRODUCT_DEFINITION('design','',#{formation},#3);",
        ]
        for point in range(20):  # geometry-like bulk the reader has to stream past
            lines.append(f"#{next_id + 3 + point}=CARTESIAN_POINT('',({point}.,{index}.,0.));")
        definitions.append(definition)
        next_id += 30
    for child in definitions[1:]:
        lines.append(f"#{next_id}=NEXT_ASSEMBLY_USAGE_OCCURRENCE('{child}','','',#{definitions[0]},#{child},$);")
        next_id += 1
    lines += ["ENDSEC;", "END-ISO-10303-21;"]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")


GENERATORS: dict[str, Callable[[Path, int], None]] = {
    "pdf": generate_pdf,
    "dxf": generate_dxf,
    "ifc": generate_ifc,
    "step": generate_step,
}


# --- measuring ----------------------------------------------------------------------------------------------
@dataclass
class Row:
    file_format: str
    file_set: str
    files: int
    megabytes: float
    seconds: dict[str, float]  # mode -> best total over the rounds

    def files_per_second(self, mode: str) -> float:
        return self.files / self.seconds[mode]

    def ms_per_file(self, mode: str) -> float:
        return 1000 * self.seconds[mode] / self.files


def time_pass(work: Callable[[Path], object], paths: Sequence[Path]) -> float:
    started = time.perf_counter()
    for path in paths:
        work(path)
    return time.perf_counter() - started


def measure(
    file_format: str, file_set: str, paths: list[Path], sandbox: Sandbox, in_process: Sandbox, rounds: int
) -> Row:
    modes: dict[str, Callable[[Path], object]] = {
        "library": LIBRARY_PARSERS[file_format][1],
        "in-process": lambda path: extract_file(path, filename=path.name, sandbox=in_process),
        "sandbox": lambda path: extract_file(path, filename=path.name, sandbox=sandbox),
    }
    for work in modes.values():  # warm: imports, the child's first load of the parser
        time_pass(work, paths[:1])
    best = dict.fromkeys(modes, float("inf"))
    names = list(modes)
    for round_index in range(rounds):
        # Rotate the order each round, so a noisy neighbour does not always hit the same mode.
        for name in names[round_index % 3 :] + names[: round_index % 3]:
            best[name] = min(best[name], time_pass(modes[name], paths))
    megabytes = sum(path.stat().st_size for path in paths) / 1e6
    return Row(file_format, file_set, len(paths), megabytes, best)


def usable(paths: list[Path], in_process: Sandbox) -> list[Path]:
    """The files our extractor reads without error (a failing file would time an error path)."""
    kept = []
    for path in paths:
        try:
            extract_file(path, filename=path.name, sandbox=in_process)
        except Exception as error:
            print(f"  skipped {path.name}: {type(error).__name__}: {error}")
        else:
            kept.append(path)
    return kept


def realworld_files(root: Path, file_format: str) -> list[Path]:
    folder = root / file_format
    if not folder.is_dir():
        print(f"{file_format}: no real-world files ({folder} is absent); generated files only")
        return []
    return sorted(path for path in folder.iterdir() if path.suffix.lower() in SUFFIXES[file_format])


def generated_files(directory: Path, file_format: str) -> list[Path]:
    paths = []
    for scale in GENERATED_SIZES:
        path = directory / f"generated-{scale}{SUFFIXES[file_format][0]}"
        GENERATORS[file_format](path, scale)
        paths.append(path)
    return paths


def cold_start_seconds(path: Path) -> float:
    """The first file through a brand-new sandbox: child start plus the parser's import."""
    with Sandbox(ExtractionLimits.from_env(), isolated=True) as fresh:
        started = time.perf_counter()
        extract_file(path, filename=path.name, sandbox=fresh)
        return time.perf_counter() - started


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'format':6} {'set':9} {'files':>5} {'MB':>6} | {'library':>8} {'in-proc':>8} {'sandbox':>8} files/s | "
        f"{'in-proc/lib':>11} {'sandbox/in-proc':>15} {'overhead ms/file':>16}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        overhead = row.ms_per_file("sandbox") - row.ms_per_file("in-process")
        print(
            f"{row.file_format:6} {row.file_set:9} {row.files:5d} {row.megabytes:6.1f} | "
            f"{row.files_per_second('library'):8.1f} {row.files_per_second('in-process'):8.1f} "
            f"{row.files_per_second('sandbox'):8.1f}         | "
            f"{row.seconds['in-process'] / row.seconds['library']:11.2f} "
            f"{row.seconds['sandbox'] / row.seconds['in-process']:15.2f} {overhead:16.1f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="timed passes per mode; the best one counts")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated subset of pdf,dxf,ifc,step")
    parser.add_argument("--realworld", type=Path, default=DEFAULT_REALWORLD, help="folder with pdf/ dxf/ ifc/ step/")
    args = parser.parse_args(argv)
    formats = [name.strip() for name in args.formats.split(",") if name.strip()]
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        parser.error(f"unknown formats: {', '.join(unknown)}")

    rows: list[Row] = []
    in_process = Sandbox(isolated=False)
    with tempfile.TemporaryDirectory(prefix="throughput-") as tmp, Sandbox(isolated=True) as sandbox:
        for file_format in formats:
            print(f"{file_format}: bare library = {LIBRARY_PARSERS[file_format][0]}")
            sets = {
                "realworld": usable(realworld_files(args.realworld, file_format), in_process),
                "generated": usable(generated_files(Path(tmp), file_format), in_process),
            }
            for file_set, paths in sets.items():
                if paths:
                    rows.append(measure(file_format, file_set, paths, sandbox, in_process, args.rounds))
            first = next((paths[0] for paths in sets.values() if paths), None)
            if first is not None:
                print(f"  cold start (new child + parser import + first file): {cold_start_seconds(first):.2f} s")
    print()
    print_table(rows)
    return 0


if __name__ == "__main__":  # the sandbox child is spawned and re-imports this module: keep the guard
    sys.exit(main())
