"""Reading a YAML file into Settings, with every error named by its path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sspr.config.settings import Settings, reference_errors


class ConfigError(Exception):
    """The configuration is invalid; `errors` lists every problem with its path."""

    def __init__(self, source: str, errors: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(errors))
        self.source = source
        self.errors = errors


# Where the WSGI entry point and `sspr serve` find the file, when not told otherwise.
CONFIG_ENV = "SSPR_CONFIG"
DEFAULT_CONFIG = "/etc/sspr/sspr.yaml"


def config_path() -> str:
    """The configuration file named by SSPR_CONFIG, or the default one."""
    return os.environ.get(CONFIG_ENV, DEFAULT_CONFIG)


def load_settings(path: str | Path) -> Settings:
    """Read and validate a YAML file; raise ConfigError listing every problem."""
    source = str(path)
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(source, [f"cannot read the file: {exc.strerror}"]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(source, [f"not valid YAML: {exc}"]) from exc
    return parse_settings(raw, source)


def parse_settings(raw: object, source: str = "<config>") -> Settings:
    """Validate already-parsed YAML data into Settings."""
    if not isinstance(raw, dict):
        raise ConfigError(source, ["the file must hold a mapping of settings"])
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        # The whole-model error repeats reference_errors; they are added from raw data below.
        field_errors = [_describe(error) for error in exc.errors() if error["loc"]]
        raise ConfigError(source, field_errors + reference_errors(raw)) from exc


def _describe(error: Any) -> str:
    """Render one pydantic error as `path: message`, the way admins read paths."""
    path = ""
    for part in error["loc"]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    message = str(error["msg"]).removeprefix("Value error, ")
    if message.startswith("["):
        # A list validator names the failing item itself: profiles[2].channels[0]: …
        index, _, rest = message.partition(": ")
        return f"{path}{index}: {rest}"
    return f"{path}: {message}" if path else message
