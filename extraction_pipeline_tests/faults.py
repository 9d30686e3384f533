"""A TCP proxy on loopback that can drop connections or go down: real network faults for S3 and PostgreSQL.

The pipeline talks to the proxy's port; the proxy forwards to the real server (moto, PostgreSQL) unless told
to misbehave: ``throttle_next(n)`` answers the next n HTTP requests with ``503 SlowDown`` itself, as an
overloaded S3 endpoint does; ``slow_down(True)`` answers every request that way until ``slow_down(False)`` (live
connections are cut, so a client's kept-alive connection cannot slip past); ``down()`` stops listening and cuts
live connections (connection refused); ``up()`` listens again on the same port.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from typing import Any


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._lock = threading.Lock()
        self._throttle_next = 0
        self._throttle_all = False
        self._live: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.port = 0
        self.accepted = 0
        self.throttled = 0
        self.on_accept: Callable[[], None] | None = None
        self.up()

    # --- control -------------------------------------------------------------------------------------
    def up(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept_loop, args=(listener,), daemon=True).start()

    def down(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)  # shutdown() first: close() alone does not wake a thread blocked in accept()
        with self._lock:
            live, self._live = self._live, set()
        for sock in live:
            _close(sock)

    def throttle_next(self, count: int) -> None:
        with self._lock:
            self._throttle_next = count

    def slow_down(self, on: bool) -> None:
        with self._lock:
            self._throttle_all = on
            live, self._live = (self._live, set()) if on else (set(), self._live)
        for sock in live:
            _close(sock)

    def close(self) -> None:
        self.down()

    # --- plumbing ------------------------------------------------------------------------------------
    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # listener closed by down()
            self.accepted += 1
            if self.on_accept:
                self.on_accept()
            with self._lock:
                throttle = self._throttle_all or self._throttle_next > 0
                if throttle and not self._throttle_all:
                    self._throttle_next -= 1
            if throttle:
                self.throttled += 1
                threading.Thread(target=_answer_slow_down, args=(client,), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._live.update({client, upstream})
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            _close(source)
            _close(target)
            with self._lock:
                self._live.discard(source)
                self._live.discard(target)


_SLOW_DOWN_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


def _answer_slow_down(client: socket.socket) -> None:
    """Read one HTTP request (headers and body) and answer it 503 SlowDown, then close."""
    data = b""
    with contextlib.suppress(OSError):
        while b"\r\n\r\n" not in data:
            chunk = client.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)  # fmt: skip
        while len(body) < length and (chunk := client.recv(65536)):
            body += chunk
        client.sendall(
            b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nConnection: close\r\n"
            + f"Content-Length: {len(_SLOW_DOWN_BODY)}\r\n\r\n".encode()
            + _SLOW_DOWN_BODY
        )
    _close(client)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


class DenyingHttpProxy:
    """An HTTP proxy on loopback in front of moto that answers ``403 AccessDenied`` to HEADs of chosen keys.

    What a bucket policy denying ``s3:GetObject`` on some keys does to the pipeline's credentials; moto itself
    does not enforce bucket policies. Every other request (S3 and SQS alike) is forwarded unchanged.
    """

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        import http.server

        self.upstream = (upstream_host, upstream_port)
        self.denied: set[str] = set()  # URL paths, e.g. "/bucket/key" as the client sends them
        self.denials = 0
        self.requests: list[tuple[str, str]] = []  # (method, path with query) of every request, in order
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _forward(self) -> None:
                proxy._handle(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _handle(self, request: object) -> None:
        import http.client
        from urllib.parse import unquote, urlsplit

        handler: Any = request
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        self.requests.append((handler.command, handler.path))
        if handler.command == "HEAD" and unquote(urlsplit(handler.path).path) in self.denied:
            self.denials += 1
            handler.send_response(403, "Forbidden")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        upstream = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            upstream.request(handler.command, handler.path, body=body, headers=dict(handler.headers.items()))
            response = upstream.getresponse()
            payload = response.read()
            handler.send_response(response.status, response.reason)
            head = handler.command == "HEAD"  # a HEAD's Content-Length is the object's size: keep it
            for name, value in response.getheaders():
                if name.lower() not in ("transfer-encoding", "connection") and (
                    head or name.lower() != "content-length"
                ):
                    handler.send_header(name, value)
            if not head:
                handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(payload)
        finally:
            upstream.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
