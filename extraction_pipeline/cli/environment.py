"""Where the CLI's settings come from: the shell, or ``.state/dev.env`` written by a running ``make dev``.

Inside the project folder the CLI reads ``<state>/dev.env`` by itself, so the commands the dev banner prints
work when pasted into a fresh shell. A variable the shell sets always wins; error messages name the origin.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from pathlib import Path

from extraction_pipeline import settings

DEV_ENV_FILENAME = "dev.env"
# Written by `extraction-pipeline dev` on start and kept after it stops: a dev stack lives in this state folder, so
# a missing dev.env means "not running" (and not "this folder never had one").
DEV_STACK_FILENAME = "dev.stack"
_ORIGINS: dict[str, str] = {}
_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)[^@]*@")


def dev_env_path() -> Path:
    return settings.state_dir() / DEV_ENV_FILENAME


def dev_stack_marker() -> Path:
    return settings.state_dir() / DEV_STACK_FILENAME


def dev_stack_stopped(setting: str) -> bool:
    """Whether ``setting`` should have come from a running dev stack that is not there.

    True when this folder has a dev stack and the setting is unset (the stack stopped and removed its dev.env),
    or when the setting's value came from a dev.env the stack left behind (killed before it could remove it):
    the caller then saw a failure to reach that stack's endpoint.
    """
    if not dev_stack_marker().is_file():
        return False
    if not os.environ.get(setting):
        return not dev_env_path().is_file()
    return _ORIGINS.get(setting) == str(dev_env_path())


DEV_STACK_DOWN = "the dev stack is not running: start it with `make dev`"


def write_env_file(path: Path, values: Mapping[str, str], *, comment: str) -> None:
    """A shell-sourceable ``export NAME=value`` file (also what ``load_dev_env`` parses)."""
    lines = [f"# {comment}"] + [f"export {name}={shlex.quote(value)}" for name, value in values.items()]
    path.write_text("\n".join(lines) + "\n")


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, _, value = words[1].partition("=")
            values[name] = value
    return values


def load_dev_env(path: Path | None = None) -> Path | None:
    """Fill the variables the shell leaves unset from the dev stack's env file; returns the file if read."""
    path = path or dev_env_path()
    try:
        values = read_env_file(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    for name, value in values.items():
        if name not in os.environ:
            os.environ[name] = value
            _ORIGINS[name] = str(path)
    return path


def describe_setting(name: str, *, default: str | None = None, secret: bool = False) -> str:
    """``NAME=value (from …)`` or ``NAME is unset (default …)``, for error messages."""
    value = os.environ.get(name)
    if not value:
        return f"{name} is unset (default {default})" if default else f"{name} is unset"
    shown = _PASSWORD_IN_URL.sub(r"\1***@", value) if secret else value
    return f"{name}={shown} (from {_ORIGINS.get(name, 'the environment')})"
