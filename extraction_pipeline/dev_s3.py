"""The dev stack's S3: moto's server on loopback, whose objects outlive the stack under ``<state>/dev_s3``.

moto keeps objects in memory, while the dev stack's table (a SQLite file) stays: without a copy on disk a restart
left rows naming files the bucket no longer had. ``DevS3`` copies every bucket's objects (body, user metadata,
content type) into the state folder while it runs — every ``SYNC_INTERVAL_SECONDS`` and once more on stop, only
what changed since the last copy — and puts them back on start. A restored object has the ETag it had (the MD5 of
its body, for objects uploaded in one part), so the sensor sees nothing new and extracts nothing twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

SYNC_INTERVAL_SECONDS = 10.0
_INDEX = "index.json"
_BLOBS = "objects"


class DevS3:
    """Start, copy to disk, stop; ``verbose`` keeps the server's one log line per request."""

    def __init__(self, directory: Path, *, port: int, verbose: bool = False) -> None:
        self.directory = directory
        self.port = port
        self.verbose = verbose
        self.endpoint = f"http://127.0.0.1:{port}"
        self._server: Any = None
        self._client: Any = None
        self._stop = threading.Event()
        self._sync_lock = threading.Lock()
        self._syncer: threading.Thread | None = None

    def start(self, client_factory: Any) -> int:
        """Serve, restore the objects kept on disk (their count is returned), then keep copying them."""
        from moto.server import ThreadedMotoServer

        # werkzeug logs each request at INFO unless its logger was told otherwise before the first one
        logging.getLogger("werkzeug").setLevel(logging.INFO if self.verbose else logging.WARNING)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        self._client = client_factory()
        restored = restore(self._client, self.directory)
        self._syncer = threading.Thread(target=self._sync_periodically, name="dev-s3-sync", daemon=True)
        self._syncer.start()
        return restored

    def _sync_periodically(self) -> None:
        while not self._stop.wait(SYNC_INTERVAL_SECONDS):
            with contextlib.suppress(Exception):  # a failed copy is retried by the next one (and on stop)
                self.sync()

    def sync(self) -> int:
        """Copy what changed to disk now; the number of objects kept."""
        with self._sync_lock:
            return save(self._client, self.directory)

    def stop(self) -> None:
        """A last copy, then the server ends (within 5 s: moto's stop can wait forever if start-up was cut short)."""
        self._stop.set()
        if self._client is not None:
            with contextlib.suppress(Exception):
                self.sync()
        if self._server is not None:
            stopper = threading.Thread(target=self._server.stop, daemon=True)
            stopper.start()
            stopper.join(timeout=5)


# --- the copy on disk: <dir>/index.json names each object's body file and metadata -------------------------------
def blob_name(bucket: str, key: str) -> str:
    return hashlib.sha256(f"{bucket}/{key}".encode()).hexdigest()


def _read_index(directory: Path) -> dict[str, dict[str, dict[str, Any]]]:
    try:
        return json.loads((directory / _INDEX).read_text())["buckets"]
    except (FileNotFoundError, ValueError, KeyError):
        return {}


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def save(client: Any, directory: Path) -> int:
    """Make the copy on disk equal the server's objects: fetch new or changed ones, drop deleted ones."""
    blobs = directory / _BLOBS
    blobs.mkdir(parents=True, exist_ok=True)
    before = _read_index(directory)
    after: dict[str, dict[str, dict[str, Any]]] = {}
    for bucket in (entry["Name"] for entry in client.list_buckets().get("Buckets", [])):
        kept = after.setdefault(bucket, {})
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                key, etag = item["Key"], item["ETag"]
                known = before.get(bucket, {}).get(key)
                kept[key] = known if known and known["etag"] == etag else _fetch(client, bucket, key, blobs)
    _write_atomically(directory / _INDEX, json.dumps({"buckets": after}, indent=1).encode())
    wanted = {entry["blob"] for objects in after.values() for entry in objects.values()}
    for stale in blobs.iterdir():
        if stale.name not in wanted:
            stale.unlink(missing_ok=True)
    return sum(len(objects) for objects in after.values())


def _fetch(client: Any, bucket: str, key: str, blobs: Path) -> dict[str, Any]:
    response = client.get_object(Bucket=bucket, Key=key)
    blob = blob_name(bucket, key)
    _write_atomically(blobs / blob, response["Body"].read())
    return {"etag": response["ETag"], "blob": blob, "metadata": response.get("Metadata", {}),
            "content_type": response.get("ContentType") or "binary/octet-stream"}  # fmt: skip


def restore(client: Any, directory: Path) -> int:
    """Put the objects kept on disk back (buckets first); the number restored."""
    restored = 0
    for bucket, objects in _read_index(directory).items():
        client.create_bucket(Bucket=bucket)
        for key, entry in objects.items():
            body = directory / _BLOBS / entry["blob"]
            if not body.is_file():
                continue  # a copy cut short: the object is lost, the others are not
            client.put_object(Bucket=bucket, Key=key, Body=body.read_bytes(), Metadata=entry["metadata"],
                              ContentType=entry["content_type"])  # fmt: skip
            restored += 1
    return restored
