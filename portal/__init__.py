"""联系师生服务平台 — the UI-free core: models, rules, calendar and services."""

__version__ = "0.1.0"
