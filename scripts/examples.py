"""Regenerate ``docs/examples/<format>.json``: the result of each shipped sample, as the pipeline stores it.

Run: .venv/bin/python scripts/examples.py   (through ``extract_file``, the sandboxed path every run takes)
"""

from __future__ import annotations

import json
from pathlib import Path

from extraction_pipeline.extractors import extract_file

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "extraction_pipeline" / "samples"
EXAMPLES = REPO / "docs" / "examples"


def main() -> None:
    EXAMPLES.mkdir(parents=True, exist_ok=True)
    for sample in sorted(p for p in SAMPLES.iterdir() if p.is_file() and not p.name.startswith(".")):
        result = extract_file(sample, filename=sample.name)
        payload = result.to_json_dict()  # what the IO manager stores in extraction_jobs.result
        target = EXAMPLES / f"{payload['format']}.json"
        target.write_text(json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
        print(f"{sample.name} -> {target.relative_to(REPO)}")


if __name__ == "__main__":
    main()
