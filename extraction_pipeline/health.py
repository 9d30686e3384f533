"""Are the jobs database, the S3 bucket and the Dagster webserver there? One implementation of the checks.

``GET /health`` (``api/health.py``) and ``extraction-pipeline doctor`` both run ``run_checks``; each renders the
outcome its own way. The checks run side by side, each within ``PROBE_TIMEOUT_SECONDS``: a database that does
not answer (a dropped packet, no connect timeout) is reported instead of hanging the caller.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from extraction_pipeline.store import JobFilter, JobStore

PROBE_TIMEOUT_SECONDS = 10.0
_DAGSTER_PROBE = "query ExtractionHealth { version }"


@dataclass(frozen=True)
class CheckOutcome:
    """``detail`` says what was found when ``ok``; ``error`` is why it failed otherwise."""

    ok: bool
    detail: str = ""
    error: BaseException | None = None


def check_database(store: JobStore) -> str:
    """Reachable, the table readable, and the schema at this code's newest revision."""
    from extraction_pipeline.store.migrate import check_revision

    detail = check_revision(store.engine)  # first: an old schema fails the read below with a less useful error
    store.page(JobFilter(), limit=1)
    return detail


def check_bucket(client: Any, bucket: str) -> str:
    client.head_bucket(Bucket=bucket)
    return f"bucket {bucket} answers"


def check_webserver(webserver: Any) -> str:
    version = webserver.execute(_DAGSTER_PROBE).get("version")
    return f"Dagster {version} answers at {webserver.url}"


def run_checks(
    checks: Mapping[str, Callable[[], str]], *, timeout: float = PROBE_TIMEOUT_SECONDS
) -> dict[str, CheckOutcome]:
    """Run every check at once; a check's exception (or its silence past ``timeout``) is its failure."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(checks)), thread_name_prefix="health")
    futures = {name: pool.submit(check) for name, check in checks.items()}
    outcomes: dict[str, CheckOutcome] = {}
    for name, future in futures.items():
        try:
            outcomes[name] = CheckOutcome(ok=True, detail=future.result(timeout=timeout))
        except concurrent.futures.TimeoutError:
            outcomes[name] = CheckOutcome(ok=False, error=TimeoutError(f"no answer within {timeout:.0f} s"))
        except Exception as error:  # every failure of a check is the answer "not reachable", with its reason
            outcomes[name] = CheckOutcome(ok=False, error=error)
    pool.shutdown(wait=False)  # a check past its timeout finishes on its own; the answer does not wait for it
    return outcomes
