"""Where things are, and the settings of the installation as they are in force.

Every ``PORTAL_*`` environment variable is a field of ``Settings`` (portal/settings.py: its type,
default and check; its alias is the variable's name) and is read here and nowhere else. ``settings()`` returns the settings in force:

* read again whenever a ``PORTAL_*`` variable or ``.streamlit/secrets.toml`` changed (tests set
  variables per test), else the same object — a check costs a few microseconds;
* a variable left unset or empty takes the ``[cas]``/``[portal]`` key of ``.streamlit/secrets.toml``
  where the setting has one (the file Streamlit reads: the working folder's, else the home
  folder's), else its default;
* a bad value raises ``SettingsError``, which names the variable and says why, in Chinese and
  English. Every command checks the settings before it does anything (``portal.cli``), so
  ``portal serve`` and ``portal notify run`` refuse to start with a bad value rather than fail
  later with a traceback.

docs/configuration.md documents the same list (tests/test_settings.py keeps them equal).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, get_args

from pydantic import SecretStr, ValidationError
from pydantic.fields import FieldInfo

from .settings import PROXY_WARNED_WIDER_THAN, Network, Settings, SettingsError

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(__file__).resolve().parent / "data"
TEMPLATES_DIR = ROOT / "templates"
# Inside pages/, so that no pages/ folder sits beside it (Streamlit would route that folder itself).
ENTRY_SCRIPT = ROOT / "pages" / "main.py"

SESSION_COOKIE = "portal_session"
# Our logout route; /auth/logout is st.logout's own (OIDC) and must reach Streamlit.
LOGOUT_PATH = "/auth/end"

PREFIX = "PORTAL_"
# Names that are no longer settings of their own, and the setting that replaced them.
DEPRECATED = {"PORTAL_BASE_URL": "PORTAL_PUBLIC_URL"}


# --- reading --------------------------------------------------------------------------------


def _source(field: FieldInfo) -> tuple[str, str, str]:
    """(variable, secrets.toml section, key) a field is read from, as ``_setting`` recorded them in
    its ``json_schema_extra`` (section and key empty: secrets.toml has no place for it)."""
    extra = field.json_schema_extra
    env = extra.get("env") if isinstance(extra, dict) else None
    place = (extra.get("secrets") if isinstance(extra, dict) else None) or ["", ""]
    if not isinstance(env, str) or not isinstance(place, list) or len(place) != 2:
        raise TypeError(f"a setting not declared with _setting(): {field}")
    return env, str(place[0]), str(place[1])


def environment_names() -> list[str]:
    """Every variable ``Settings`` reads, in declaration order."""
    return [_source(f)[0] for f in Settings.model_fields.values()]


_SECRETS = os.path.join(".streamlit", "secrets.toml")
_HOME = os.path.expanduser("~")


def secrets_files() -> list[Path]:
    """Where secrets.toml is looked for, first found wins: the working folder's, the home folder's."""
    return [Path(os.getcwd(), _SECRETS), Path(_HOME, _SECRETS)]


def _secrets_file() -> tuple[str | None, int]:
    for folder in (os.getcwd(), _HOME):
        path = os.path.join(folder, _SECRETS)
        try:
            return path, os.stat(path).st_mtime_ns
        except OSError:
            continue
    return None, 0


def _environ_items() -> tuple[tuple[str, str], ...]:
    """The ``PORTAL_*`` variables as they are now. os.environ decodes every name it is asked
    for (≈ 75 µs for all); its raw mapping answers in ≈ 5 µs, which a check per call needs."""
    raw = getattr(os.environ, "_data", None)
    if isinstance(raw, dict) and isinstance(next(iter(raw), b""), bytes):
        prefix = PREFIX.encode()
        return tuple((os.fsdecode(k), os.fsdecode(v)) for k, v in raw.items() if k.startswith(prefix))
    return tuple((k, v) for k, v in os.environ.items() if k.startswith(PREFIX))


def read(environ: dict[str, str] | None = None, secrets: dict[str, Any] | None = None) -> Settings:
    """Settings from ``environ`` (default: the process environment) and secrets.toml's sections;
    raises ``SettingsError``."""
    env = dict(_environ_items()) if environ is None else dict(environ)
    if secrets is None:
        path, _ = _secrets_file()
        secrets = _load_secrets(path)
    raw: dict[str, Any] = {}
    problems: list[str] = []
    for field in Settings.model_fields.values():
        variable, section, key = _source(field)
        names = [variable, *(k for k, v in DEPRECATED.items() if v == variable)]
        given = {n: env[n] for n in names if env.get(n, "").strip()}
        if len(set(given.values())) > 1:
            problems.append(
                f"{' 和 '.join(given)} 不一致，请只保留 {names[0]} / "
                f"{' and '.join(given)} differ: keep {names[0]} only"
            )
        if given:
            raw[names[0]] = next(iter(given.values()))
            continue
        if section and isinstance(secrets.get(section), dict) and key in secrets[section]:
            value = secrets[section][key]
            if value not in ("", None):
                raw[names[0]] = str(value) if not isinstance(value, (bool, int, float)) else value
    if problems:
        raise SettingsError(problems)
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise SettingsError([_problem(error, raw) for error in exc.errors()]) from None


@lru_cache(maxsize=4)
def _load_secrets_cached(path: str, stamp: int) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _load_secrets(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        return {}
    return _load_secrets_cached(path, stamp)


_CHINESE = {
    "int_parsing": "应为整数 / must be a whole number",
    "int_from_float": "应为整数 / must be a whole number",
    "float_parsing": "应为数字 / must be a number",
    "bool_parsing": "应为 1 或 0（true/false、yes/no、on/off）/ must be 1 or 0 (true/false, yes/no, on/off)",
    "greater_than_equal": "不能小于 {ge} / must be at least {ge}",
    "greater_than": "应大于 {gt} / must be greater than {gt}",
    "less_than_equal": "不能大于 {le} / must be at most {le}",
    "literal_error": "应为 {expected_zh} 之一 / must be one of {expected_en}",
    "string_too_long": "不能超过 {max_length} 个字符 / must be at most {max_length} characters",
}


def _problem(error: Any, raw: dict[str, Any]) -> str:
    """One line: the variable, the value (never a secret's), and why, in Chinese and English."""
    loc = error.get("loc") or ()
    name = str(loc[0]) if loc else ""
    if name not in _FIELD_BY_ENV:  # a check of several settings together names them itself
        return str(error.get("msg", "")).removeprefix("Value error, ")
    given = raw.get(name, Settings.model_fields[_FIELD_BY_ENV[name]].default)
    secret = "SECRET" in name or "PASSWORD" in name
    shown = "（已隐藏 / hidden）" if secret else f"“{given}”"
    template = _CHINESE.get(error["type"])
    ctx = dict(error.get("ctx") or {})
    if error["type"] == "literal_error":
        allowed = [str(v) for v in get_args(Settings.model_fields[_FIELD_BY_ENV[name]].annotation)]
        ctx["expected_zh"], ctx["expected_en"] = "、".join(allowed), ", ".join(allowed)
    why = template.format(**ctx) if template else str(error.get("msg", "")).removeprefix("Value error, ")
    return f"{name} = {shown}：{why}"


_FIELD_BY_ENV = {_source(f)[0]: n for n, f in Settings.model_fields.items()}
_cached: tuple[Any, Settings] | None = None


_held = threading.local()  # settings held for one page run (``held``), per thread


def settings() -> Settings:
    """The settings in force (read again only when the environment or secrets.toml changed)."""
    kept = getattr(_held, "settings", None)
    if kept is not None:
        return kept
    global _cached
    key = (_environ_items(), _secrets_file())
    cached = _cached
    if cached is not None and cached[0] == key:
        return cached[1]
    fresh = read()
    _cached = (key, fresh)
    return fresh


@contextmanager
def held() -> Iterator[Settings]:
    """The settings as they are now, for everything this thread does until the block ends.

    A page run asks for settings dozens of times, and each ask looks at the environment and
    secrets.toml again (a stat each): in a booking rush that was 3 % of the server's CPU. Held for
    one run, they also cannot change half-way through it. Nested blocks keep the outer one's."""
    if getattr(_held, "settings", None) is not None:
        yield _held.settings
        return
    _held.settings = settings()
    try:
        yield _held.settings
    finally:
        _held.settings = None


def shown(value: Any) -> str:
    """A setting's value as the variable would spell it (docs, ``portal config``)."""
    if isinstance(value, SecretStr):
        return "******" if value.get_secret_value() else ""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple) and all(isinstance(v, dt.time) for v in value):
        return "-".join(v.strftime("%H:%M") for v in value)
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return ";".join(f"{k}={v if isinstance(v, str) else ','.join(v)}" for k, v in value.items())
    return str(value)


