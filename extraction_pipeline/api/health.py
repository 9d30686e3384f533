"""``GET /health``: do the jobs database, the S3 bucket and the Dagster webserver answer?

The checks are ``extraction_pipeline.health``'s, the same ``extraction-pipeline doctor`` runs; this module only
turns their outcome into the response model (reasons only for token holders).
"""

from __future__ import annotations

from collections.abc import Callable

from extraction_pipeline import health
from extraction_pipeline.api.context import ApiContext
from extraction_pipeline.api.models import ComponentHealth, Health

PROBE_TIMEOUT_SECONDS = health.PROBE_TIMEOUT_SECONDS


def _reason(error: BaseException) -> str:
    text = str(getattr(error, "message", None) or error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else 'no message'}"


def check_health(context_factory: Callable[[], ApiContext], *, with_details: bool) -> Health:
    """Probe each component; ``with_details`` adds why one failed (hosts, errors: for token holders only)."""
    try:
        context = context_factory()
    except Exception as error:  # a setting so bad that no connection could be opened
        down = ComponentHealth(ok=False, detail=_reason(error) if with_details else None)
        return Health(status="unavailable", database=down, s3=down, dagster=down)
    outcomes = health.run_checks(
        {
            "database": lambda: health.check_database(context.store),
            "s3": lambda: health.check_bucket(context.s3(), context.bucket),
            "dagster": lambda: health.check_webserver(context.webserver()),
        },
        timeout=PROBE_TIMEOUT_SECONDS,
    )
    results = {
        name: ComponentHealth(
            ok=outcome.ok, detail=_reason(outcome.error) if outcome.error is not None and with_details else None
        )
        for name, outcome in outcomes.items()
    }
    status = "ok" if all(result.ok for result in results.values()) else "unavailable"
    return Health(status=status, **results)
