"""Friendship, bulk reassembly and invite matching: the state machines of the session layer.

Friendship (per peer)
---------------------

==================  ===========================  ===============================================
state               event                        next state
==================  ===========================  ===============================================
(none)              ``send_request``             ``requested`` (we asked)
(none)              ``receive_request``          ``pending`` (they asked; our nospam matched)
``requested``       ``receive_request``          ``friend`` (both asked)
``pending``         ``accept``                   ``friend`` (we send ``friend_accept``)
``requested``       ``receive_accept``           ``friend``
any                 ``remove``                   (none), whichever side removed
==================  ===========================  ===============================================

Only friends exchange messages, bulk messages, invites and receipts ([CAR-054]). Friend requests
are Carrier v1's (``carrier_add_friend`` / ``carrier_accept_friend``); a request names the
receiver's current **nospam** (the 4 bytes of its address), so that changing the nospam stops
requests sent to old addresses, as in Tox. At most :data:`MAX_PENDING` requests wait for an
answer; more are refused (a flood costs the receiver nothing).

Bulk messages
-------------

A message longer than 1024 bytes travels as ``bulk`` chunks of at most 64512 bytes
(:data:`~spec.carrier.messages.MAX_BULK_CHUNK`, one chunk per transport frame) that share a
transaction id ``tid`` and carry the ``total`` size (at most 5 MiB). The receiver appends chunks
in order; when ``total`` bytes have arrived, the message is complete. A transfer whose first chunk
arrived more than 60 seconds ago (``TASSEMBLY_TIMEOUT``) is dropped.

Invites
-------

An invite request carries a ``tid``; a response is accepted only when it names a ``tid`` of an
outstanding invite to the same peer, and then closes it.
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, ConfigDict

from spec.carrier.messages import MAX_BULK
from spec.errors import Reason, Reject, rule

__all__ = [
    "MAX_PENDING",
    "BULK_TIMEOUT",
    "Friends",
    "send_request",
    "receive_request",
    "accept",
    "receive_accept",
    "remove",
    "require_friend",
    "Bulk",
    "Transfer",
    "bulk_chunk",
    "bulk_chunks",
    "bulk_expire",
    "Invites",
    "send_invite",
    "receive_invite_response",
]

MAX_PENDING: Final = 64
BULK_TIMEOUT: Final = 60
REQUESTED: Final = "requested"
PENDING: Final = "pending"
FRIEND: Final = "friend"

R_SELF = rule(
    "CAR-050", Reason.FRIEND_SELF,
    "A node does not ask itself, nor accept itself, as a friend.",
    suite="carrier", upstream="carrier_add_friend: \"can not add self as friend\" (ELAERR_INVALID_ARGS)",
)
R_NOSPAM = rule(
    "CAR-051", Reason.FRIEND_NOSPAM,
    "A friend request names the receiver's current nospam.",
    suite="carrier", upstream="Tox friend requests (nospam check in friend_requests.c)",
)
R_ALREADY = rule(
    "CAR-052", Reason.FRIEND_ALREADY,
    "A friend request is neither sent to nor accepted from a peer that is already a friend, and is not sent twice.",
    suite="carrier", upstream="carrier_add_friend: ELAERR_ALREADY_EXIST",
)
R_NO_REQUEST = rule(
    "CAR-053", Reason.FRIEND_NO_REQUEST,
    "An accept answers a pending request: ours to accept one we received, theirs to answer one we sent.",
    suite="carrier", upstream="carrier_accept_friend: ELAERR_NOT_EXIST",
)
R_NOT_FRIEND = rule(
    "CAR-054", Reason.FRIEND_NOT_FRIEND,
    "Messages, bulk messages, invites, receipts and removals are exchanged with friends only.",
    suite="carrier", upstream="carrier_send_friend_message / carrier_remove_friend: ELAERR_NOT_EXIST",
)
R_LIMIT = rule(
    "CAR-055", Reason.FRIEND_REQUEST_LIMIT,
    "At most 64 received friend requests are pending; more are refused.",
    suite="carrier",
    note="Deviation: upstream keeps no bound of its own (Tox keeps 32 in a ring and silently overwrites).",
)
R_BULK = rule(
    "CAR-056", Reason.BULK_MISMATCH,
    "Every chunk of a bulk transfer carries its first chunk's total, and the chunks never exceed it.",
    suite="carrier", upstream="handle_friend_bulkmsg (carrier.c): totalsz mismatch",
)
R_BULK_TIMEOUT = rule(
    "CAR-057", Reason.BULK_TIMEOUT,
    "A bulk chunk arrives at most 60 seconds after its transfer's first chunk.",
    suite="carrier", upstream="TASSEMBLY_TIMEOUT 60 (carrier.c)",
)
R_INVITE_DUP = rule(
    "CAR-058", Reason.INVITE_DUPLICATE_TID,
    "An invite's tid is not that of an invite still outstanding with the same peer.",
    suite="carrier", upstream="carrier_invite_friend tid (transaction id per request)",
)
R_INVITE_UNKNOWN = rule(
    "CAR-059", Reason.INVITE_UNKNOWN_TID,
    "An invite response names the tid of an outstanding invite to the peer that answers.",
    suite="carrier", upstream="handle_invite_response: transacted callback not found",
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


# -- friendship -----------------------------------------------------------------------------------


class Friends(_Model):
    """A node's relations, by peer node id, sorted."""

    self_id: bytes
    nospam: bytes
    peers: tuple[tuple[bytes, str], ...] = ()

    def state(self, peer: bytes) -> str | None:
        for p, s in self.peers:
            if p == peer:
                return s
        return None

    def _with(self, peer: bytes, state: str | None) -> Friends:
        rest = tuple((p, s) for p, s in self.peers if p != peer)
        new = rest if state is None else rest + ((peer, state),)
        return self.model_copy(update={"peers": tuple(sorted(new))})