def describe(found: Settings | None = None) -> list[tuple[str, str, str]]:
    """(variable, value as in force, where it came from) for every setting; secrets hidden."""
    found = found or settings()
    env = {k: v for k, v in _environ_items() if v.strip()}
    path, _ = _secrets_file()
    secrets = _load_secrets(path)
    rows = []
    for name, field in Settings.model_fields.items():
        variable, section, key = _source(field)
        if variable in env or any(env.get(old) for old, new in DEPRECATED.items() if new == variable):
            source = "environment"
        elif section and key in (secrets.get(section) or {}):
            source = f"secrets.toml [{section}] {key}"
        else:
            source = "default"
        value = getattr(found, name)
        if name == "quiet_hours" and value is None:
            rows.append((variable, "off", source))
            continue
        rows.append((variable, shown(value), source))
    return rows


def _count(network: Network) -> str:
    total = network.num_addresses
    return f"{total:,}" if total < 10**12 else f"2^{network.max_prefixlen - network.prefixlen}"


def warnings(found: Settings | None = None) -> list[str]:
    """Values accepted, but probably not meant: a trusted-proxy network wider than one subnet."""
    found = found or settings()
    return [
        f"PORTAL_TRUSTED_PROXIES 中的 {n} 含 {_count(n)} 个地址：其中任何主机都能伪造客户端的地址，"
        f"请只列出反向代理本身的地址 / {n} in PORTAL_TRUSTED_PROXIES holds {_count(n)} addresses: "
        "any host in it can fake a client's address; list the reverse proxies' own addresses"
        for n in found.trusted_proxies
        if n.prefixlen < PROXY_WARNED_WIDER_THAN[n.version]
    ]


