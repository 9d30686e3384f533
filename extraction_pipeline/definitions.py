"""The code location: ``extraction_pipeline.definitions:defs``.

The assets, jobs, checks and sensors are loaded from the ``defs/`` folder (one folder per domain: detection,
extraction, recovery); the resources and the executor, which every domain shares, are wired here from the
environment.

``ComponentTree.from_module`` is ``load_from_defs_folder`` minus its search for a ``pyproject.toml`` above the
package: an installed wheel (the deploy image) has none next to ``site-packages``.
"""

import warnings
from pathlib import Path
from typing import Any

from dagster import ComponentTree, Definitions, PreviewWarning

import extraction_pipeline.defs
from extraction_pipeline.defs.extraction.executors import extraction_executor
from extraction_pipeline.defs.extraction.io_manager import ExtractionJobIOManager
from extraction_pipeline.defs.resources import ExtractionSettings, JobStoreResource, S3ClientResource, SqsQueueResource


def build_resources() -> dict[str, Any]:
    """Every resource of the code location, configured from the environment."""
    store = JobStoreResource.from_env()
    return {
        "job_store": store,
        "s3": S3ClientResource.from_env(),
        "extraction_settings": ExtractionSettings.from_env(),
        "extraction_jobs_io_manager": ExtractionJobIOManager(job_store=store),
        "sqs_queue": SqsQueueResource.from_env(),
    }


def build_defs() -> Definitions:
    """The ``defs/`` folder's definitions with the shared resources and executor."""
    package_root = Path(extraction_pipeline.defs.__file__).parent.parent
    with warnings.catch_warnings():
        # the module loader the tree uses is marked preview; load_from_defs_folder silences the same warning
        warnings.simplefilter("ignore", PreviewWarning)
        folder = ComponentTree.from_module(defs_module=extraction_pipeline.defs, project_root=package_root).build_defs()
    return Definitions.merge(folder, Definitions(resources=build_resources(), executor=extraction_executor()))


defs = build_defs()
