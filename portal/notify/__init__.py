"""Notifications where people are: e-mail, 企业微信 and 钉钉.

* ``outbox`` — the outbox table, filled inside the transaction of the change that causes a message,
  each user's channel and opt-outs, and the dead-letter list;
* ``events`` — what each event says and to whom (called by the services: one line per hook);
* ``scan`` — events nobody's click causes (the day before a reception, a case due tomorrow or
  overdue, a rule behind pace), found when the dispatcher runs;
* ``channels`` — SMTP, 企业微信 (application messages and group robots) and 钉钉 robots (signed);
* ``dispatch`` — ``portal notify run``: quiet hours, retries with backoff, dead letters;
* ``digest`` — the older per-department e-mail digest of ``portal cases --remind``.

This package imports no feature module at import time (features call ``events``).
"""

from .digest import SmtpConfig, Transport, config_from_env, reminders, send

__all__ = ["SmtpConfig", "Transport", "config_from_env", "reminders", "send"]
