"""Command-line flags generated from the settings' fields (:func:`textgan.config.setting`).

A command names the config dataclasses whose flag fields it offers, per section, and receives
the flags that were given as ``settings``: ``{section: {field: value}}``. It builds its configs
with :func:`~textgan.config.apply_overrides`, so type checks, validation and every default come
from the fields; a command states no default of its own.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Flag:
    """One command-line flag and the setting it sets."""

    param: str  # the Python name Typer turns into the flag: js_on is --js-on
    section: str  # where the value goes: settings[section][field]
    field: str
    type: Any  # what Typer parses (str for a Literal: the setting's type check names the choices)
    help: str
    default: Any = None  # shown in --help; None: not shown


def flags_for(section: str, configs: type | dict[str, type],
              only: Iterable[str] | None = None) -> list[Flag]:
    """The flags of the fields marked ``flag`` in ``configs`` (``only``: just these fields).

    ``configs`` maps each mode to its dataclass where a section differs by mode. A field found in
    several of them is one flag; its help names the modes when their help texts differ or when
    the first (default) mode lacks it. Its default is shown when every mode has the same.
    """
    by_mode = configs if isinstance(configs, dict) else {"": configs}
    found: dict[str, list[tuple[str, dataclasses.Field[Any], Any]]] = {}
    for mode, config in by_mode.items():
        hints = typing.get_type_hints(config)
        for f in dataclasses.fields(config):
            if f.metadata.get("flag") and (only is None or f.name in only):
                found.setdefault(f.name, []).append((mode, f, hints[f.name]))
    flags = []
    for name, places in found.items():
        helps: dict[str, list[str]] = {}
        for mode, f, _ in places:
            helps.setdefault(f.metadata["help"], []).append(mode)
        if len(helps) == 1 and places[0][0] == next(iter(by_mode)):
            text = next(iter(helps))
        else:
            text = "; ".join(f"{'/'.join(modes)}: {h[0].lower()}{h[1:].rstrip('.')}"
                             for h, modes in helps.items()) + "."
        choices = places[0][1].metadata.get("choices")
        if choices is not None:  # read from a registry (a Literal's values are in its help)
            text = f"{text} One of: {', '.join(choices())}."
        flag_name = _flag_name(places[0][1])
        parsed = {_flag_type(hint) for _, _, hint in places}
        if len(parsed) != 1:
            raise TypeError(f"--{flag_name} has different types in different modes: {parsed}")
        defaults = [_default(f) for _, f, _ in places]
        shown = defaults[0] if all(d == defaults[0] for d in defaults) else None
        flags.append(Flag(flag_name.replace("-", "_"), section, name, parsed.pop(), text, shown))
    return flags


def _flag_name(f: dataclasses.Field[Any]) -> str:
    flag = f.metadata["flag"]
    return flag if isinstance(flag, str) else f.name.replace("_", "-")


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def _flag_type(hint: Any) -> Any:
    """int, float, str, bool or list[str] for Typer; ``X | None`` is X, a Literal its values' type."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        (hint,) = [a for a in args if a is not type(None)]
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        return type(args[0])
    if origin is list or hint in (int, float, str, bool):
        return hint
    raise TypeError(f"a setting of type {hint} cannot be a flag")


def _help(flag: Flag) -> str:
    """The field's help, with its default the way click shows one."""
    default = flag.default
    if default is None or default == []:
        return flag.help
    if isinstance(default, bool):
        name = flag.param.replace("_", "-")
        default = name if default else f"no-{name}"
    return f"{flag.help}  [default: {default}]"


def with_flags(flags: list[Flag]) -> Callable[[F], F]:
    """Give a Typer command ``flags``, which it receives as its ``settings`` parameter: those
    given, ``{section: {field: value}}`` with every section present. In ``--help`` they come
    after the command's own options, before those it declares keyword-only (after ``*``)."""
    names = [f.param for f in flags]
    if len(set(names)) != len(names):
        raise TypeError(f"a flag is in two sections: {sorted(n for n in names if names.count(n) > 1)}")

    def decorate(command: F) -> F:
        own = [p for p in inspect.signature(command, eval_str=True).parameters.values()
               if p.name != "settings"]
        generated = [inspect.Parameter(f.param, inspect.Parameter.KEYWORD_ONLY, annotation=f.type,
                                       default=typer.Option(None, help=_help(f)))
                     for f in flags]

        @functools.wraps(command)
        def run(**kwargs: Any) -> Any:
            settings: dict[str, dict[str, Any]] = {f.section: {} for f in flags}
            for f in flags:
                value = kwargs.pop(f.param)
                if value is not None and value != []:  # not given
                    settings[f.section][f.field] = value
            return command(settings=settings, **kwargs)

        last = [p for p in own if p.kind is inspect.Parameter.KEYWORD_ONLY]
        first = [p for p in own if p not in last]
        run.__signature__ = inspect.Signature(first + generated + last)  # type: ignore[attr-defined]
        return run  # type: ignore[return-value]

    return decorate
