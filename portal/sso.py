"""Campus single sign-on (统一身份认证): settings, identities, and the CAS protocol.

Settings come from ``portal.config`` (``PORTAL_CAS_*``, ``PORTAL_PUBLIC_URL``, ``PORTAL_PASSWORD_LOGIN``,
``PORTAL_PERSON_KINDS``, each falling back to its key in ``.streamlit/secrets.toml``'s ``[cas]`` or
``[portal]`` section). See docs/configuration.md.

The CAS service URL is built from the configured public address only, never from a request's
``Host`` or ``X-Forwarded-Host``: a CAS server issues tickets for other sites too, and a service URL
taken from a header let a ticket meant for one of them open a session here. CAS is refused to run
without it (``require_public_url``).

CAS 2.0 (``/serviceValidate``) and 3.0 (``/p3/serviceValidate``) answers are read with ``cassyy``;
the request is ours (a timeout, no redirects, a size limit) so that a CAS server that fails is told
apart from a ticket it refuses. Single logout requests (a SAML ``LogoutRequest`` the CAS server
posts) are read here, and accepted only from the CAS server's own addresses.
"""

from __future__ import annotations

import ipaddress
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import cassyy
from cassyy.core import parse_cas_xml
from pydantic import BaseModel

from . import addresses, config
from .errors import AuthError
from .settings import Network

CALLBACK_PATH = "/auth/cas/callback"
_SAMLP = "{urn:oasis:names:tc:SAML:2.0:protocol}"
_CAS = "{http://www.yale.edu/tp/cas}"
_MAX_ANSWER = 1_000_000  # bytes of a validation answer read at most

PUBLIC_URL_MISSING = (
    "统一身份认证（CAS）已开启，但没有设置本平台的公开地址 PORTAL_PUBLIC_URL（例如 https://portal.example.edu.cn）："
    "CAS 的服务地址只能取自这一设置，不能取自请求头。请在 /etc/portal/env 或 .streamlit/secrets.toml 的 [cas] "
    "public_url 中设置后重新启动。\n"
    "CAS single sign-on is on, but PORTAL_PUBLIC_URL (the portal's public address, e.g. "
    "https://portal.example.edu.cn) is not set: the CAS service URL is taken from it only, never from "
    "request headers. Set it in /etc/portal/env or as public_url in the [cas] section of "
    ".streamlit/secrets.toml, then start again."
)


class Identity(BaseModel):
    """Who the identity provider vouches for: 工号/学号, and (when sent) 姓名 and 人员类别 (every value
    of a multi-valued attribute, in the order sent)."""

    source: str  # cas, oidc
    staff_no: str
    name: str = ""
    kinds: list[str] = []


@dataclass(frozen=True)
class CasSettings:
    server_url: str  # the CAS prefix, e.g. https://cas.example.edu.cn/cas/
    version: int = 3  # 3: /p3/serviceValidate (attributes); 2: /serviceValidate
    public_url: str = ""  # the portal's own address; CAS does not run without it
    staff_no_attribute: str = ""  # empty: the CAS user id is the 工号
    name_attribute: str = "cn"
    kind_attribute: str = ""
    timeout: float = 10.0
    # the networks (an address is a /32 or /128) single logout may come from; empty: the CAS host's
    logout_from: tuple[Network, ...] = ()

    def client(self) -> cassyy.CASClient:
        return cassyy.CASClient.from_base_url(
            self.server_url if self.server_url.endswith("/") else self.server_url + "/",
            login_path="login",
            logout_path="logout",
            validate_path="p3/serviceValidate" if self.version == 3 else "serviceValidate",
        )

    @property
    def secure(self) -> bool:
        return self.public_url.startswith("https://")

    def service_url(self, state: str, next_path: str = "/") -> str:
        """The service URL the CAS server sends the ticket to; the same string validates it. It
        carries the login's state (``portal.cas_routes``) and the deep link (``next``)."""
        require_public_url(self)
        # in alphabetical order: some CAS servers sort the service URL's query when they keep it
        params = {**({"next": next_path} if next_path != "/" else {}), "state": state}
        return self.public_url + CALLBACK_PATH + "?" + urllib.parse.urlencode(params)


class PublicUrlMissing(Exception):
    """CAS is on and ``PORTAL_PUBLIC_URL`` is not set (``PUBLIC_URL_MISSING`` says it in both languages)."""

    def __init__(self) -> None:
        super().__init__(PUBLIC_URL_MISSING)


def require_public_url(settings: CasSettings | None) -> None:
    """Raise ``PublicUrlMissing`` when CAS is on without a public address (``portal serve`` refuses
    to start; the CAS routes answer 503)."""
    if settings is not None and not settings.public_url:
        raise PublicUrlMissing()


