"""The HTTP API over a real uvicorn server on 127.0.0.1, with the store on SQLite and on PostgreSQL."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from extraction_pipeline.api import build_router
from extraction_pipeline.api.auth import TOKENS_ENV, ApiAuth, parse_tokens
from extraction_pipeline.dagster_api import DagsterWebserver
from extraction_pipeline.extractors.schema import ExtractionResult
from extraction_pipeline.objects import RecordLink
from extraction_pipeline.settings import DAGSTER_URL_ENV
from extraction_pipeline.store import JobStatus, JobStore
from extraction_pipeline_tests.api_harness import (
    READ_ONLY,
    READ_WRITE,
    Api,
    api_for,
    register,
    sample_result,
    serving_app,
    unreachable_webserver,
)
from extraction_pipeline_tests.live_stack import (
    answers,
    assert_servers_stopped_cleanly,
    free_port,
    stop_process_groups,
    wait_for,
)


@pytest.fixture
def api(store: JobStore, bucket: str, moto_endpoint: str) -> Iterator[Api]:
    with api_for(store, bucket, moto_endpoint) as running:
        yield running


class _NotGraphql(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = b"<html>a web page</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def not_dagster() -> Iterator[Callable[[], DagsterWebserver]]:
    """A URL that answers HTTP, but not as Dagster's GraphQL API (a mistyped EXTRACTION_DAGSTER_URL)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotGraphql)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield lambda: DagsterWebserver(f"http://127.0.0.1:{server.server_port}/graphql", timeout_seconds=5)
    server.shutdown()
    thread.join(5)


def test_reads_list_filter_and_show_jobs_and_results(api: Api) -> None:
    done = register(api, "a/done.pdf", status="completed", link=RecordLink("rec-1", "fld-1", "att-1"))
    failed = register(api, "b/bad.pdf", status="failed", link=RecordLink("rec-1", "fld-1", "att-2"))
    other = register(api, "c/other.dxf", link=RecordLink("rec-2"))

    with api.client(READ_ONLY) as client:
        everything = client.get("/jobs").json()
        of_record = client.get("/jobs", params={"record_id": "rec-1"}).json()["jobs"]
        of_attachment = client.get("/jobs", params={"attachment_id": "att-2"}).json()["jobs"]
        of_status = client.get("/jobs", params={"status": "completed"}).json()["jobs"]
        of_format = client.get("/jobs", params={"format": "dxf"}).json()["jobs"]
        of_url = client.get("/jobs", params={"file_url": failed.file_url}).json()["jobs"]
        future = (other.created_at + timedelta(hours=1)).isoformat()
        since = client.get("/jobs", params={"since": future}).json()["jobs"]
        by_id = client.get(f"/jobs/{failed.id}").json()
        by_url = client.get("/jobs/by-url", params={"file_url": failed.file_url}).json()
        result = client.get(f"/jobs/{done.id}/result")
        stats = client.get("/jobs/stats").json()

    assert [job["id"] for job in everything["jobs"]] == [other.id, failed.id, done.id]  # newest first
    assert everything["next_cursor"] is None and "result" not in everything["jobs"][0]
    assert {job["id"] for job in of_record} == {done.id, failed.id}
    assert [job["id"] for job in of_attachment] == [failed.id]
    assert [job["id"] for job in of_status] == [done.id] and of_status[0]["has_result"] is True
    assert [job["id"] for job in of_format] == [other.id]
    assert [job["id"] for job in of_url] == [failed.id] and since == []
    assert by_id == by_url
    assert (by_id["status"], by_id["error_kind"], by_id["error_message"]) == ("failed", "permanent",
                                                                             "not a PDF\nsecond line")  # fmt: skip
    assert (by_id["retry_count"], by_id["max_retries"]) == (1, 3) and by_id["completed_at"] is not None
    assert result.status_code == 200 and result.json() == sample_result("done.pdf")
    ExtractionResult.model_validate(result.json())  # the documented model
    assert stats["total"] == 3 and stats["by_status"] == {"completed": 1, "failed": 1, "pending": 1}
    assert stats["failure_rate"] == 0.5 and stats["p50_duration_ms"] == 1200.0


