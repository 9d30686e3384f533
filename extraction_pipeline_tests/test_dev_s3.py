"""The dev stack's S3 keeps its objects across a restart, as its table keeps their rows.

Fast: the dev stack's S3 part (``DevS3``: moto's server and the copy under the state folder) started, used through
the CLI as the README says (inside the project folder, settings from ``.state/dev.env``), stopped and started again.
The whole stack's restart is ``test_devstack.py``'s slow end-to-end test. moto keeps one set of buckets per
process, shared with the session's S3 server here: the test looks at its own bucket only.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import boto3

from extraction_pipeline.cli.environment import write_env_file
from extraction_pipeline.dev_s3 import DevS3, blob_name
from extraction_pipeline_tests.extractors.dxf_builders import build_drawing_dxf
from extraction_pipeline_tests.live_stack import free_port
from extraction_pipeline_tests.test_cli import CREDENTIALS, run_cli

BUCKET = f"dev-uploads-{uuid.uuid4().hex[:8]}"


def _client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="dev",
                        aws_secret_access_key="dev")  # fmt: skip


def _start(state: Path) -> tuple[DevS3, int]:
    server = DevS3(state / "dev_s3", port=free_port())
    restored = server.start(lambda: _client(server.endpoint))
    env = CREDENTIALS | {"AWS_ENDPOINT_URL": server.endpoint, "EXTRACTION_S3_BUCKET": BUCKET}
    write_env_file(state / "dev.env", env, comment="test")
    return server, restored


def test_uploads_survive_a_restart_and_deletions_stay_deleted(tmp_path: Path) -> None:
    state = tmp_path / ".state"
    state.mkdir()
    drawing = build_drawing_dxf(tmp_path / "kept.dxf")
    first, _ = _start(state)
    try:
        _client(first.endpoint).create_bucket(Bucket=BUCKET)
        for name in ("kept.dxf", "deleted.dxf"):
            path = drawing if name == "kept.dxf" else build_drawing_dxf(tmp_path / name)
            uploaded = run_cli("upload", "--record-id", "rec_1", str(path), cwd=tmp_path)
            assert uploaded.code == 0, uploaded.err
        etag = _client(first.endpoint).head_object(Bucket=BUCKET, Key="kept.dxf")["ETag"]
    finally:
        first.stop()

    second, restored = _start(state)
    try:
        client = _client(second.endpoint)
        listed = [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET)["Contents"]]
        kept = client.get_object(Bucket=BUCKET, Key="kept.dxf")
        assert restored >= 2 and listed == ["deleted.dxf", "kept.dxf"]
        assert kept["Body"].read() == drawing.read_bytes()
        assert kept["ETag"] == etag  # the same version: the sensor sees nothing new
        assert kept["Metadata"] == {"record-id": "rec_1"}
        client.delete_object(Bucket=BUCKET, Key="deleted.dxf")
    finally:
        second.stop()

    third, _ = _start(state)
    try:
        listed = [item["Key"] for item in _client(third.endpoint).list_objects_v2(Bucket=BUCKET)["Contents"]]
        kept_on_disk = json.loads((state / "dev_s3" / "index.json").read_text())["buckets"][BUCKET]
        bodies = {path.name for path in (state / "dev_s3" / "objects").iterdir()}
        assert listed == ["kept.dxf"] and sorted(kept_on_disk) == ["kept.dxf"]
        assert blob_name(BUCKET, "kept.dxf") in bodies
        assert blob_name(BUCKET, "deleted.dxf") not in bodies  # the deleted body is gone from disk too
    finally:
        third.stop()
