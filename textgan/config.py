"""Configuration plumbing: dataclasses in, TOML out, overrides merged with type checks.

Each part of textgan owns its config dataclass (the core's :class:`~textgan.core.trainer.TrainConfig`,
text's data and model configs, ...). A run's effective configuration is a dict of sections
``{"mode": ..., "train": {...}, "data": {...}, "model": {...}}`` built from those dataclasses and
saved as ``config.toml`` in the run directory. Precedence: defaults < preset < --config file < flags.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from textgan.errors import ConfigError

T = TypeVar("T")


def _coerce(name: str, value: Any, annotation: Any) -> Any:
    """Check ``value`` against a (simple) type annotation, converting lists to tuples etc."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(name, value, arg)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if errors else f"{name}: invalid value {value!r}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise ConfigError(f"{name} must be a list of {len(args)} values, got {value!r}")
        return tuple(_coerce(name, v, a) for v, a in zip(value, args, strict=True))
    if origin is typing.Literal:
        if value not in args:
            choices = ", ".join(map(str, args))
            raise ConfigError(f"{name} must be one of {choices}; got {value!r}")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{name} must be a number, got {value!r}")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{name} must be a whole number, got {value!r}")
        return value
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, got {value!r}")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be a string, got {value!r}")
        return value
    return value


def apply_overrides(config: T, overrides: dict[str, Any], section: str = "") -> T:
    """Return a copy of dataclass ``config`` with ``overrides`` applied, type-checked.

    Unknown keys are an error (a typo in a config file must not be silently ignored).
    ``None`` values in ``overrides`` mean "not given" and are skipped.
    """
    hints = typing.get_type_hints(type(config))
    fields = {f.name for f in dataclasses.fields(config)}  # type: ignore[arg-type]
    changes = {}
    for key, value in overrides.items():
        if value is None:
            continue
        label = f"{section}.{key}" if section else key
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"unknown setting '{label}'; known settings: {known}")
        changes[key] = _coerce(label, value, hints[key])
    new = dataclasses.replace(config, **changes)  # type: ignore[type-var]
    validate = getattr(new, "validate", None)
    if callable(validate):
        validate()
    return new


def as_dict(config: Any) -> dict[str, Any]:
    """A dataclass as a plain dict (tuples become lists, as TOML stores them)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML config file, with a one-line error for a missing or malformed file."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file {path} is not valid TOML: {err}") from None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # JSON string escapes are valid TOML basic-string escapes.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def to_toml(sections: dict[str, Any]) -> str:
    """Write a dict of scalars and one level of tables as TOML (None values are omitted)."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in sections.items()
             if not isinstance(v, dict) and v is not None]
    for name, table in sections.items():
        if isinstance(table, dict):
            lines.append(f"\n[{name}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in table.items() if v is not None]
    return "\n".join(lines) + "\n"
