"""The registry of modes: adding a mode is one package keeping :class:`textgan.core.mode.Mode`'s
contract plus one line here."""

from __future__ import annotations

from textgan.core.mode import Mode
from textgan.errors import ConfigError
from textgan.image.mode import ImageMode
from textgan.text.mode import TextMode
from textgan.toy.mode import ToyMode

MODES: dict[str, Mode] = {mode.name: mode for mode in (TextMode(), ImageMode(), ToyMode())}


def get_mode(name: str) -> Mode:
    """The registered mode called ``name``, or a one-line error listing the others."""
    try:
        return MODES[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown mode '{name}'; choose one of {', '.join(MODES)}") from None