def _not_self(f: Friends, peer: bytes) -> None:
    # [CAR-050] not oneself
    if peer == f.self_id:
        raise Reject(Reason.FRIEND_SELF, "CAR-050", "own node id")


def send_request(f: Friends, peer: bytes) -> Friends:
    _not_self(f, peer)
    state = f.state(peer)
    # [CAR-052] not to a friend, not twice
    if state in (FRIEND, REQUESTED):
        raise Reject(Reason.FRIEND_ALREADY, "CAR-052", f"peer is {state}")
    return f._with(peer, FRIEND if state == PENDING else REQUESTED)


def receive_request(f: Friends, peer: bytes, nospam: bytes) -> Friends:
    _not_self(f, peer)
    # [CAR-051] the request names our current nospam
    if nospam != f.nospam:
        raise Reject(Reason.FRIEND_NOSPAM, "CAR-051", f"nospam {nospam.hex()}")
    state = f.state(peer)
    # [CAR-052] not from a friend
    if state == FRIEND:
        raise Reject(Reason.FRIEND_ALREADY, "CAR-052", "already a friend")
    if state == REQUESTED:
        return f._with(peer, FRIEND)
    if state == PENDING:
        return f
    pending = sum(1 for _, s in f.peers if s == PENDING)
    # [CAR-055] at most 64 pending requests
    if pending >= MAX_PENDING:
        raise Reject(Reason.FRIEND_REQUEST_LIMIT, "CAR-055", f"{pending} requests pending")
    return f._with(peer, PENDING)


def accept(f: Friends, peer: bytes) -> Friends:
    _not_self(f, peer)
    # [CAR-053] accept a request we received
    if f.state(peer) != PENDING:
        raise Reject(Reason.FRIEND_NO_REQUEST, "CAR-053", "no request from this peer")
    return f._with(peer, FRIEND)


def receive_accept(f: Friends, peer: bytes) -> Friends:
    state = f.state(peer)
    if state == FRIEND:
        return f
    # [CAR-053] an accept answers a request we sent
    if state != REQUESTED:
        raise Reject(Reason.FRIEND_NO_REQUEST, "CAR-053", "we sent this peer no request")
    return f._with(peer, FRIEND)


def require_friend(f: Friends, peer: bytes) -> None:
    # [CAR-054] friends only
    if f.state(peer) != FRIEND:
        raise Reject(Reason.FRIEND_NOT_FRIEND, "CAR-054", f"peer is {f.state(peer) or 'unknown'}")


def remove(f: Friends, peer: bytes) -> Friends:
    """Remove a friend (ours or theirs); a pending or sent request is withdrawn the same way."""
    # [CAR-054] only a known peer is removed
    if f.state(peer) is None:
        raise Reject(Reason.FRIEND_NOT_FRIEND, "CAR-054", "unknown peer")
    return f._with(peer, None)


