"""Notifications where people are: e-mail, 企业微信 and 钉钉.

Below the features (they import these, these import no feature):

* ``outbox`` — the outbox table, filled inside the transaction of the change that causes a message,
  each user's channel and opt-outs, and the dead-letter list. Each feature says its own messages
  (``portal.reception.messages``, ``portal.case_messages``, ``portal.publication``) and writes them here;
* ``channels`` — SMTP, 企业微信 (application messages and group robots) and 钉钉 robots (signed);
* ``digest`` — e-mail through SMTP for the older per-department digest of ``portal cases --remind``
  (its text: ``portal.case_messages.digests``).

Above the features (no feature imports these):

* ``scan`` — events nobody's click causes (the day before a reception, a case due tomorrow or
  overdue, a rule behind pace), found when the dispatcher runs and said by their features;
* ``dispatch`` — ``portal notify run``: the scan, then quiet hours, retries with backoff, dead letters.

Importing this package imports no feature module.
"""

from .digest import SmtpConfig, Transport, config_from_env, send

__all__ = ["SmtpConfig", "Transport", "config_from_env", "send"]
