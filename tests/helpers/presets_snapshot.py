"""Every preset's effective configuration, as committed in tests/snapshots/resolved_presets.json.

A changed default or preset shows as a diff of that file. After an intended change, regenerate it
from the repository root with ``python tests/helpers/presets_snapshot.py`` and commit the diff.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).resolve().parent.parent / "snapshots" / "resolved_presets.json"


def resolved_presets() -> dict[str, Any]:
    """``{"mode/preset": resolved config dict}`` for every preset of every registered mode."""
    from textgan.modes import MODES
    from textgan.training import resolve_config

    return {f"{mode}/{preset}": resolve_config(mode, preset).to_dict()
            for mode in sorted(MODES) for preset in sorted(MODES[mode].presets)}


def render(presets: dict[str, Any]) -> str:
    return json.dumps(presets, indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    SNAPSHOT.write_text(render(resolved_presets()))
    print(f"wrote {SNAPSHOT}")