def test_pages_list_every_job_once_newest_first_even_when_jobs_arrive_between_pages(api: Api) -> None:
    with api.client() as client:
        # Several inbox rows within one second, a detector's row between them: pages must neither skip nor repeat.
        ids = [client.post("/jobs", json={"file_url": f"s3://{api.bucket}/p{n}.pdf"}).json()["id"] for n in range(7)]
        register(api, "registered.pdf")  # microsecond precision, between or after them
        seen: list[str] = []
        first = client.get("/jobs", params={"limit": 3}).json()
        seen += [job["id"] for job in first["jobs"]]
        client.post("/jobs", json={"file_url": f"s3://{api.bucket}/late.pdf"})  # newer than every listed page
        cursor = first["next_cursor"]
        while cursor:
            page = client.get("/jobs", params={"limit": 3, "cursor": cursor}).json()
            assert len(page["jobs"]) <= 3
            seen += [job["id"] for job in page["jobs"]]
            cursor = page["next_cursor"]
        bad_cursor = client.get("/jobs", params={"cursor": "bm90LWEtY3Vyc29y"})

    everything = api.store.list(limit=100)
    late = api.store.get(f"s3://{api.bucket}/late.pdf")
    assert sorted(seen) == sorted(row.id for row in everything if row.id != late.id)  # each once, none skipped
    assert set(ids) <= set(seen) and len(seen) == len(set(seen)) == 8
    created = [api.store.get(job_id).created_at for job_id in seen]
    assert created == sorted(created, reverse=True)
    assert bad_cursor.status_code == 422 and "cursor" in bad_cursor.json()["detail"]


def test_submit_writes_the_inbox_row_an_application_would(api: Api) -> None:
    body = {"file_url": f"s3://{api.bucket}/in/part.step", "record_id": "rec-9", "field_id": "f-1",
            "attachment_id": "att-3", "options": {"geometry": "off", "max_elements": 5}}  # fmt: skip
    with api.client() as client:
        created = client.post("/jobs", json=body)
        again = client.post("/jobs", json=body)
        unsupported = client.post("/jobs", json={"file_url": f"s3://{api.bucket}/notes.txt"})
        not_s3 = client.post("/jobs", json={"file_url": "https://example.com/a.pdf"})
        nul = client.post("/jobs", json={"file_url": f"s3://{api.bucket}/a.pdf", "record_id": "x\u0000y"})
        too_long = client.post("/jobs", json={"file_url": f"s3://{api.bucket}/a.pdf", "record_id": "r" * 65})

    assert created.status_code == 201, created.text
    job = created.json()
    assert created.headers["location"] == f"jobs/{job['id']}"
    row = api.store.get(job["id"])
    assert (row.status, row.file_url, row.filename) == (JobStatus.PENDING, body["file_url"], "")
    assert (row.record_id, row.field_id, row.attachment_id) == ("rec-9", "f-1", "att-3")
    assert row.options == {"geometry": "off", "max_elements": 5}
    assert again.status_code == 200 and again.json()["id"] == job["id"]  # merged into the job it has
    assert unsupported.status_code == 422 and "not a supported file type" in unsupported.json()["detail"]
    assert {not_s3.status_code, nul.status_code, too_long.status_code} == {422}
    assert len(api.store.list(limit=10)) == 1


