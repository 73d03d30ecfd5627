"""The package version (its own module: modules that need it import no package __init__)."""

__version__ = "0.1.0"
