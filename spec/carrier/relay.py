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

A relay answers every ``relay_store`` it can attribute ([CAR-074]): a stored item with a
``receipt`` of its sequence number (sent once the item is kept), a refused store with a
``relay_refused`` naming the store's ``id``, the refusal's reason and rule, so the sender learns at
once why, and can tell "mailbox full" from a relay that is down (which still only times out). A
store packet that does not decode is refused the same way when its ``type`` and ``id`` can be read;
otherwise nothing can name it and it gets no answer. The sender takes a ``relay_refused`` naming its
store as that store's refusal ([CAR-075]); a refusal leaves the relay's mailboxes as they were.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from spec.carrier.messages import RELAY_MAX_BLOB, RELAY_MAX_ITEMS, RELAY_MIN_BLOB, SESSION_CODES, U64
from spec.encoding.cbor import cbor_decode
from spec.errors import RULES, DecodeError, Reason, Reject, rule

__all__ = ["MAX_ITEMS", "MAX_BYTES", "TTL", "Item", "Mailbox", "Relay", "store", "pull", "delete", "expire",
           "refused", "answer_store", "answer_undecodable", "store_result"]

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
R_ANSWER = rule(
    "CAR-074", Reason.CARRIER_MSG_MALFORMED,
    "A relay answers a relay_store it stored with a receipt of the item's sequence number, and one it "
    "refused (CAR-070 to CAR-072, or a store packet that does not decode but whose type 64 and id can be "
    "read) with relay_refused naming the store's id, the refusal's reason and its rule; a store packet "
    "whose id cannot be read gets no answer.",
    suite="carrier", upstream="express.c: POST /<to>/<from> is answered 201 Created when stored",
    note="Deviation: upstream's express relay is HTTPS: a kept store is answered 201 and anything else is an HTTP "
         "status the client takes as an error, with no reason code. The receipt plays the part of 201, "
         "relay_refused that of an error status, carrying the spec's reason and rule instead of a bare status.",
)
R_REFUSED = rule(
    "CAR-075", Reason.RELAY_REFUSED,
    "A sender takes a relay_refused naming its store's id as that store's refusal, for the reason and rule it "
    "carries; when it does not know that reason with that rule, for RELAY_REFUSED. A relay_refused naming "
    "another id is not an answer to the store.",
    suite="carrier",
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


_TYPE_STORE: Final = SESSION_CODES["relay_store"]
_TYPE_REFUSED: Final = SESSION_CODES["relay_refused"]
_TYPE_RECEIPT: Final = SESSION_CODES["receipt"]


def refused(store_id: int, refusal: Reject) -> dict[str, Any]:
    """The ``relay_refused`` packet answering store ``store_id`` refused with ``refusal``."""
    return {"type": _TYPE_REFUSED, "id": store_id, "reason": refusal.reason.value, "rule": refusal.rule}


def answer_store(r: Relay, sender: bytes, packet: dict[str, Any], now: int) -> tuple[Relay, dict[str, Any]]:
    """Take a decoded ``relay_store`` from ``sender``: the relay and the answer packet."""
    try:
        r, seq = store(r, packet["to"], sender, packet["blob"], now)
    except Reject as e:
        # [CAR-074] a refused store is answered with relay_refused, and the relay is unchanged
        return r, refused(packet["id"], e)
    # [CAR-074] a stored item is answered with a receipt of its sequence number
    return r, {"type": _TYPE_RECEIPT, "id": seq}


def answer_undecodable(data: bytes, error: DecodeError) -> dict[str, Any]:
    """The answer to session packet bytes that did not decode (``error``): a ``relay_refused`` when
    they are a map of type 64 whose ``id`` can be read; otherwise ``error`` is raised again."""
    try:
        value = cbor_decode(data)
    except DecodeError:
        value = None
    if not (isinstance(value, dict) and value.get("type") == _TYPE_STORE):
        raise error  # not a store packet: its own decoding error, and no answer
    sid = value.get("id")
    # [CAR-074] a store packet whose id cannot be read gets no answer
    if type(sid) is not int or not 0 <= sid <= U64:
        raise Reject(Reason.CARRIER_MSG_MALFORMED, "CAR-074", f"a store without a readable id ({error})") from error
    return refused(sid, error)


def store_result(store_id: int, kind: str, packet: dict[str, Any]) -> int | None:
    """What a relay's decoded answer (``kind`` without ``session.``) means for store ``store_id``:
    the item's sequence number for a receipt, None for a packet that is not an answer to it; a
    ``relay_refused`` naming it raises the refusal."""
    if kind == "receipt":
        return int(packet["id"])
    if kind != "relay_refused" or packet["id"] != store_id:
        return None
    code, rule_id = packet["reason"], packet["rule"]
    known = RULES.get(rule_id)
    detail = f"the relay refused store {store_id}: {code} [{rule_id}]"
    if known is not None and known.reason.value == code:
        # [CAR-075] the refusal for the reason and rule the relay named
        raise Reject(known.reason, rule_id, detail)
    # [CAR-075] a refusal whose reason and rule the sender does not know as a pair
    raise Reject(Reason.RELAY_REFUSED, "CAR-075", detail)