def cas_settings() -> CasSettings | None:
    """The CAS configuration, or None when CAS is not configured."""
    found = config.settings()
    if not found.cas_server_url:
        return None
    return CasSettings(
        server_url=found.cas_server_url,
        version=found.cas_version,
        public_url=found.public_url,
        staff_no_attribute=found.cas_staff_no_attribute,
        name_attribute=found.cas_name_attribute,
        kind_attribute=found.cas_kind_attribute,
        timeout=found.cas_timeout,
        logout_from=tuple(found.cas_logout_from),
    )


def public_url() -> str:
    """``PORTAL_PUBLIC_URL`` (or ``[cas] public_url``): the portal's address, when set."""
    return config.settings().public_url


def password_login_enabled() -> bool:
    """Whether 工号 + password login stays on beside single sign-on (administrators always keep it)."""
    return config.settings().password_login


def oidc_settings(portal_section: Any) -> dict[str, str]:
    """The claim names of the OIDC identity (``[portal]`` in secrets.toml)."""
    section = dict(portal_section or {})
    return {
        "staff_no": str(section.get("sso_staff_no_claim", "preferred_username")),
        "name": str(section.get("sso_name_claim", "name")),
        "kind": str(section.get("sso_kind_claim", "")),
    }


def _values(raw: Any) -> list[str]:
    """Every value of a claim or attribute, single or multi-valued, blank ones dropped."""
    items = raw if isinstance(raw, list | tuple) else [raw]
    return [str(v).strip() for v in items if v is not None and str(v).strip()]


def identity_from_claims(claims: dict[str, Any], names: dict[str, str]) -> Identity:
    def values(key: str) -> list[str]:
        return _values(claims.get(names[key])) if names.get(key) else []

    return Identity(
        source="oidc",
        staff_no=next(iter(values("staff_no")), ""),
        name=next(iter(values("name")), ""),
        kinds=values("kind"),
    )


# --- CAS ticket validation ---------------------------------------------------------------------


class TicketRefused(Exception):
    """The CAS server did not vouch for the ticket (forged, replayed, expired or for another service)."""


class ServiceUnavailable(Exception):
    """The CAS server could not be asked: unreachable, too slow, an HTTP error or an answer that is
    not CAS. Nothing is known about the ticket."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a validation answer is never a redirect: an HTTPError 3xx follows


def _fetch(url: str, timeout: float) -> str:
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(url, timeout=timeout) as answer:
            body = answer.read(_MAX_ANSWER + 1)
    except urllib.error.HTTPError as exc:
        raise ServiceUnavailable(f"HTTP {exc.code}") from exc
    except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections, bad URLs
        raise ServiceUnavailable(repr(exc)[:200]) from exc
    if len(body) > _MAX_ANSWER:
        raise ServiceUnavailable("answer too long")
    return body.decode("utf-8", errors="replace")


def validate_ticket(settings: CasSettings, service_url: str, ticket: str) -> Identity:
    """Ask the CAS server who the ticket belongs to (each ticket validates once).

    ``TicketRefused`` when the server says no; ``ServiceUnavailable`` when it cannot be asked."""
    if not ticket or len(ticket) > 256 or not ticket.isprintable():
        raise TicketRefused("malformed ticket")
    text = _fetch(settings.client().build_validate_url(service_url, ticket), settings.timeout)
    try:
        root = ElementTree.fromstring(text)  # expat: no external entities
    except ElementTree.ParseError as exc:
        raise ServiceUnavailable("not a CAS answer") from exc
    if root.tag != f"{_CAS}serviceResponse":
        raise ServiceUnavailable("not a CAS answer")
    try:
        user = parse_cas_xml(root)
    except cassyy.CASError as exc:
        raise TicketRefused(exc.error_code) from exc
    attributes = _attributes(root)

    def first(name: str) -> str:
        return next(iter(attributes.get(name, [])), "") if name else ""

    staff_no = first(settings.staff_no_attribute) if settings.staff_no_attribute else user.userid
    return Identity(
        source="cas",
        staff_no=staff_no.strip(),
        name=first(settings.name_attribute),
        kinds=attributes.get(settings.kind_attribute, []) if settings.kind_attribute else [],
    )


def _attributes(root: ElementTree.Element) -> dict[str, list[str]]:
    """CAS 3.0 attributes, every value of a multi-valued one (cassyy keeps only the last)."""
    found: dict[str, list[str]] = {}
    element = root.find(f"{_CAS}authenticationSuccess/{_CAS}attributes")
    for child in element if element is not None else []:
        name = child.tag.removeprefix(_CAS)
        found.setdefault(name, []).extend(_values(child.text))
    return found


# --- single logout -----------------------------------------------------------------------------


def logout_ticket(logout_request: str) -> str | None:
    """The service ticket named by a CAS single-logout request (SAML ``SessionIndex``), or None."""
    if not logout_request or len(logout_request) > 20_000:
        return None
    try:
        root = ElementTree.fromstring(logout_request)  # expat: no external entities
    except ElementTree.ParseError:
        return None
    if root.tag != f"{_SAMLP}LogoutRequest":
        return None
    index = root.find(f"{_SAMLP}SessionIndex")
    text = (index.text or "").strip() if index is not None else ""
    return text or None


_RESOLVED: dict[str, tuple[float, frozenset[str]]] = {}
_RESOLVE_SECONDS = 300.0


def _resolved(host: str) -> frozenset[str]:
    """The addresses ``host`` resolves to, looked up at most every five minutes."""
    now = time.monotonic()
    cached = _RESOLVED.get(host)
    if cached and now - cached[0] < _RESOLVE_SECONDS:
        return cached[1]
    try:
        addresses = frozenset(str(info[4][0]) for info in socket.getaddrinfo(host, None))
    except OSError:
        addresses = cached[1] if cached else frozenset()
    _RESOLVED[host] = (now, addresses)
    return addresses


def logout_sources(settings: CasSettings) -> list[Network]:
    """Where single logout may come from: ``PORTAL_CAS_LOGOUT_FROM`` (addresses or networks), else
    every address the CAS server's host name resolves to."""
    if settings.logout_from:
        return list(settings.logout_from)
    host = urllib.parse.urlsplit(settings.server_url).hostname or ""
    return [ipaddress.ip_network(a.split("%", 1)[0]) for a in _resolved(host)]


