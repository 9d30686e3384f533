"""Test infrastructure: a throw-away RabbitMQ node with its own settings, next to the machine's broker.

The consumer timeout of RabbitMQ before 3.12 is one node-wide setting (3.12 added a per-queue policy), and the
node checks it once a minute by default: a test that needs a short timeout cannot borrow the shared broker.
This starts the installed server as a second node (own name, ports, data directory, config; the machine's
``rabbitmq-env.conf`` left out) and stops it at exit. Root is needed to run the server outside its init script.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from extraction_pipeline_tests.live_stack import free_port

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")  # the Debian package's; /usr/sbin's wrapper su's away


def unavailable_reason() -> str | None:
    if not SERVER.exists():
        return f"no RabbitMQ server at {SERVER}"
    if os.geteuid() != 0:
        return "starting a RabbitMQ node needs root"
    return None


@contextmanager
def private_rabbitmq(
    directory: Path, *, consumer_timeout_ms: int, heartbeat_s: int, startup_timeout: float = 180.0
) -> Iterator[str]:
    """A RabbitMQ node on 127.0.0.1 whose consumer timeout is checked every second; yields its pyamqp URL."""
    name = f"celery_{uuid.uuid4().hex[:8]}"
    port, dist_port = free_port(), free_port()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "rabbitmq.conf").write_text(
        f"listeners.tcp.default = 127.0.0.1:{port}\n"
        f"consumer_timeout = {consumer_timeout_ms}\n"
        f"heartbeat = {heartbeat_s}\n"  # the lower of this and the client's is used
        f"default_user = {name}\ndefault_pass = {name}\ndefault_vhost = {name}\n"
        "default_permissions.configure = .*\ndefault_permissions.read = .*\ndefault_permissions.write = .*\n"
    )
    # the node looks at its channels' unacknowledged messages on every channel tick (default: every minute)
    (directory / "advanced.config").write_text("[{rabbit, [{channel_tick_interval, 1000}]}].\n")
    (directory / "enabled_plugins").write_text("[].\n")
    (directory / "rabbitmq-env.conf").write_text("")
    env = {
        **os.environ,
        "HOME": str(directory),  # its own Erlang cookie
        "RABBITMQ_CONF_ENV_FILE": str(directory / "rabbitmq-env.conf"),
        "RABBITMQ_NODENAME": f"{name}@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(dist_port),
        "RABBITMQ_MNESIA_BASE": str(directory / "mnesia"),
        "RABBITMQ_LOG_BASE": str(directory / "log"),
        "RABBITMQ_CONFIG_FILE": str(directory / "rabbitmq.conf"),
        "RABBITMQ_ADVANCED_CONFIG_FILE": str(directory / "advanced.config"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(directory / "enabled_plugins"),
        "RABBITMQ_PID_FILE": str(directory / "node.pid"),
        "ERL_EPMD_ADDRESS": "127.0.0.1",
    }
    with (directory / "server.log").open("wb") as log:
        process = subprocess.Popen([str(SERVER)], env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
    try:
        _wait_for_port(port, startup_timeout, process, directory / "server.log")
        yield f"pyamqp://{name}:{name}@127.0.0.1:{port}/{name}"
    finally:
        _stop(process)
        shutil.rmtree(directory / "mnesia", ignore_errors=True)


def _wait_for_port(port: int, timeout: float, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"the private RabbitMQ node did not listen within {timeout} s:\n{log.read_text()[-2000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):  # the Erlang VM may outlive the script that started it
        os.killpg(process.pid, signal.SIGKILL)