def test_tokens_read_only_and_missing_ones(api: Api) -> None:
    job = register(api, "t.pdf", status="failed")
    with api.client(token=None) as anonymous, api.client("wrong-token") as stranger:
        missing = anonymous.get("/jobs")
        unknown = stranger.get(f"/jobs/{job.id}")
        basic = anonymous.get("/jobs", headers={"Authorization": "Basic dXNlcjpwdw=="})
        health = anonymous.get("/health")
        spec = anonymous.get("/openapi.json")
    with api.client(READ_ONLY) as read_only:
        reads = read_only.get(f"/jobs/{job.id}")
        writes = [read_only.post("/jobs", json={"file_url": f"s3://{api.bucket}/x.pdf"}),
                  read_only.post(f"/jobs/{job.id}/retry"), read_only.delete(f"/jobs/{job.id}")]  # fmt: skip

    for refused in (missing, unknown, basic):
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert reads.status_code == 200
    assert [w.status_code for w in writes] == [403, 403, 403] and writes[0].json() == {
        "detail": "this token is read-only"
    }
    assert api.store.get(job.id).status is JobStatus.FAILED and len(api.store.list()) == 1
    assert health.status_code == 200 and health.json()["database"] == {"ok": True, "detail": None}
    assert spec.status_code == 200 and spec.json()["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_retry_and_cancel_call_the_operations_of_the_cli(api: Api) -> None:
    failed = register(api, "r/failed.pdf", status="failed")
    pending = register(api, "r/pending.pdf")
    starting = register(api, "r/starting.pdf")
    api.dagster.active_runs = ["run-queued"]

    with api.client() as client:
        retried = client.post(f"/jobs/{failed.id}/retry")
        cancelled = client.delete(f"/jobs/{pending.id}")
        api.dagster.refuse_termination = True
        half_cancelled = client.delete(f"/jobs/{starting.id}")

    assert retried.status_code == 202, retried.text
    assert retried.json()["run_id"] == "run-1" and retried.json()["job"]["status"] == "pending"
    tags = {t["key"]: t["value"] for t in api.dagster.launched[0]["executionParams"]["executionMetadata"]["tags"]}
    assert tags["dagster/partition"] == failed.partition_key
    row = api.store.get(failed.id)
    assert (row.status, row.dagster_run_id, row.error_message) == (JobStatus.PENDING, "run-1", None)
    assert cancelled.status_code == 200 and cancelled.json()["terminated_run_ids"] == ["run-queued"]
    assert api.store.get(pending.id).status is JobStatus.CANCELLED and api.dagster.terminated == ["run-queued"]
    assert half_cancelled.status_code == 502
    assert "is cancelled, but Dagster did not terminate run run-queued" in half_cancelled.json()["detail"]
    assert api.store.get(starting.id).status is JobStatus.CANCELLED


def test_refusals_of_the_cli_map_to_http_statuses(
    store: JobStore, bucket: str, moto_endpoint: str, not_dagster: Callable[[], DagsterWebserver]
) -> None:
    with api_for(store, bucket, moto_endpoint) as api, api.client() as client:
        failed = register(api, "f.pdf", status="failed")
        running = register(api, "p.pdf", status="processing")
        done = register(api, "d.pdf", status="completed")
        gone = register(api, "gone.pdf", status="failed")
        api.s3.delete_object(Bucket=bucket, Key="gone.pdf")
        unknown = [client.get("/jobs/nope"), client.get("/jobs/nope/result"), client.post("/jobs/nope/retry"),
                   client.delete("/jobs/nope"), client.get("/jobs/by-url?file_url=s3://b/k.pdf")]  # fmt: skip
        conflicts = [client.post(f"/jobs/{running.id}/retry"), client.delete(f"/jobs/{done.id}"),
                     client.get(f"/jobs/{failed.id}/result"), client.post(f"/jobs/{gone.id}/retry")]  # fmt: skip
    with api_for(store, bucket, moto_endpoint, webserver=unreachable_webserver) as down, down.client() as client:
        unreachable = [client.post(f"/jobs/{failed.id}/retry"), client.delete(f"/jobs/{running.id}")]
        health = client.get("/health")
    with api_for(store, bucket, moto_endpoint, webserver=not_dagster) as wrong, wrong.client() as client:
        refused = client.post(f"/jobs/{failed.id}/retry")

    assert [r.status_code for r in unknown] == [404] * 5
    assert "no extraction job" in unknown[0].json()["detail"]
    assert [r.status_code for r in conflicts] == [409] * 4, [r.text for r in conflicts]
    assert "processing" in conflicts[0].json()["detail"] and "has no result" in conflicts[2].json()["detail"]
    assert [r.status_code for r in unreachable] == [503, 503]
    assert "cannot reach the Dagster webserver" in unreachable[0].json()["detail"]
    assert all("\n" not in r.json()["detail"] for r in [*unknown, *conflicts, *unreachable, refused])
    assert store.get(failed.id).status is JobStatus.FAILED and store.get(running.id).status is JobStatus.PROCESSING
    assert health.status_code == 503
    body = health.json()
    assert body["status"] == "unavailable" and body["database"]["ok"] and body["s3"]["ok"]
    assert not body["dagster"]["ok"] and "cannot reach the Dagster webserver" in body["dagster"]["detail"]
    assert refused.status_code == 502 and "without GraphQL JSON" in refused.json()["detail"]


def test_every_documented_status_is_reached(
    store: JobStore, bucket: str, moto_endpoint: str, not_dagster: Callable[[], DagsterWebserver]
) -> None:
    """Each (operation, status) of /openapi.json has a request here that gets exactly that status."""
    requests: dict[tuple[str, str, int], tuple[str, str, str | None, dict | bytes | None]] = {}

    def add(method: str, path: str, code: int, target: str, token: str | None = READ_WRITE, body: object = None):
        requests[(method, path, code)] = (method, target, token, body)

    with api_for(store, bucket, moto_endpoint) as api:
        done = register(api, "done.pdf", status="completed")
        failed = register(api, "failed.pdf", status="failed")
        pending = register(api, "pending.pdf")
        running = register(api, "running.pdf", status="processing")
        spec = httpx.get(f"{api.url}/openapi.json").json()
        url = f"s3://{bucket}/done.pdf"
        reads = {"/jobs": "/jobs", "/jobs/stats": "/jobs/stats", "/jobs/by-url": f"/jobs/by-url?file_url={url}",
                 "/jobs/{job_id}": f"/jobs/{done.id}", "/jobs/{job_id}/result": f"/jobs/{done.id}/result"}  # fmt: skip
        for path, target in reads.items():
            add("GET", path, 200, target, READ_ONLY)
            add("GET", path, 401, target, None)
        for path, bad in {"/jobs": "/jobs?limit=0", "/jobs/stats": "/jobs/stats?since=yesterday",
                          "/jobs/by-url": "/jobs/by-url?file_url=x", "/jobs/{job_id}": "/jobs/" + "x" * 37,
                          "/jobs/{job_id}/result": "/jobs/" + "x" * 37 + "/result"}.items():  # fmt: skip
            add("GET", path, 422, bad)
        add("GET", "/jobs/by-url", 404, f"/jobs/by-url?file_url=s3://{bucket}/none.pdf")
        add("GET", "/jobs/{job_id}", 404, "/jobs/none")
        add("GET", "/jobs/{job_id}/result", 404, "/jobs/none/result")
        add("GET", "/jobs/{job_id}/result", 409, f"/jobs/{failed.id}/result")
        add("POST", "/jobs", 201, "/jobs", body={"file_url": f"s3://{bucket}/new.pdf"})
        add("POST", "/jobs", 401, "/jobs", None, body={"file_url": f"s3://{bucket}/n.pdf"})
        add("POST", "/jobs", 403, "/jobs", READ_ONLY, body={"file_url": f"s3://{bucket}/n.pdf"})
        add("POST", "/jobs", 200, "/jobs", body={"file_url": url})
        add("POST", "/jobs", 422, "/jobs", body={"file_url": "s3://b/n.txt"})
        add("POST", "/jobs", 400, "/jobs", body=b"\xff\xfe not text")
        add("POST", "/jobs/{job_id}/retry", 202, f"/jobs/{failed.id}/retry")
        add("POST", "/jobs/{job_id}/retry", 409, f"/jobs/{running.id}/retry")
        add("DELETE", "/jobs/{job_id}", 200, f"/jobs/{pending.id}")
        add("DELETE", "/jobs/{job_id}", 409, f"/jobs/{done.id}")
        for method, path, suffix in (("POST", "/jobs/{job_id}/retry", "/retry"), ("DELETE", "/jobs/{job_id}", "")):
            add(method, path, 401, f"/jobs/{done.id}{suffix}", None)
            add(method, path, 403, f"/jobs/{done.id}{suffix}", READ_ONLY)
            add(method, path, 404, f"/jobs/none{suffix}")
            add(method, path, 422, f"/jobs/{'x' * 37}{suffix}")
        add("GET", "/health", 200, "/health", None)

        reached = {key: _send(api, *request).status_code for key, request in requests.items()}
    with api_for(store, bucket, moto_endpoint, webserver=unreachable_webserver) as down:
        for method, path in (("POST", "/jobs/{job_id}/retry"), ("DELETE", "/jobs/{job_id}")):
            target = path.replace("{job_id}", done.id if method == "POST" else running.id)
            reached[(method, path, 503)] = _send(down, method, target, READ_WRITE, None).status_code
        reached[("GET", "/health", 503)] = _send(down, "GET", "/health", None, None).status_code
    with api_for(store, bucket, moto_endpoint, auth=ApiAuth()) as unconfigured:  # no tokens: refuses everything
        for path, target in reads.items():
            reached[("GET", path, 503)] = _send(unconfigured, "GET", target, READ_WRITE, None).status_code
        reached[("POST", "/jobs", 503)] = _send(
            unconfigured, "POST", "/jobs", READ_WRITE, {"file_url": url}
        ).status_code
    with api_for(store, bucket, moto_endpoint, webserver=not_dagster) as wrong:
        reached[("POST", "/jobs/{job_id}/retry", 502)] = _send(wrong, "POST", f"/jobs/{done.id}/retry", READ_WRITE,
                                                               None).status_code  # fmt: skip
    with api_for(store, bucket, moto_endpoint) as refusing:
        refusing.dagster.active_runs, refusing.dagster.refuse_termination = ["run-1"], True
        reached[("DELETE", "/jobs/{job_id}", 502)] = _send(refusing, "DELETE", f"/jobs/{running.id}", READ_WRITE,
                                                           None).status_code  # fmt: skip

    documented = {(method.upper(), path, int(code)) for path, item in spec["paths"].items()
                  for method, operation in item.items() for code in operation["responses"]}  # fmt: skip
    assert set(reached) == documented
    assert {key: status for key, status in reached.items() if status != key[2]} == {}


def _send(api: Api, method: str, target: str, token: str | None, body: dict | bytes | None) -> httpx.Response:
    with api.client(token) as client:
        if isinstance(body, bytes):
            return client.request(method, target, content=body, headers={"Content-Type": "application/json"})
        return client.request(method, target, json=body)


def test_cli_api_refuses_to_serve_without_tokens_and_serves_with_them(tmp_path: Path, database_url: str) -> None:
    exe = Path(sys.executable).parent / "extraction-pipeline"
    base = {k: v for k, v in os.environ.items() if not k.startswith("EXTRACTION_")}
    env = base | {"EXTRACTION_DATABASE_URL": database_url, DAGSTER_URL_ENV: f"http://127.0.0.1:{free_port()}/graphql"}
    no_tokens = subprocess.run([exe, "api", "--port", "0"], env=env, capture_output=True, text=True, timeout=60)
    exposed = subprocess.run([exe, "api", "--host", "0.0.0.0", "--no-auth"], env=env, capture_output=True,
                             text=True, timeout=60)  # fmt: skip
    assert no_tokens.returncode == 3 and f"{TOKENS_ENV} is not set" in no_tokens.stderr
    assert exposed.returncode == 3 and "only on a loopback address" in exposed.stderr

    port = free_port()
    log = tmp_path / "api.log"
    with log.open("wb") as out:
        server = subprocess.Popen([exe, "api", "--port", str(port)], env=env | {TOKENS_ENV: "tok1,tok2:ro"},
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        wait_for("the standalone API", lambda: answers(f"http://127.0.0.1:{port}/openapi.json"), 60.0)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            listed = client.get("/jobs", headers={"Authorization": "Bearer tok2"})
            refused = client.post("/jobs", headers={"Authorization": "Bearer tok2"}, json={"file_url": "s3://b/a.pdf"})
            anonymous = client.get("/jobs")
    finally:
        codes = stop_process_groups([server])
    assert_servers_stopped_cleanly({"api": log}, {"api": codes[server.pid]})
    assert listed.status_code == 200 and listed.json() == {"jobs": [], "next_cursor": None}
    assert (refused.status_code, anonymous.status_code) == (403, 401)


def test_tokens_parse_and_compare() -> None:
    tokens = parse_tokens(" a1 , b2:ro,, c3:rw ")
    auth = ApiAuth(tokens)
    assert [(t.secret, t.read_only) for t in tokens] == [("a1", False), ("b2", True), ("c3", False)]
    assert auth.find("b2") == tokens[1] and auth.find("b2:ro") is None and auth.find("") is None
    assert auth.find("a1 ") is None and ApiAuth().find("a1") is None
    with pytest.raises(ValueError, match="empty token"):
        parse_tokens("ok,:ro")


def test_a_mounted_router_reads_the_settings_on_its_first_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere" / "jobs.sqlite3"
    monkeypatch.setenv("EXTRACTION_DATABASE_URL", f"sqlite:///{missing}")
    monkeypatch.setenv(TOKENS_ENV, "mounted-token")
    app = FastAPI()
    app.include_router(build_router(), prefix="/extraction")  # what PyBase does with extraction_router

    with serving_app(app) as url, httpx.Client(base_url=url, headers={"Authorization": "Bearer mounted-token"}) as c:
        listed = c.get("/extraction/jobs")
        spec = c.get("/openapi.json").json()

    assert listed.status_code == 503 and "no extraction_jobs database" in listed.json()["detail"]
    assert not missing.exists()  # the API did not create an empty database
    assert "/extraction/jobs/{job_id}/retry" in spec["paths"]


def test_an_unreachable_database_is_503_with_the_reason(bucket: str, moto_endpoint: str) -> None:
    down = JobStore(f"postgresql://postgres@127.0.0.1:{free_port()}/jobs")
    with api_for(down, bucket, moto_endpoint) as api, api.client() as client:
        listed = client.get("/jobs")
        submitted = client.post("/jobs", json={"file_url": f"s3://{bucket}/a.pdf"})
        health = client.get("/health").json()

    assert (listed.status_code, submitted.status_code) == (503, 503)
    assert listed.json()["detail"].startswith("extraction_jobs database unavailable")
    assert "\n" not in listed.json()["detail"]
    assert health["status"] == "unavailable" and not health["database"]["ok"] and health["s3"]["ok"]