def may_send_logout(settings: CasSettings, address: str | None) -> bool:
    """Whether a single-logout request from ``address`` (the client address ``portal.addresses``
    decided) comes from the CAS server."""
    found = addresses.parse(address or "")
    return found is not None and any(found in network for network in logout_sources(settings))


# --- 人员类别 ------------------------------------------------------------------------------------

# The portal's kinds, in the order that decides when the values of a multi-valued attribute map to
# several: a retiree who is still listed as staff is 离退休, a member of staff who studies is 教职工.
KIND_PRIORITY = ("离退休", "教职工", "学生", "其他")

# What campuses send (人员类别, userType, eduPersonAffiliation …) → the portal's kind. Exact values
# (ASCII case ignored); anything else is refused, never guessed. PORTAL_PERSON_KINDS adds or
# overrides entries (docs/configuration.md).
DEFAULT_PERSON_KINDS: dict[str, str] = {
    **dict.fromkeys(
        [
            "学生",
            "本科生",
            "专科生",
            "研究生",
            "硕士研究生",
            "博士研究生",
            "硕士生",
            "博士生",
            "留学生",
            "student",
            "undergraduate",
            "graduate",
            "postgraduate",
        ],
        "学生",
    ),
    **dict.fromkeys(
        [
            "教职工",
            "教工",
            "教师",
            "专任教师",
            "职工",
            "在职职工",
            "在职教职工",
            "行政人员",
            "管理人员",
            "教辅人员",
            "工勤人员",
            "辅导员",
            "博士后",
            "staff",
            "faculty",
            "teacher",
            "employee",
        ],
        "教职工",
    ),
    **dict.fromkeys(["离退休", "离退休人员", "退休", "离休", "退休教职工", "retired", "retiree"], "离退休"),
}


class UnknownPersonKind(AuthError):
    """The identity's 人员类别 maps to none of the portal's kinds."""


def _key(value: str) -> str:
    return value.strip().casefold()


def person_kinds_table() -> dict[str, str]:
    """The mapping in force: the default table, with ``PORTAL_PERSON_KINDS`` (or ``[portal]
    person_kinds`` in secrets.toml) adding or overriding entries."""
    table = {_key(k): v for k, v in DEFAULT_PERSON_KINDS.items()}
    table.update({_key(k): v for k, v in config.settings().person_kinds.items()})
    return table


def person_kind(values: Iterable[str], table: dict[str, str] | None = None) -> str:
    """The portal's kind for the 人员类别 values an identity carries: each value is looked up in the
    table, values the table does not know are passed over, and of the kinds found the first in
    ``KIND_PRIORITY`` wins. ``UnknownPersonKind`` when no value is known."""
    table = person_kinds_table() if table is None else table
    values = [v.strip() for v in values if v and v.strip()]
    if not values:
        raise UnknownPersonKind(
            "统一身份认证没有提供人员类别，无法自动开通账号，请联系管理员导入您的人员信息"
        )
    found = {table[_key(v)] for v in values if _key(v) in table}
    if not found:
        shown = "、".join(values)[:100]
        raise UnknownPersonKind(
            f"统一身份认证提供的人员类别“{shown}”不在本平台的人员类别对照表中，无法自动开通账号。"
            "请联系管理员在人员类别对照表（PORTAL_PERSON_KINDS）中补充，或导入您的人员信息"
        )
    return next(kind for kind in KIND_PRIORITY if kind in found)
