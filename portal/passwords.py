"""The password rule in force (``PORTAL_PASSWORD_MIN_LENGTH``, ``PORTAL_PASSWORD_CLASSES``): how the forms say
it, the check of a password a person chooses (never the demo's published one) and the initial passwords the
portal makes. Hashing and checking a login stay with the accounts (portal/accounts.py)."""

from __future__ import annotations

import secrets

from . import config
from .errors import ValidationError

_CLASSES = {  # the four classes of characters the rule counts
    "小写字母": str.islower,
    "大写字母": str.isupper,
    "数字": lambda c: c.isascii() and c.isdigit(),
    "其他字符": lambda c: not (c.isascii() and c.isalnum()),
}
_COUNTS = "一二三四"
# Generated passwords: no look-alikes (1 I l, 0 O o), and only symbols that survive being read out
# and typed on a phone.
_LOWER, _UPPER, _DIGITS, _SYMBOLS = (
    "abcdefghijkmnpqrstuvwxyz",
    "ABCDEFGHJKLMNPQRSTUVWXYZ",
    "23456789",
    "#%+-=@_",
)


def password_rule() -> str:
    """The rule in force, as the forms say it (PORTAL_PASSWORD_MIN_LENGTH, PORTAL_PASSWORD_CLASSES)."""
    rule = config.settings()
    return (
        f"至少 {rule.password_min_length} 位，含大写字母、小写字母、数字、其他字符中的至少"
        f"{_COUNTS[rule.password_classes - 1]}类"
    )


# The password every account of ``portal demo`` has, published in the README: never anyone's own.
DEMO_PASSWORD = "demo1234"


def check_password_strength(password: str) -> None:
    rule = config.settings()
    if len(password) > 128:
        raise ValidationError("密码不能超过 128 位")
    if password.casefold() == DEMO_PASSWORD:
        # anyone can read it; and a change or reset clears the demo warning (demo_passwords_in_use)
        raise ValidationError("不能使用公开的演示密码，请另设密码")
    held = sum(any(test(c) for c in password) for test in _CLASSES.values())
    if len(password) < rule.password_min_length or held < rule.password_classes:
        raise ValidationError(f"密码须{password_rule()}")


def generate_password() -> str:
    """A random initial password that satisfies the rule in force, without look-alike characters."""
    rule = config.settings()
    groups = [_LOWER, _UPPER, _DIGITS, _SYMBOLS][: max(3, rule.password_classes)]
    length = max(12, rule.password_min_length)
    while True:
        chosen = [secrets.choice(g) for g in groups]  # one of each class used
        chosen += [secrets.choice("".join(groups)) for _ in range(length - len(chosen))]
        secrets.SystemRandom().shuffle(chosen)
        password = "".join(chosen)
        try:
            check_password_strength(password)
        except ValidationError:
            continue
        return password
