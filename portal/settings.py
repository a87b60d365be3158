"""What each setting of the installation is: ``Settings``, one typed, validated object whose fields are
the ``PORTAL_*`` variables (a field's alias is the variable's name; ``_setting`` records where else it may
come from), their defaults and their checks; ``SettingsError`` names a bad one and says why, in Chinese
and English. The branding's logo and colour are checked here too (``read_logo``, ``contrast``).

``portal.config`` reads them (the environment and secrets.toml: nowhere else) and hands out the
settings in force (``config.settings()``); docs/configuration.md documents the same list.
"""

from __future__ import annotations

import datetime as dt
import io
import ipaddress
import os
import re
import stat
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

# db/ beside portal/ (``config.ROOT``), where ``portal init`` makes the database unless told otherwise
DEFAULT_DB = Path(__file__).resolve().parent.parent / "db" / "portal.sqlite3"
DEFAULT_PUBLIC_URL = "http://localhost:8501"
NEUTRAL_COLOR = "#1F5C99"
LOGO_MAX_BYTES = 256 * 1024
LOGO_MAX_SIDE = 2048  # pixels: a 256 KB PNG can still unpack to a picture that stalls a phone
LOGO_KINDS = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}  # and SVG (text)
# an SVG file: an optional XML declaration, comments and doctype, then the <svg> element itself
_SVG_ROOT = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!DOCTYPE[^>\[]*>\s*)?<svg[\s>]", re.S
)
# what would make an SVG more than a picture (a browser runs none of it inside <img>, but the file
# may be opened by itself, and an administrator's setting is no place for it)
_SVG_ACTIVE = re.compile(
    rb"<script|<foreignObject|<!ENTITY|\son\w+\s*=|javascript:|<iframe|<embed|<object", re.I
)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK = "127.0.0.1/32,::1/128"
# Trusted proxies: a network wider than these is refused (it holds much of the Internet: any client
# could write the address the audit log, the API's limiter and /health believe); one wider than a
# single subnet (/24, /64) is accepted with a warning at start (every host in it can do the same).
PROXY_REFUSED_WIDER_THAN = {4: 8, 6: 16}
PROXY_WARNED_WIDER_THAN = {4: 24, 6: 64}
# The kinds of people (people.kind); single sign-on maps the campus's 人员类别 onto them.
PERSON_KINDS = ("教职工", "学生", "离退休", "其他")


def logo_kind(data: bytes) -> str:
    """The MIME type of a logo file's bytes, or ValueError saying why they are not a small picture
    (PNG or JPEG that decodes, at most LOGO_MAX_SIDE pixels a side; or an SVG without script)."""
    if len(data) > LOGO_MAX_BYTES:
        raise ValueError(
            f"文件 {len(data) // 1024} KB，超过 {LOGO_MAX_BYTES // 1024} KB / larger than {LOGO_MAX_BYTES // 1024} KB"
        )
    kind = next((k for sign, k in LOGO_KINDS.items() if data.startswith(sign)), None)
    if kind is not None:
        # here: Pillow only when a logo is set (config is read by every command)
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(data)) as image:
                size = image.size
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise ValueError("图片已损坏，无法读取 / the picture is damaged") from None
        if max(size) > LOGO_MAX_SIDE:
            raise ValueError(
                f"图片 {size[0]}×{size[1]} 像素，每边至多 {LOGO_MAX_SIDE} 像素 / at most {LOGO_MAX_SIDE} pixels a side"
            )
        return kind
    if _SVG_ROOT.match(data):
        if _SVG_ACTIVE.search(data):
            raise ValueError("SVG 图片不能含脚本 / an SVG logo must hold no script")
        return "image/svg+xml"
    raise ValueError("应为 PNG、JPEG 或 SVG 图片 / must be a PNG, JPEG or SVG image")


