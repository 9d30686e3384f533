"""Test infrastructure: other "hosts" as Linux network namespaces, and TCP forwarders to loopback-only servers.

Each host is a network namespace joined to the root namespace by a veth pair on its own /30 subnet, with a
default route through it. A process started with ``ip netns exec`` in one sees no loopback service of the root
namespace: only addresses of the root namespace's veth ends. The first one is the "service address" where the
test's servers listen; the machine's PostgreSQL and RabbitMQ listen on 127.0.0.1 only, so :class:`Forwarder`
relays a port on the service address to them (it is part of the test, not of the pipeline).
Root and the ``ip`` tool are needed; :func:`unavailable_reason` says why not.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import shutil
import socket
import socketserver
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Host:
    namespace: str
    address: str  # inside the namespace
    gateway: str  # the root namespace's end of the veth pair

    def command(self, *argv: str) -> list[str]:
        """``argv`` run inside this host's network namespace (ip netns exec executes it in place: same pid)."""
        return ["ip", "netns", "exec", self.namespace, *argv]


def unavailable_reason() -> str | None:
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "the `ip` tool (iproute2) is missing"
    probe = f"celery_probe_{uuid.uuid4().hex[:6]}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"`ip netns add` failed: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def _free_subnets(count: int) -> list[ipaddress.IPv4Network]:
    """``count`` /30 subnets of a 10.x.y.0/24 that no route of this machine uses."""
    routes = subprocess.run(["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True).stdout
    used = [ipaddress.ip_network(word, strict=False) for word in routes.split() if "/" in word and word[0].isdigit()]
    for _ in range(50):
        block = ipaddress.ip_network(f"10.{random.randint(100, 250)}.{random.randint(0, 255)}.0/24")
        if not any(block.overlaps(net) for net in used):
            return list(block.subnets(new_prefix=30))[:count]
    raise RuntimeError("no free 10.x.y.0/24 for the test's namespaces")


@contextlib.contextmanager
def hosts(count: int) -> Iterator[list[Host]]:
    """``count`` namespaces, each with a veth pair to the root namespace; all removed on exit."""
    tag = uuid.uuid4().hex[:6]
    made: list[Host] = []
    try:
        for index, subnet in enumerate(_free_subnets(count)):
            gateway, address = (str(ip) for ip in list(subnet.hosts())[:2])
            namespace, outer, inner = f"celery_{tag}_{index}", f"cl{tag}r{index}", f"cl{tag}n{index}"
            _ip("netns", "add", namespace)
            made.append(Host(namespace, address, gateway))
            _ip("link", "add", outer, "type", "veth", "peer", "name", inner)
            _ip("link", "set", inner, "netns", namespace)
            _ip("addr", "add", f"{gateway}/30", "dev", outer)
            _ip("link", "set", outer, "up")
            for args in (("addr", "add", f"{address}/30", "dev", inner), ("link", "set", inner, "up"),
                         ("link", "set", "lo", "up"), ("route", "add", "default", "via", gateway)):  # fmt: skip
                _ip("netns", "exec", namespace, "ip", *args)
        yield made
    finally:
        for host in made:  # deleting the namespace deletes its veth end, and with it the pair
            subprocess.run(["ip", "netns", "del", host.namespace], capture_output=True)


class _Relay(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: _RelayServer = self.server  # type: ignore[assignment]
        try:
            upstream = socket.create_connection(server.target, timeout=10)
        except OSError:
            return
        upstream.settimeout(None)
        with server.lock:
            server.open_sockets.update({self.request, upstream})
        pump = threading.Thread(target=_pump, args=(upstream, self.request), daemon=True)
        pump.start()
        _pump(self.request, upstream)
        pump.join()


class _RelayServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, listen: tuple[str, int], target: tuple[str, int]) -> None:
        super().__init__(listen, _Relay)
        self.target = target
        self.lock = threading.Lock()
        self.open_sockets: set[socket.socket] = set()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy until either side closes, then close both: a peer that died is seen as gone by the other side."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    for end in (source, sink):
        with contextlib.suppress(OSError):
            end.shutdown(socket.SHUT_RDWR)


class Forwarder:
    """Relays TCP connections from ``listen_host`` (a random port) to ``target``, in threads of this process."""

    def __init__(self, listen_host: str, target: tuple[str, int]) -> None:
        self._server = _RelayServer((listen_host, 0), target)
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        with self._server.lock:
            for sock in self._server.open_sockets:
                with contextlib.suppress(OSError):
                    sock.close()
        self._thread.join(timeout=5)
