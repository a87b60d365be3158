"""联系师生服务平台 — the UI-free core: models, rules, calendar and services."""

from importlib.metadata import PackageNotFoundError, version

try:  # one source: pyproject.toml's version, as installed (CHANGELOG.md names each release)
    __version__ = version("contact-portal")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