# -- bulk reassembly ------------------------------------------------------------------------------


class Transfer(_Model):
    peer: bytes
    tid: int
    total: int
    started: int
    chunks: tuple[bytes, ...] = ()
    """The chunks so far, in order (joined once, when complete)."""
    received: int = 0


class Bulk(_Model):
    """Bulk transfers under reassembly, keyed by (peer, tid)."""

    transfers: tuple[Transfer, ...] = ()

    def find(self, peer: bytes, tid: int) -> Transfer | None:
        return next((t for t in self.transfers if t.peer == peer and t.tid == tid), None)


def bulk_expire(b: Bulk, now: int) -> Bulk:
    """Drop the transfers older than the reassembly timeout."""
    return b.model_copy(update={"transfers": tuple(t for t in b.transfers if now - t.started <= BULK_TIMEOUT)})


def bulk_chunks(b: Bulk, peer: bytes, chunks: list[tuple[int, int, bytes]], now: int
                ) -> tuple[Bulk, list[bytes | Reject | None]]:
    """Add a peer's chunks ``(tid, total, data)`` in order, as many :func:`bulk_chunk` calls would:
    the new state and, per chunk, the whole message it completes, None, or its refusal (a refused
    chunk changes nothing). Each chunk costs O(1): the chunks are joined once, at the end."""
    parts: dict[tuple[bytes, int], tuple[Transfer, list[bytes], int]] = {
        (t.peer, t.tid): (t, [], t.received) for t in b.transfers}
    results: list[bytes | Reject | None] = []
    for tid, total, data in chunks:
        key = (peer, tid)
        t, new, received = parts.get(key) or (Transfer(peer=peer, tid=tid, total=total, started=now), [], 0)
        try:
            # [CAR-057] within 60 s of the first chunk
            if now - t.started > BULK_TIMEOUT:
                raise Reject(Reason.BULK_TIMEOUT, "CAR-057", f"{now - t.started} s after the first chunk")
            # [CAR-056] the same total, never exceeded
            if total != t.total or received + len(data) > t.total or total > MAX_BULK:
                raise Reject(Reason.BULK_MISMATCH, "CAR-056", f"total {total} vs {t.total}, have {received} + {len(data)}")
        except Reject as e:
            results.append(e)
            continue
        parts.pop(key, None)  # an updated transfer moves to the end
        new.append(data)
        received += len(data)
        if received == t.total:
            results.append(b"".join((*t.chunks, *new)))
        else:
            parts[key] = (t, new, received)
            results.append(None)
    transfers = tuple(t if not new else t.model_copy(update={"chunks": t.chunks + tuple(new), "received": received})
                      for t, new, received in parts.values())
    return b.model_copy(update={"transfers": transfers}), results


def bulk_chunk(b: Bulk, peer: bytes, tid: int, total: int, data: bytes, now: int) -> tuple[Bulk, bytes | None]:
    """Add a chunk; returns the new state and the whole message when it is complete."""
    b, (result,) = bulk_chunks(b, peer, [(tid, total, data)], now)
    if isinstance(result, Reject):
        raise result
    return b, result


# -- invites --------------------------------------------------------------------------------------


class Invites(_Model):
    """Outstanding invites: (peer, tid), in the order sent."""

    outstanding: tuple[tuple[bytes, int], ...] = ()


def send_invite(inv: Invites, peer: bytes, tid: int) -> Invites:
    # [CAR-058] the tid is not outstanding with this peer
    if (peer, tid) in inv.outstanding:
        raise Reject(Reason.INVITE_DUPLICATE_TID, "CAR-058", f"tid {tid} outstanding")
    return inv.model_copy(update={"outstanding": inv.outstanding + ((peer, tid),)})


def receive_invite_response(inv: Invites, peer: bytes, tid: int) -> Invites:
    # [CAR-059] the response matches an outstanding invite to this peer
    if (peer, tid) not in inv.outstanding:
        raise Reject(Reason.INVITE_UNKNOWN_TID, "CAR-059", f"tid {tid}")
    return inv.model_copy(update={"outstanding": tuple(x for x in inv.outstanding if x != (peer, tid))})
