"""Where the tests find the real-world files, and what a test does when they are absent.

The files live outside the repository, in the project's sibling folder ``../shared/realworld`` (PyBase's store
under ``pybase/``, the scored drawings under ``drawings/``). A developer without that folder gets a skip with the
path in the summary; with ``EXTRACTION_REQUIRE_SHARED=1`` (set by ``.ci/run``) the test fails instead, so CI can
never pass by skipping them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REALWORLD_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "realworld"
REQUIRE_SHARED_ENV = "EXTRACTION_REQUIRE_SHARED"


def shared_files_required() -> bool:
    return os.environ.get(REQUIRE_SHARED_ENV) == "1"


def realworld_path(*parts: str) -> Path:
    """``../shared/realworld/<parts>``: skips the calling test when absent, fails it under the require flag."""
    path = REALWORLD_ROOT.joinpath(*parts)
    if not path.exists():
        reason = f"real-world files not present at {path} (they live in the project's sibling shared/ folder)"
        if shared_files_required():
            pytest.fail(f"{REQUIRE_SHARED_ENV}=1 but {reason}")
        pytest.skip(reason)
    return path
