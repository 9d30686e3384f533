"""The standalone API server: ``extraction-pipeline api --host 127.0.0.1 --port 8000`` (uvicorn)."""

from __future__ import annotations

from fastapi import FastAPI

from extraction_pipeline.api.auth import ApiAuth
from extraction_pipeline.api.context import ApiContext
from extraction_pipeline.api.routes import build_router

TITLE = "extraction_pipeline API"
VERSION = "1.0"


def create_app(context: ApiContext | None = None, auth: ApiAuth | None = None) -> FastAPI:
    """A FastAPI app serving the router at the root (``/jobs``, ``/health``, ``/openapi.json``, ``/docs``)."""
    app = FastAPI(
        title=TITLE,
        version=VERSION,
        description="Status, results, submission, retry and cancellation of the extraction jobs of S3 files.",
    )
    app.include_router(build_router(context, auth))
    return app


def serve(host: str, port: int, *, auth: ApiAuth, log_level: str = "info") -> None:
    """Run the app with uvicorn until interrupted (one process; the handlers run in its thread pool)."""
    import uvicorn

    uvicorn.run(create_app(auth=auth), host=host, port=port, log_level=log_level)
