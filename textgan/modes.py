"""The registry of modes: adding a mode is one package keeping :class:`textgan.core.mode.Mode`'s
contract plus one line here.

A mode's package is imported when that mode is first asked for (:func:`get_mode`), so sampling a
text checkpoint does not import the image and toy modes. ``MODES`` (every mode, by name) imports
them all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from textgan.errors import ConfigError

if TYPE_CHECKING:
    from textgan.core.mode import Mode

# name -> "module:class" of its Mode
REGISTRY: dict[str, str] = {
    "text": "textgan.text.mode:TextMode",
    "image": "textgan.image.mode:ImageMode",
    "toy": "textgan.toy.mode:ToyMode",
}
_loaded: dict[str, Mode] = {}


def get_mode(name: str) -> Mode:
    """The registered mode called ``name``, or a one-line error listing the others."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise ConfigError(f"unknown mode '{name}'; choose one of {', '.join(REGISTRY)}")
    if name not in _loaded:
        module, cls = REGISTRY[name].split(":")
        _loaded[name] = getattr(importlib.import_module(module), cls)()
    return _loaded[name]


def __getattr__(name: str) -> Any:
    if name == "MODES":  # every mode (imports them all)
        return {mode: get_mode(mode) for mode in REGISTRY}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
