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
_ORIGINS: dict[str, str] = {}
_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)[^@]*@")


def dev_env_path() -> Path:
    return settings.state_dir() / DEV_ENV_FILENAME


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
