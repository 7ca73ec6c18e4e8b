"""The offline relay: mailboxes of sealed blobs for friends who are offline.

Carrier v1's "express" nodes keep messages for offline friends (``POST /<to>/<from>``,
``GET /<me>``, ``DELETE /<me>?until=``). The spec's relay keeps the same three operations as
session packets (``relay_store``, ``relay_pull``, ``relay_delete``) and holds only **sealed**
blobs: ``nonce[24] || crypto_box(...)`` made by the sender for the recipient, which the relay
cannot open. It can only check that a blob is at least as long as a nonce and a tag.

===========================  ==========  ==========================================================
limit                        value       meaning
===========================  ==========  ==========================================================
``MAX_ITEMS``                256         messages per mailbox
``MAX_BYTES``                4 MiB       blob bytes per mailbox
``TTL``                      7 days      an item older than this is dropped (at every operation)
===========================  ==========  ==========================================================

Items get a per-mailbox sequence number, rising from 1. A pull returns the items after a given
sequence number, oldest first, at most 64 (:data:`spec.carrier.messages.RELAY_MAX_ITEMS`); a
delete removes the items up to a sequence number, which the recipient sends once it has what it
pulled, so a message is deleted only after the recipient has it.
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, ConfigDict

from spec.carrier.messages import RELAY_MAX_BLOB, RELAY_MAX_ITEMS, RELAY_MIN_BLOB
from spec.errors import Reason, Reject, rule

__all__ = ["MAX_ITEMS", "MAX_BYTES", "TTL", "Item", "Mailbox", "Relay", "store", "pull", "delete", "expire"]

MAX_ITEMS: Final = 256
MAX_BYTES: Final = 4 * 1024 * 1024
TTL: Final = 7 * 24 * 3600

R_SEALED = rule(
    "CAR-070", Reason.RELAY_NOT_SEALED,
    "A relay blob is at least 40 bytes (a 24-byte nonce and a 16-byte tag).",
    suite="carrier", upstream="express.c: body = nonce || box (encrypt_data)",
)
R_BLOB = rule(
    "CAR-071", Reason.CARRIER_MSG_TOO_LARGE,
    "A relay blob is at most 60000 bytes.",
    suite="carrier",
)
R_FULL = rule(
    "CAR-072", Reason.RELAY_MAILBOX_FULL,
    "A store is refused when the mailbox, after dropping expired items, would exceed 256 items or 4 MiB.",
    suite="carrier",
    note="Deviation: the express server's limits are not published; the spec fixes its own.",
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Item(_Model):
    seq: int
    sender: bytes
    stored: int
    blob: bytes


class Mailbox(_Model):
    items: tuple[Item, ...] = ()
    last_seq: int = 0


class Relay(_Model):
    """Mailboxes by recipient node id, sorted."""

    mailboxes: tuple[tuple[bytes, Mailbox], ...] = ()

    def mailbox(self, to: bytes) -> Mailbox:
        return next((m for k, m in self.mailboxes if k == to), Mailbox())

    def _with(self, to: bytes, m: Mailbox) -> Relay:
        rest = tuple((k, x) for k, x in self.mailboxes if k != to)
        return self.model_copy(update={"mailboxes": tuple(sorted(rest + ((to, m),), key=lambda kv: kv[0]))})


def _fresh(m: Mailbox, now: int) -> Mailbox:
    return m.model_copy(update={"items": tuple(i for i in m.items if now - i.stored < TTL)})


def expire(r: Relay, now: int) -> Relay:
    """Drop every expired item."""
    out = r
    for to, m in r.mailboxes:
        out = out._with(to, _fresh(m, now))
    return out


def store(r: Relay, to: bytes, sender: bytes, blob: bytes, now: int) -> tuple[Relay, int]:
    """Store a sealed blob for ``to``; returns the relay and the item's sequence number."""
    # [CAR-070] at least a nonce and a tag
    if len(blob) < RELAY_MIN_BLOB:
        raise Reject(Reason.RELAY_NOT_SEALED, "CAR-070", f"{len(blob)} bytes")
    # [CAR-071] at most 60000 bytes
    if len(blob) > RELAY_MAX_BLOB:
        raise Reject(Reason.CARRIER_MSG_TOO_LARGE, "CAR-071", f"{len(blob)} bytes")
    m = _fresh(r.mailbox(to), now)
    used = sum(len(i.blob) for i in m.items)
    # [CAR-072] at most 256 items and 4 MiB per mailbox
    if len(m.items) >= MAX_ITEMS or used + len(blob) > MAX_BYTES:
        raise Reject(Reason.RELAY_MAILBOX_FULL, "CAR-072", f"{len(m.items)} items, {used} bytes")
    seq = m.last_seq + 1
    m = m.model_copy(update={"items": m.items + (Item(seq=seq, sender=sender, stored=now, blob=blob),),
                             "last_seq": seq})
    return r._with(to, m), seq


def pull(r: Relay, to: bytes, after: int, now: int) -> tuple[Item, ...]:
    """The unexpired items for ``to`` after sequence number ``after``, oldest first, at most 64."""
    return tuple(i for i in _fresh(r.mailbox(to), now).items if i.seq > after)[:RELAY_MAX_ITEMS]


def delete(r: Relay, to: bytes, until: int, now: int) -> Relay:
    """Remove the items for ``to`` up to sequence number ``until``."""
    m = _fresh(r.mailbox(to), now)
    return r._with(to, m.model_copy(update={"items": tuple(i for i in m.items if i.seq > until)}))
