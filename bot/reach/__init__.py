"""Reaching people outside chat: e-mail and SMS for backup alerts (issue 19; docs/rugdekking.md).

A domain module: it imports no chat library. `ways` sends (e-mail on the standard library, SMS through
one small gateway adapter) and says how a failure is handled in the outbox's terms (bot.chat's
`Outcome`); `texts` writes what leaves chat, which never holds the description, the place, subject codes
or the reporter; `links` makes the one-time, expiring, signed acknowledgement links; `escalation` says who is
reached, by which way and when, and composes a message at send time; `acknowledging` acknowledges for a
person's partner, from an SMS reply or a link; `web` serves POST /sms/inbound and the acknowledgement
page. `models` holds `reach_link`; members' `phone` and `email` are on `bot.partners.models.Member`.
"""
