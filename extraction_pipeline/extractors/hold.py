"""A test-only pause before a parser runs: the live-stack tests' way to have an extraction certainly in progress.

A test that cancels or interrupts an extraction needs one that is running at that moment, whatever the machine's
speed. ``EXTRACTION_TEST_HOLD_DIR`` names a directory; unset (as in every deployment) nothing here happens. Set,
the extraction of a file named ``N`` waits, right before its extractor runs, while ``<dir>/N`` exists, after
writing ``<dir>/N.held`` (the waiting process's pid); deleting ``<dir>/N`` lets it go on. Both the variable and a
per-file request must be put there on purpose, so no upload can pause anything. The wait counts against the
extraction's time budget like parsing would (the sandbox's timeout still applies).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

TEST_HOLD_DIR_ENV = "EXTRACTION_TEST_HOLD_DIR"
HELD_SUFFIX = ".held"


def hold_if_requested(filename: str) -> None:
    """Wait while the test's hold directory asks for ``filename`` to be held (see the module docstring)."""
    directory = os.environ.get(TEST_HOLD_DIR_ENV)
    if not directory or not filename or os.sep in filename:
        return
    request = Path(directory) / filename
    if not request.exists():
        return
    (Path(directory) / f"{filename}{HELD_SUFFIX}").write_text(str(os.getpid()))
    while request.exists():
        time.sleep(0.05)
