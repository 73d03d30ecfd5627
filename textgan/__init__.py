"""textgan: character-level text GANs trained with WGAN-GP.

The Python API (:mod:`textgan.api`) is importable from here, and loaded on first use so that
``import textgan`` (and the ``textgan`` command's start) imports no torch::

    import textgan

    model = textgan.load("runs/text-XXXX")  # a run, a checkpoint or an exported model folder
    model.generate(5, seed=0)
"""

from typing import Any

from textgan._version import __version__

# What `textgan.<name>` gives, from textgan.api (imported when one of them is first used).
API = ("load", "evaluate", "configure", "train", "TrainedModel", "TrainResult")
__all__ = ["__version__", *API]


def __getattr__(name: str) -> Any:
    if name in API:
        import textgan.api

        return getattr(textgan.api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _load_checkout_cli() -> None:
    """Make the repository's cli/ folder the subpackage ``textgan.cli`` in a source checkout.

    Wheels install the command line as textgan/cli/. In the repository it is the folder cli/
    beside textgan/ (the agreed layout), and an editable install (or PYTHONPATH=<checkout>) only
    puts the checkout on sys.path: hatchling's editable mode cannot move a folder into a package.
    Only a checkout has ../cli/ and no textgan/cli/; elsewhere this does nothing.
    """
    import importlib.util
    import sys
    from pathlib import Path

    package = Path(__file__).resolve().parent
    folder = package.parent / "cli"
    if (package / "cli").is_dir() or not (folder / "__init__.py").is_file():
        return
    spec = importlib.util.spec_from_file_location(f"{__name__}.cli", folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    globals()["cli"] = module


_load_checkout_cli()
