"""Samen on Matrix (Element): the same partnership on a chat its partners may run themselves.

`SAMEN_CHAT=matrix` swaps the chat edge; the domain, the database, the outbox and the listeners stay.

- `connection.py`: one `MatrixConnection` per process — mautrix's client on an asyncio loop of its own
  thread, called synchronously from Samen's threads; Matrix's errors become the chat seam's outcomes
  (`M_LIMIT_EXCEEDED`'s `retry_after_ms` as Slack's 429).
- `chat.py`: `MatrixChat`, the chat seam (`bot.chat.Chat`) on Matrix, for the outbox and the jobs.
- `html.py`: what a template renders (Block Kit) as a Matrix message — HTML with a plain-text body, and
  the message's buttons as numbered choices carried in the event (`nl.samen.choices`). One source for what
  people read: no second copy of any text.
- `forms.py`: a form (a modal's input blocks) as a short guided conversation in a direct message.
- `front.py`: the sync loop — invitations, `!samen …` and `!rugdekking …` messages, reactions and numbered
  replies, form answers — turned into the requests the listeners already answer (bot/matrix/bolt.py).
"""
