"""The package version (one place: the package and the metadata queries read it)."""

__version__ = "0.1.0"