def read_logo(path: Path) -> bytes:
    """A logo file's bytes, at most one more than LOGO_MAX_BYTES (a device such as /dev/zero or a
    huge file is never read whole); OSError for what is not a regular file."""
    with path.open("rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise IsADirectoryError(21, "不是普通文件 / not a regular file")
        return file.read(LOGO_MAX_BYTES + 1)


def contrast(one: str, other: str) -> float:
    """WCAG's contrast ratio of two colours given as #RRGGBB (1 to 21)."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


class SettingsError(Exception):
    """One or more settings have a bad value: each line names the variable and says why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems

    @property
    def message(self) -> str:
        lines = "\n".join(f"  {p}" for p in self.problems)
        return f"配置有误 / Invalid configuration:\n{lines}"


def _setting(
    default: Any,
    env: str,
    *,
    secrets: tuple[str, str] | None = None,
    aliases: tuple[str, ...] = (),
    **constraints: Any,
) -> Any:
    """A field read from the variable ``env`` (and, when unset, from ``secrets`` = (section, key)
    of secrets.toml)."""
    extra: dict[str, Any] = {"env": env}
    if secrets:
        extra["secrets"] = list(secrets)
    alias = AliasChoices(env, *aliases) if aliases else env
    return Field(default, validation_alias=alias, json_schema_extra=extra, **constraints)


def _words(value: Any) -> Any:
    """A comma-separated variable as a list (an empty one is an empty list)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _url(value: str, name: str) -> str:
    value = value.strip().rstrip("/")
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"应为 http:// 或 https:// 开头的地址 / must be an http:// or https:// address ({name})"
        )
    if parts.query or parts.fragment:
        raise ValueError("地址不能带 ? 或 # / must not carry a query or a fragment")
    return value


_EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+")
_TIME = re.compile(r"([01]?\d|2[0-3]):[0-5]\d")


class Settings(BaseModel):
    """Every setting of the installation. Field aliases are the environment variables' names."""

    model_config = ConfigDict(frozen=True, extra="ignore", validate_default=True)

    # --- the installation -------------------------------------------------------------------
    db: Path = _setting(DEFAULT_DB, "PORTAL_DB")
    secret_key: SecretStr | None = _setting(None, "PORTAL_SECRET_KEY")
    today: str = _setting("", "PORTAL_TODAY")
    public_url: str = _setting(
        "", "PORTAL_PUBLIC_URL", secrets=("cas", "public_url"), aliases=("PORTAL_BASE_URL",)
    )
    trusted_proxies: list[Network] = _setting(LOOPBACK, "PORTAL_TRUSTED_PROXIES")
    monitor_addresses: list[Network] = _setting(LOOPBACK, "PORTAL_MONITOR_ADDRESSES")
    log_format: Literal["json", "plain"] = _setting("json", "PORTAL_LOG_FORMAT")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = _setting("INFO", "PORTAL_LOG_LEVEL")
    audit_keep_days: int = _setting(365, "PORTAL_AUDIT_KEEP_DAYS", ge=180, le=36500)
    # SQLite's automatic checkpoint, in WAL pages, on each connection (SQLite's default: 1000). With
    # Litestream replicating the database, 10000 leaves checkpoints to Litestream (docs/deployment.md)
    # and still bounds the WAL if Litestream stops; 0 turns them off.
    wal_autocheckpoint: int = _setting(1000, "PORTAL_WAL_AUTOCHECKPOINT", ge=0, le=1_000_000)
    # how long personal data is kept (portal/retention.py, ``portal purge``; docs/security.md)
    bookings_keep_days: int = _setting(3 * 365, "PORTAL_BOOKINGS_KEEP_DAYS", ge=30, le=36500)
    cases_keep_days: int = _setting(3 * 365, "PORTAL_CASES_KEEP_DAYS", ge=30, le=36500)
    accounts_keep_days: int = _setting(2 * 365, "PORTAL_ACCOUNTS_KEEP_DAYS", ge=0, le=36500)

    # --- the school's name, logo and colour (portal/branding.py) -----------------------------
    school_name: str = _setting("", "PORTAL_SCHOOL_NAME", max_length=40)
    school_logo: Path | None = _setting(None, "PORTAL_SCHOOL_LOGO")
    school_color: str = _setting(NEUTRAL_COLOR, "PORTAL_SCHOOL_COLOR")

    # --- logins and sessions ----------------------------------------------------------------
    session_idle: int = _setting(30 * 60, "PORTAL_SESSION_IDLE", ge=1)
    session_max_age: int = _setting(12 * 3600, "PORTAL_SESSION_MAX_AGE", ge=1)
    # failures from one client address lock the name there; from all addresses together, everywhere
    lockout_threshold: int = _setting(5, "PORTAL_LOCKOUT_THRESHOLD", ge=1, le=1000)
    lockout_name_threshold: int = _setting(20, "PORTAL_LOCKOUT_NAME_THRESHOLD", ge=1, le=10000)
    lockout_seconds: int = _setting(15 * 60, "PORTAL_LOCKOUT_SECONDS", ge=1)
    # At most this many password checks run at once (each takes 19 MiB and a core); others wait
    # up to login_wait seconds, then are asked to try again.
    login_concurrency: int = _setting(4, "PORTAL_LOGIN_CONCURRENCY", ge=1, le=256)
    login_wait: float = _setting(10.0, "PORTAL_LOGIN_WAIT", gt=0, le=600)
    password_login: bool = _setting(True, "PORTAL_PASSWORD_LOGIN", secrets=("portal", "password_login"))
    # Local passwords: at least this long, and holding this many of the four classes of characters
    # (lower-case letters, upper-case letters, digits, other characters).
    password_min_length: int = _setting(8, "PORTAL_PASSWORD_MIN_LENGTH", ge=6, le=64)
    password_classes: int = _setting(3, "PORTAL_PASSWORD_CLASSES", ge=1, le=4)

    # --- campus single sign-on (CAS) ----------------------------------------------------------
    cas_server_url: str = _setting("", "PORTAL_CAS_SERVER_URL", secrets=("cas", "server_url"))
    cas_version: Literal[2, 3] = _setting(3, "PORTAL_CAS_VERSION", secrets=("cas", "version"))
    cas_staff_no_attribute: str = _setting(
        "", "PORTAL_CAS_STAFF_NO_ATTRIBUTE", secrets=("cas", "staff_no_attribute")
    )
    cas_name_attribute: str = _setting("cn", "PORTAL_CAS_NAME_ATTRIBUTE", secrets=("cas", "name_attribute"))
    cas_kind_attribute: str = _setting("", "PORTAL_CAS_KIND_ATTRIBUTE", secrets=("cas", "kind_attribute"))
    cas_timeout: float = _setting(10.0, "PORTAL_CAS_TIMEOUT", secrets=("cas", "timeout"), gt=0, le=120)
    # Where CAS single logout may come from (addresses or networks); empty: every address the CAS
    # server's host name resolves to.
    cas_logout_from: list[Network] = _setting("", "PORTAL_CAS_LOGOUT_FROM", secrets=("cas", "logout_from"))
    # 人员类别 values the campus identity sends → 学生/教职工/离退休/其他, added to the default table
    # (portal/sso.py DEFAULT_PERSON_KINDS); 值=类别,值=类别.
    person_kinds: dict[str, str] = _setting("", "PORTAL_PERSON_KINDS", secrets=("portal", "person_kinds"))

    # --- limits and formats -------------------------------------------------------------------
    # Uploads (imports) larger than this are refused before parsing.
    max_upload_bytes: int = _setting(5 * 1024 * 1024, "PORTAL_MAX_UPLOAD_BYTES", ge=1024)
    # A batch export of record forms from the page is refused above this many forms (≈ 20 ms a
    # form: 2,000 forms ≈ 40 s); the user is asked to narrow the filter. The CLI has no limit.
    max_export_forms: int = _setting(2000, "PORTAL_MAX_EXPORT_FORMS", ge=1)
    phone_extension: str = _setting(r"\d{4,5}", "PORTAL_PHONE_EXTENSION")

    # --- mail ---------------------------------------------------------------------------------
    smtp_host: str = _setting("", "PORTAL_SMTP_HOST")
    smtp_port: int = _setting(25, "PORTAL_SMTP_PORT", ge=1, le=65535)
    smtp_starttls: bool = _setting(False, "PORTAL_SMTP_STARTTLS")
    smtp_user: str = _setting("", "PORTAL_SMTP_USER")
    smtp_password: SecretStr = _setting(SecretStr(""), "PORTAL_SMTP_PASSWORD")
    smtp_from: str = _setting("portal@localhost", "PORTAL_SMTP_FROM")
    smtp_from_name: str = _setting("联系师生服务平台", "PORTAL_SMTP_FROM_NAME", max_length=60)
    notify_to: list[str] = _setting("", "PORTAL_NOTIFY_TO")
    notify_departments: dict[str, list[str]] = _setting("", "PORTAL_NOTIFY_DEPARTMENTS")

    # --- notifications ------------------------------------------------------------------------
    notify_default_channel: Literal["none", "email", "wecom"] = _setting(
        "none", "PORTAL_NOTIFY_DEFAULT_CHANNEL"
    )
    notify_email_domain: str = _setting("", "PORTAL_NOTIFY_EMAIL_DOMAIN")
    wecom_corpid: str = _setting("", "PORTAL_WECOM_CORPID")
    wecom_secret: SecretStr = _setting(SecretStr(""), "PORTAL_WECOM_SECRET")
    wecom_agentid: int | None = _setting(None, "PORTAL_WECOM_AGENTID", ge=0)
    wecom_api: str = _setting("https://qyapi.weixin.qq.com", "PORTAL_WECOM_API")
    webhook_hosts: list[str] = _setting("qyapi.weixin.qq.com,oapi.dingtalk.com", "PORTAL_WEBHOOK_HOSTS")
    quiet_hours: tuple[dt.time, dt.time] | None = _setting("22:00-07:30", "PORTAL_QUIET_HOURS")
    notify_scan_minutes: int = _setting(60, "PORTAL_NOTIFY_SCAN_MINUTES", ge=0, le=7 * 24 * 60)
    notify_keep_days: int = _setting(90, "PORTAL_NOTIFY_KEEP_DAYS", ge=1)
    notify_max_attempts: int = _setting(6, "PORTAL_NOTIFY_MAX_ATTEMPTS", ge=1, le=50)

    # --- checks -------------------------------------------------------------------------------

    @field_validator("secret_key")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("至少 16 个字符 / must be at least 16 characters long")
        return value

    @field_validator("today")
    @classmethod
    def _day(cls, value: str) -> str:
        value = value.strip()
        if value:
            try:
                (dt.datetime if len(value) > 10 else dt.date).fromisoformat(value)
            except ValueError:
                raise ValueError(
                    "应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM / must be YYYY-MM-DD or YYYY-MM-DDTHH:MM"
                ) from None
        return value

    @field_validator("trusted_proxies", "monitor_addresses", "cas_logout_from", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        found = []
        for word in _words(value):
            try:
                found.append(ipaddress.ip_network(word, strict=False) if isinstance(word, str) else word)
            except ValueError:
                raise ValueError(
                    f"“{word}”不是 IP 地址或网段 / “{word}” is not an IP address or network "
                    "(e.g. 127.0.0.1/32, 10.0.0.0/8, ::1/128)"
                ) from None
        return found

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[Network]) -> list[Network]:
        for network in value:
            if network.prefixlen < PROXY_REFUSED_WIDER_THAN[network.version]:
                raise ValueError(
                    f"{network} 包含几乎所有地址：任何客户端都能伪造自己的地址（操作日志、接口限流、/health 都以它为准），"
                    "请只列出反向代理本身的地址 / "
                    f"{network} holds almost every address: any client could fake its own address (the audit "
                    "log, the API limiter and /health believe it); list the reverse proxies' own addresses"
                )
        return value

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _case(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return (
            value.strip().upper()
            if value.strip().upper() in ("DEBUG", "INFO", "WARNING", "ERROR")
            else value.strip().lower()
        )

    @field_validator("cas_version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:
        return int(value) if isinstance(value, str) and value.strip().isdigit() else value

    @field_validator("public_url", "wecom_api")
    @classmethod
    def _address(cls, value: str) -> str:
        return _url(value, "https://portal.example.edu.cn")

    @field_validator("cas_server_url")
    @classmethod
    def _cas_address(cls, value: str) -> str:
        value = value.strip()
        return _url(value, "https://cas.example.edu.cn/cas/") + ("/" if value else "")

    @field_validator("notify_to", mode="before")
    @classmethod
    def _mail_list(cls, value: Any) -> Any:
        found = _words(value)
        for address in found:
            if not _EMAIL.fullmatch(address):
                raise ValueError(f"“{address}”不是电子邮件地址 / “{address}” is not an e-mail address")
        return found

    @field_validator("person_kinds", mode="before")
    @classmethod
    def _kinds(cls, value: Any) -> Any:
        if isinstance(value, str):
            pairs = [p.partition("=") for p in value.replace(";", ",").split(",") if p.strip()]
            if any(not sign or not key.strip() for key, sign, _ in pairs):
                raise ValueError("应为 值=类别,值=类别 / must be value=kind,value=kind")
            value = {key.strip(): kind.strip() for key, _, kind in pairs}
        for key, kind in dict(value).items():
            if kind not in PERSON_KINDS:
                raise ValueError(
                    f"“{key}={kind}”：类别应为 {'、'.join(PERSON_KINDS)} 之一 / "
                    f"the kind must be one of {', '.join(PERSON_KINDS)}"
                )
        return value

    @field_validator("webhook_hosts", mode="before")
    @classmethod
    def _hosts(cls, value: Any) -> Any:
        return [h.lower() for h in _words(value)]

    @field_validator("notify_departments", mode="before")
    @classmethod
    def _departments(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        found: dict[str, list[str]] = {}
        for part in value.split(";"):
            if not part.strip():
                continue
            name, sign, addresses = part.partition("=")
            if not sign or not name.strip():
                raise ValueError(
                    "应为 部门=地址,地址;部门=地址 / must be department=address,address;department=address"
                )
            found[name.strip()] = cls._mail_list(addresses)
        return found

    @field_validator("smtp_from")
    @classmethod
    def _sender(cls, value: str) -> str:
        if not _EMAIL.fullmatch(value.strip()):
            raise ValueError("应为电子邮件地址 / must be an e-mail address")
        return value.strip()

    @field_validator("school_name")
    @classmethod
    def _school(cls, value: str) -> str:
        value = value.strip()
        if any(c in value for c in "<>\r\n\t"):
            raise ValueError("只能是一行文字 / must be one line of plain text")
        return value

    @field_validator("school_logo")
    @classmethod
    def _logo(cls, value: Path | None) -> Path | None:
        if value is None or not str(value).strip():
            return None
        try:
            data = read_logo(value)
        except OSError as exc:
            raise ValueError(f"读不到这个文件 / cannot read the file: {exc.strerror}") from None
        logo_kind(data)
        return value

    @field_validator("school_color")
    @classmethod
    def _colour(cls, value: str) -> str:
        value = value.strip()
        if not re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
            raise ValueError(
                "应为 #RRGGBB 形式的颜色，如 #1F5C99 / must be a colour as #RRGGBB, e.g. #1F5C99"
            )
        ratio = contrast(value, "#FFFFFF")
        if ratio < 4.5:
            raise ValueError(
                f"与白色的对比度只有 {ratio:.1f}:1，文字和按钮难以看清，至少应为 4.5:1（请用更深的颜色） / "
                f"contrast with white is {ratio:.1f}:1, at least 4.5:1 is needed (use a darker colour)"
            )
        return value.upper()

    @field_validator("phone_extension")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"不是有效的正则表达式 / not a valid regular expression: {exc}") from None
        return value

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _quiet(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.lower() == "off":
            return None
        start, sign, end = text.partition("-")
        if not (sign and _TIME.fullmatch(start.strip()) and _TIME.fullmatch(end.strip())):
            raise ValueError(
                "应为 HH:MM-HH:MM（北京时间，如 22:00-07:30）或 off / "
                "must be HH:MM-HH:MM (Beijing time, e.g. 22:00-07:30) or off"
            )
        times = [dt.time.fromisoformat(t.strip().zfill(5)) for t in (start, end)]
        if times[0] == times[1]:
            raise ValueError("开始和结束不能相同 / start and end must differ")
        return tuple(times)

    @model_validator(mode="after")
    def _together(self) -> Settings:
        if self.session_max_age < self.session_idle:
            raise ValueError(
                "PORTAL_SESSION_MAX_AGE 不能小于 PORTAL_SESSION_IDLE / "
                "PORTAL_SESSION_MAX_AGE must not be shorter than PORTAL_SESSION_IDLE"
            )
        return self

    # --- what the features read ---------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The portal's public address (``PORTAL_PUBLIC_URL``), else the local default."""
        return self.public_url or DEFAULT_PUBLIC_URL

    @property
    def quiet_hours_text(self) -> str:
        """22:00 至次日 7:30, as 我的账号 says it (empty when there are none)."""
        if self.quiet_hours is None:
            return ""
        start, end = self.quiet_hours
        then = "次日 " if end <= start else " "
        return f"{start.hour}:{start.minute:02d} 至{then}{end.hour}:{end.minute:02d}"
