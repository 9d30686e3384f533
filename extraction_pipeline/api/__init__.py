"""The HTTP API for applications (PyBase): the jobs table and the operator actions of the CLI, behind bearer tokens.

Mount it in an existing FastAPI app with one line::

    from extraction_pipeline.api import extraction_router
    app.include_router(extraction_router, prefix="/extraction")

or run it alone: ``extraction-pipeline api --host 127.0.0.1 --port 8000``.
"""

from extraction_pipeline.api.app import create_app
from extraction_pipeline.api.auth import ApiAuth
from extraction_pipeline.api.context import ApiContext
from extraction_pipeline.api.routes import build_router, extraction_router

__all__ = ["ApiAuth", "ApiContext", "build_router", "create_app", "extraction_router"]
