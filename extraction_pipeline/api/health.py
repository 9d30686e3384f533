"""``GET /health``: do the jobs database, the S3 bucket and the Dagster webserver answer?

The three probes run side by side, each within ``PROBE_TIMEOUT_SECONDS``: a database that does not answer
(a dropped packet, no connect timeout) makes the check report it instead of hanging the caller.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable

from extraction_pipeline.api.context import ApiContext
from extraction_pipeline.api.models import ComponentHealth, Health
from extraction_pipeline.store import JobFilter

PROBE_TIMEOUT_SECONDS = 10.0
_DAGSTER_PROBE = "query ExtractionHealth { version }"


def _database(context: ApiContext) -> None:
    context.store.page(JobFilter(), limit=1)  # also proves the table exists (`db upgrade` ran)


def _s3(context: ApiContext) -> None:
    context.s3().head_bucket(Bucket=context.bucket)


def _dagster(context: ApiContext) -> None:
    context.webserver().execute(_DAGSTER_PROBE)


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
    probes = {"database": _database, "s3": _s3, "dagster": _dagster}
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(probes), thread_name_prefix="health")
    futures = {name: pool.submit(probe, context) for name, probe in probes.items()}
    results: dict[str, ComponentHealth] = {}
    for name, future in futures.items():
        try:
            future.result(timeout=PROBE_TIMEOUT_SECONDS)
            results[name] = ComponentHealth(ok=True)
        except concurrent.futures.TimeoutError:
            detail = f"no answer within {PROBE_TIMEOUT_SECONDS:.0f} s"
            results[name] = ComponentHealth(ok=False, detail=detail if with_details else None)
        except Exception as error:  # every failure of a probe is the answer "not reachable", with its reason
            results[name] = ComponentHealth(ok=False, detail=_reason(error) if with_details else None)
    pool.shutdown(wait=False)  # a probe past its timeout finishes on its own; the answer does not wait for it
    status = "ok" if all(result.ok for result in results.values()) else "unavailable"
    return Health(status=status, **results)
