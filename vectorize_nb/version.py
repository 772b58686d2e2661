"""The package's version, written once: setuptools reads it for pyproject.toml, and the command and the
REST client's User-Agent say it."""

__version__ = "0.1.0"
