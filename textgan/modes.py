"""The registry of modes: adding a mode is one package keeping :class:`textgan.core.mode.Mode`'s
contract plus one line here.

A mode's package is imported when that mode is first asked for (:func:`get_mode`), so sampling a
text checkpoint does not import the image and toy modes. ``MODES`` (every mode, by name) imports
them all.

A mode kept outside textgan (a plugin, or a mode a test defines) is registered without editing
this file through the environment: ``TEXTGAN_MODES="name=package.module:Class,..."``.
"""

from __future__ import annotations

import importlib
import os
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
# The mode that scores samples given as lines of text, whoever made them (`textgan eval SAMPLES`,
# textgan.evaluate), and prepares corpora (`textgan prepare`); runs and model folders are scored
# by the mode they were trained in.
LINES_MODE = "text"
PLUGINS_ENV = "TEXTGAN_MODES"
_loaded: dict[str, Mode] = {}  # "module:class" -> its instance


def registry() -> dict[str, str]:
    """Every mode's name -> "module:class": textgan's and those of ``$TEXTGAN_MODES``."""
    modes = dict(REGISTRY)
    for entry in filter(None, (e.strip() for e in os.environ.get(PLUGINS_ENV, "").split(","))):
        name, _, target = entry.partition("=")
        if not name.strip() or ":" not in target:
            raise ConfigError(f"${PLUGINS_ENV}: {entry!r} is not name=package.module:Class")
        modes[name.strip()] = target.strip()
    return modes


def get_mode(name: str) -> Mode:
    """The registered mode called ``name``, or a one-line error listing the others."""
    from textgan.core.mode import Mode

    modes = registry()
    if not isinstance(name, str) or name not in modes:
        raise ConfigError(f"unknown mode '{name}'; choose one of {', '.join(modes)}")
    target = modes[name]
    if target not in _loaded:
        module, cls = target.split(":")
        try:
            mode = getattr(importlib.import_module(module), cls)()
        except (ImportError, AttributeError) as err:
            raise ConfigError(f"mode '{name}' ({target}) cannot be imported: {err}") from None
        except TypeError as err:  # an abstract method (build, sample) left out
            raise ConfigError(f"mode '{name}' ({target}) breaks the Mode contract: {err}") \
                from None
        if not isinstance(mode, Mode) or mode.name != name:
            raise ConfigError(f"mode '{name}' ({target}) is not a Mode named {name!r}")
        _loaded[target] = mode
    return _loaded[target]


def __getattr__(name: str) -> Any:
    if name == "MODES":  # every mode (imports them all)
        return {mode: get_mode(mode) for mode in registry()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
