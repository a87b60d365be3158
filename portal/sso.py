"""Campus single sign-on (统一身份认证): settings, identities, and the CAS protocol.

Settings come from ``portal.config`` (``PORTAL_CAS_*``, ``PORTAL_PASSWORD_LOGIN``, each falling
back to its key in ``.streamlit/secrets.toml``'s ``[cas]`` or ``[portal]`` section). See
docs/configuration.md.

CAS 2.0 (``/serviceValidate``) and 3.0 (``/p3/serviceValidate``) tickets are validated with
``cassyy`` (standard library only, a timeout on every request); single logout requests
(a SAML ``LogoutRequest`` the CAS server posts) are read here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from typing import Any

import cassyy
from pydantic import BaseModel

from . import config

CALLBACK_PATH = "/auth/cas/callback"
_SAMLP = "{urn:oasis:names:tc:SAML:2.0:protocol}"


class Identity(BaseModel):
    """Who the identity provider vouches for: 工号/学号, and (when sent) 姓名 and 人员类别."""

    source: str  # cas, oidc
    staff_no: str
    name: str = ""
    kind: str = ""


@dataclass(frozen=True)
class CasSettings:
    server_url: str  # the CAS prefix, e.g. https://cas.example.edu.cn/cas/
    version: int = 3  # 3: /p3/serviceValidate (attributes); 2: /serviceValidate
    public_url: str = ""  # the portal's own address; empty: taken from each request
    staff_no_attribute: str = ""  # empty: the CAS user id is the 工号
    name_attribute: str = "cn"
    kind_attribute: str = ""
    timeout: float = 10.0

    def client(self) -> cassyy.CASClient:
        return cassyy.CASClient.from_base_url(
            self.server_url if self.server_url.endswith("/") else self.server_url + "/",
            login_path="login",
            logout_path="logout",
            validate_path="p3/serviceValidate" if self.version == 3 else "serviceValidate",
        )


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


def identity_from_claims(claims: dict[str, Any], names: dict[str, str]) -> Identity:
    def value(key: str) -> str:
        raw = claims.get(names[key]) if names.get(key) else None
        return "" if raw is None else str(raw).strip()

    return Identity(source="oidc", staff_no=value("staff_no"), name=value("name"), kind=value("kind"))


class TicketRefused(Exception):
    """The CAS server did not vouch for the ticket (forged, replayed, expired or for another service)."""


def validate_ticket(settings: CasSettings, service_url: str, ticket: str) -> Identity:
    """Ask the CAS server who the ticket belongs to (each ticket validates once)."""
    if not ticket or len(ticket) > 256 or not ticket.isprintable():
        raise TicketRefused("malformed ticket")
    try:
        user = settings.client().validate(service_url, ticket, timeout=settings.timeout)
    except cassyy.CASError as exc:
        raise TicketRefused(exc.error_code) from exc
    attributes = user.attributes

    def attribute(name: str) -> str:
        raw = attributes.get(name) if name else None
        return (raw or "").strip()

    staff_no = attribute(settings.staff_no_attribute) if settings.staff_no_attribute else user.userid
    return Identity(
        source="cas",
        staff_no=staff_no.strip(),
        name=attribute(settings.name_attribute),
        kind=attribute(settings.kind_attribute),
    )


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


# 人员类别 as campuses send it (本科生, 研究生, 教师, 退休 …) → the portal's four kinds.
def person_kind(value: str) -> str:
    v = (value or "").strip().lower()
    if not v:
        return "其他"
    if "退休" in v or "retire" in v:
        return "离退休"
    if "生" in v or "student" in v:
        return "学生"
    if any(w in v for w in ("教", "职工", "员", "staff", "faculty", "teacher", "employee")):
        return "教职工"
    return "其他"