def unknown_names() -> list[str]:
    """``PORTAL_*`` variables that are no setting (a misspelt name is otherwise silently ignored)."""
    known = set(environment_names()) | set(DEPRECATED)
    return sorted(k for k, _ in _environ_items() if k not in known)


def deprecated_names() -> list[str]:
    """Old names still set, with the name to use instead."""
    present = dict(_environ_items())
    return [f"{old} → {new}" for old, new in DEPRECATED.items() if present.get(old, "").strip()]


def use_database(path: str | Path) -> None:
    """``portal --db PATH``: the database of this process and of what it starts."""
    os.environ["PORTAL_DB"] = str(Path(path).resolve())


def db_path() -> Path:
    """The database file this process uses."""
    return settings().db


def pinned_now() -> str:
    """``PORTAL_TODAY`` as set (validated with the rest at start); read apart from ``settings()``
    because the clock is asked for thousands of times in one report."""
    return os.environ.get("PORTAL_TODAY", "")


def for_libraries(**values: str) -> None:
    """Set variables that libraries read themselves (``portal serve``: uvicorn's own
    ``FORWARDED_ALLOW_IPS``, so that the client's address is decided by ``portal.addresses``)."""
    os.environ.update(values)


def malloc_arenas_set() -> bool:
    """Whether ``MALLOC_ARENA_MAX`` is set (then ``portal serve`` leaves glibc's arenas alone)."""
    return bool(os.environ.get("MALLOC_ARENA_MAX"))


# Older names of settings, kept so that code written against them still reads the settings in force.
_LEGACY = {
    "SESSION_IDLE_SECONDS": "session_idle",
    "SESSION_MAX_AGE": "session_max_age",
    "LOCKOUT_THRESHOLD": "lockout_threshold",
    "LOCKOUT_SECONDS": "lockout_seconds",
    "LOGIN_CONCURRENCY": "login_concurrency",
    "LOGIN_WAIT_SECONDS": "login_wait",
    "MAX_EXPORT_FORMS": "max_export_forms",
    "MAX_UPLOAD_BYTES": "max_upload_bytes",
}


def __getattr__(name: str) -> Any:
    if name in _LEGACY:
        return getattr(settings(), _LEGACY[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
