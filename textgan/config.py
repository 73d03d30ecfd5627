"""Settings: config dataclasses in, TOML out, overrides merged with type checks.

Each part of textgan owns its config dataclass (the core's :class:`~textgan.core.trainer.TrainConfig`,
text's data and model configs, ...). A setting is declared once, as a field of one of them with
:func:`setting`: its type (the annotation), default and help text. Everything else follows from
that field: type checks of config files and flags (:func:`check_type`), the CLI flag (``cli/flags.py``)
and its ``--help`` line, and ``config.toml``.

A run's effective configuration is a dict of sections ``{"mode": ..., "train": {...}, "data": {...},
"model": {...}}`` built from those dataclasses and saved as ``config.toml`` in the run directory.
Precedence: defaults < preset < --config file < flags.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import tomllib
import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from textgan.errors import ConfigError

T = TypeVar("T")

# How many samples an evaluation scores unless told otherwise: the paper's code scores 10 batches
# of 64 (every command and function that generates samples to evaluate defaults to it).
PAPER_SAMPLES = 640


def setting(default: Any, help: str, *, flag: bool | str = False,
            choices: Callable[[], Sequence[str]] | None = None, min: float | None = None,
            zero: str | None = None, resumable: bool = False, recorded: bool = False) -> Any:
    """A config field: its default and the help text its flag shows in ``--help``.

    ``flag=True`` makes it a command-line flag named after the field (``batch_size``:
    ``--batch-size``); a string names the flag differently (``flag="js-on"``). ``choices``: the
    values a string setting accepts, read from a registry when a value is checked (so an entry
    registered later is accepted; a ``Literal`` type states a fixed set instead).

    Limits, checked by :func:`apply_overrides` (:func:`check_limits`) before the config's own
    ``validate()``: ``min`` the smallest value (a float must also be finite; None always
    passes); ``zero`` what 0 means when ``min`` is 0 (``"off"``: "must be 0 (off) or positive").
    ``resumable``: a resumed run may change it (how long, where and how often it reports);
    ``recorded``: set when a run starts and kept by a resume (its schedule).
    """
    metadata: dict[str, Any] = {"help": help, "flag": flag}
    for key, value in (("choices", choices), ("min", min), ("zero", zero)):
        if value is not None:
            metadata[key] = value
    for key, on in (("resumable", resumable), ("recorded", recorded)):
        if on:
            metadata[key] = True
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: copy.copy(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


class Preset(dict[str, dict[str, Any]]):
    """A mode's preset: ``{section: {setting: value}}``, only what differs from the defaults, and
    a one-line ``description`` (what ``textgan train --help`` shows for it; not a setting)."""

    def __init__(self, description: str, **sections: dict[str, Any]) -> None:
        super().__init__(sections)
        self.description = description


def settings_from(source: type, names: Sequence[str], **defaults: Any) -> Callable[[type[T]], type[T]]:
    """A class decorator (under ``@dataclass``) giving the class ``source``'s settings ``names``
    as its first fields: the same type, help, flag and limits, declared once in ``source``;
    ``defaults`` gives some of them other defaults (the class's own)."""
    unknown = set(defaults) - set(names)
    if unknown:
        raise TypeError(f"defaults for settings not taken from {source.__name__}: {sorted(unknown)}")
    hints = typing.get_type_hints(source)
    by_name = {f.name: f for f in dataclasses.fields(source)}  # type: ignore[arg-type]

    def decorate(cls: type[T]) -> type[T]:
        own = dict(cls.__dict__.get("__annotations__", {}))
        taken = {}
        for name in names:
            f = by_name[name]
            default = defaults[name] if name in defaults else (
                f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default)
            taken[name] = hints[name]
            if isinstance(default, (list, dict, set)):
                field = dataclasses.field(default_factory=lambda d=default: copy.copy(d),
                                          metadata=f.metadata)
            else:
                field = dataclasses.field(default=default, metadata=f.metadata)
            setattr(cls, name, field)
        cls.__annotations__ = {**taken, **own}
        return cls

    return decorate


# The scalar types a setting may have: what a value must be, and the Python types that are that.
_SCALARS: dict[Any, tuple[str, tuple[type, ...]]] = {
    bool: ("true or false", (bool,)),
    int: ("a whole number", (int,)),
    float: ("a number", (int, float)),
    str: ("a string", (str,)),
}


def check_type(name: str, value: Any, hint: Any) -> Any:
    """``value`` checked against setting ``name``'s type ``hint``, as that type (TOML lists become
    tuples, whole numbers floats where a float is asked for); a one-line ConfigError if it is not.

    Settings use scalars, ``X | None``, ``Literal[...]``, ``tuple[X, Y]``, ``tuple[X, ...]`` and
    ``list[X]``.
    """
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in args if a is not type(None)]  # only `X | None`
        return None if value is None else check_type(name, value, inner)
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{name} must be one of {', '.join(map(str, args))}; got {value!r}")
        return value
    if origin in (tuple, list):
        variadic = origin is list or args[-1] is Ellipsis
        if not isinstance(value, (list, tuple)) or (not variadic and len(value) != len(args)):
            count = "" if variadic else f"{len(args)} "
            raise ConfigError(f"{name} must be a list of {count}values, got {value!r}")
        items = [args[0]] * len(value) if variadic else args
        return origin(check_type(name, v, a) for v, a in zip(value, items, strict=True))
    what, accepted = _SCALARS[hint]
    if not isinstance(value, accepted) or (isinstance(value, bool) and hint is not bool):
        raise ConfigError(f"{name} must be {what}, got {value!r}")
    return float(value) if hint is float else value


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
        changes[key] = check_type(label, value, hints[key])
        _check_choice(label, changes[key], field_metadata(config, key))
    new = dataclasses.replace(config, **changes)  # type: ignore[type-var]
    check_limits(new, section)
    validate = getattr(new, "validate", None)
    if callable(validate):
        validate()
    return new


def marked(config_type: type, key: str) -> frozenset[str]:
    """The names of ``config_type``'s settings declared with ``key`` (e.g. ``resumable``)."""
    return frozenset(f.name for f in dataclasses.fields(config_type)  # type: ignore[arg-type]
                     if f.metadata.get(key))


def check_limits(config: Any, section: str = "") -> None:
    """A one-line ConfigError for the first setting of ``config`` below its ``min``."""
    for f in dataclasses.fields(config):
        low, value = f.metadata.get("min"), getattr(config, f.name)
        if low is None or value is None:
            continue
        label = f"{section}.{f.name}" if section else f.name
        if isinstance(value, float):
            if not (value >= low and math.isfinite(value)):
                what = "a non-negative number" if low == 0 else f"a finite number >= {low}"
                raise ConfigError(f"{label} must be {what}, got {value}")
        elif value < low:
            zero = f.metadata.get("zero")
            if low == 0:
                raise ConfigError(f"{label} must be 0{f' ({zero})' if zero else ''} or positive, "
                                  f"got {value}")
            raise ConfigError(f"{label} must be at least {low}, got {value}")


def field_metadata(config: Any, name: str) -> Any:
    """The ``setting(...)`` metadata of dataclass ``config``'s field ``name``."""
    return config.__dataclass_fields__[name].metadata


def _check_choice(label: str, value: Any, metadata: Any) -> None:
    choices = metadata.get("choices")
    if choices is not None and value is not None and value not in choices():
        raise ConfigError(f"{label} must be one of {', '.join(choices())}; got {value!r}")


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
