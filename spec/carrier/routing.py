"""The Kademlia routing table and iterative lookups of the DHT.

Distance is the XOR of two 256-bit ids read as big-endian integers; the **common prefix length**
``cpl(a, b) = 256 - bitlen(a XOR b)`` says how many leading bits two ids share.

Table
-----

The table is a list of buckets of at most ``k = 8`` entries (Carrier v2 ``MAX_ENTRIES_PER_BUCKET``).
With ``m`` buckets, bucket ``i < m - 1`` holds the ids whose ``cpl`` with the own id is exactly
``i``, and the last ("home") bucket the ids with ``cpl >= m - 1``. A new table has one bucket.

Inserting a node id (a node was heard from) at time ``now``:

1. the own id is refused ([CAR-060]);
2. already present: its ``last_seen`` becomes ``now``, and it moves to the tail (``updated``);
3. the bucket has room: appended at the tail (``added``);
4. the bucket is full and is the home bucket, with fewer than 256 buckets: the home bucket
   **splits** (the ids with ``cpl == m - 1`` stay, the rest move to a new home bucket) and the
   insert is tried again (``split`` is reported with the final outcome);
5. otherwise it goes to the bucket's replacement cache (at most ``k``, newest last) and the caller
   should ping the bucket's head, the least recently seen entry (``replacement``).

:func:`node_failed` removes an entry and promotes the newest replacement. A bucket changed (an
insert, update or removal) at ``changed``; :func:`buckets_to_refresh` names the buckets unchanged
for 15 minutes (Carrier v2 ``BUCKET_REFRESH_INTERVAL``), whose range a node then looks up.

Lookups
-------

A lookup keeps the closest candidates to the target (at most ``k`` worth asking), asks up to
``alpha = 3`` of the closest unasked ones at a time, adds the nodes each answer names, and ends
when the ``k`` closest candidates have all answered or failed.
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, ConfigDict

from spec.errors import Reason, Reject, rule

__all__ = [
    "K",
    "ALPHA",
    "ID_BITS",
    "REFRESH_INTERVAL",
    "distance",
    "common_prefix",
    "Entry",
    "Bucket",
    "Table",
    "new_table",
    "bucket_index",
    "insert",
    "node_failed",
    "closest",
    "buckets_to_refresh",
    "Lookup",
    "start_lookup",
    "next_queries",
    "lookup_response",
    "lookup_failed",
    "lookup_done",
    "lookup_result",
]

K: Final = 8
ALPHA: Final = 3
ID_BITS: Final = 256
REFRESH_INTERVAL: Final = 15 * 60

R_SELF = rule(
    "CAR-060", Reason.ROUTING_SELF,
    "A node's own id is never put in its routing table or its lookups.",
    suite="carrier", upstream="Carrier v2 RoutingTable::put (ignores the local id)",
)
R_ID = rule(
    "CAR-061", Reason.CARRIER_ID_INVALID,
    "A routing-table id is 32 bytes.",
    suite="carrier", upstream="Id.BYTES 32",
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def _check_id(node_id: bytes) -> int:
    # [CAR-061] a routing-table id is 32 bytes
    if len(node_id) != 32:
        raise Reject(Reason.CARRIER_ID_INVALID, "CAR-061", f"{len(node_id)} bytes")
    return int.from_bytes(node_id, "big")


def distance(a: bytes, b: bytes) -> int:
    return _check_id(a) ^ _check_id(b)


def common_prefix(a: bytes, b: bytes) -> int:
    return ID_BITS - distance(a, b).bit_length()


class Entry(_Model):
    id: bytes
    last_seen: int


class Bucket(_Model):
    entries: tuple[Entry, ...] = ()
    """Least recently seen first."""
    replacements: tuple[Entry, ...] = ()
    """Newest last."""
    changed: int = 0


class Table(_Model):
    self_id: bytes
    buckets: tuple[Bucket, ...]


def new_table(self_id: bytes, now: int) -> Table:
    _check_id(self_id)
    return Table(self_id=self_id, buckets=(Bucket(changed=now),))


def bucket_index(t: Table, node_id: bytes) -> int:
    cpl = common_prefix(t.self_id, node_id)
    # [CAR-060] never the own id
    if cpl == ID_BITS:
        raise Reject(Reason.ROUTING_SELF, "CAR-060", "own id")
    return min(cpl, len(t.buckets) - 1)


def _replace(t: Table, i: int, b: Bucket) -> Table:
    return t.model_copy(update={"buckets": t.buckets[:i] + (b,) + t.buckets[i + 1:]})


def insert(t: Table, node_id: bytes, now: int) -> tuple[Table, str]:
    """Insert a node heard from at ``now``; returns the table and ``added``, ``updated``,
    ``replacement``, or ``split+added`` / ``split+replacement``."""
    i = bucket_index(t, node_id)
    b = t.buckets[i]
    if any(e.id == node_id for e in b.entries):
        entries = tuple(e for e in b.entries if e.id != node_id) + (Entry(id=node_id, last_seen=now),)
        return _replace(t, i, b.model_copy(update={"entries": entries, "changed": now})), "updated"
    if len(b.entries) < K:
        entries = b.entries + (Entry(id=node_id, last_seen=now),)
        reps = tuple(e for e in b.replacements if e.id != node_id)
        return _replace(t, i, b.model_copy(update={"entries": entries, "replacements": reps, "changed": now})), "added"
    if i == len(t.buckets) - 1 and len(t.buckets) < ID_BITS:
        depth = len(t.buckets) - 1
        near = tuple(e for e in b.entries if common_prefix(t.self_id, e.id) > depth)
        far = tuple(e for e in b.entries if common_prefix(t.self_id, e.id) == depth)
        split = t.model_copy(update={"buckets": t.buckets[:-1] + (
            b.model_copy(update={"entries": far, "changed": now}),
            Bucket(entries=near, changed=now))})
        t2, outcome = insert(split, node_id, now)
        return t2, outcome if outcome.startswith("split+") else "split+" + outcome
    reps = (tuple(e for e in b.replacements if e.id != node_id) + (Entry(id=node_id, last_seen=now),))[-K:]
    return _replace(t, i, b.model_copy(update={"replacements": reps})), "replacement"


def node_failed(t: Table, node_id: bytes, now: int) -> Table:
    """Remove an entry that stopped answering; the newest replacement takes its place."""
    i = bucket_index(t, node_id)
    b = t.buckets[i]
    if not any(e.id == node_id for e in b.entries):
        return t
    entries = tuple(e for e in b.entries if e.id != node_id)
    reps = b.replacements
    if reps:
        entries, reps = entries + (reps[-1],), reps[:-1]
    return _replace(t, i, b.model_copy(update={"entries": entries, "replacements": reps, "changed": now}))


def closest(t: Table, target: bytes, count: int = K) -> tuple[bytes, ...]:
    """The ``count`` known ids closest to ``target`` by XOR distance, closest first."""
    tgt = _check_id(target)
    ids = [e.id for b in t.buckets for e in b.entries]
    return tuple(sorted(ids, key=lambda x: int.from_bytes(x, "big") ^ tgt)[:count])


def buckets_to_refresh(t: Table, now: int) -> tuple[int, ...]:
    """Indices of the buckets unchanged for ``REFRESH_INTERVAL`` seconds."""
    return tuple(i for i, b in enumerate(t.buckets) if now - b.changed >= REFRESH_INTERVAL)


# -- lookups --------------------------------------------------------------------------------------


class Lookup(_Model):
    """An iterative lookup: candidates sorted by distance, with their status."""

    self_id: bytes
    target: bytes
    candidates: tuple[tuple[bytes, str], ...] = ()
    """(id, ``new`` | ``asked`` | ``answered`` | ``failed``), closest first."""


def _add(lk: Lookup, ids: tuple[bytes, ...]) -> Lookup:
    tgt = _check_id(lk.target)
    known = {c for c, _ in lk.candidates}
    fresh = []
    for x in ids:
        _check_id(x)
        if x != lk.self_id and x not in known:
            known.add(x)
            fresh.append((x, "new"))
    merged = sorted(lk.candidates + tuple(fresh), key=lambda c: int.from_bytes(c[0], "big") ^ tgt)
    return lk.model_copy(update={"candidates": tuple(merged)})


def start_lookup(t: Table, target: bytes) -> Lookup:
    return _add(Lookup(self_id=t.self_id, target=target), closest(t, target))


def _window(lk: Lookup) -> tuple[tuple[bytes, str], ...]:
    """The K closest candidates still worth counting (failed ones do not count)."""
    return tuple(c for c in lk.candidates if c[1] != "failed")[:K]


def next_queries(lk: Lookup) -> tuple[Lookup, tuple[bytes, ...]]:
    """Mark and return the next ids to ask, so that at most ``ALPHA`` are in flight."""
    window = _window(lk)
    in_flight = sum(1 for _, s in window if s == "asked")
    ask = tuple(c for c, s in window if s == "new")[:max(0, ALPHA - in_flight)]
    cands = tuple((c, "asked" if c in ask else s) for c, s in lk.candidates)
    return lk.model_copy(update={"candidates": cands}), ask


def _set(lk: Lookup, node_id: bytes, status: str) -> Lookup:
    return lk.model_copy(update={"candidates": tuple((c, status if c == node_id and s == "asked" else s)
                                                     for c, s in lk.candidates)})


def lookup_response(lk: Lookup, node_id: bytes, nodes: tuple[bytes, ...]) -> Lookup:
    """An asked node answered with ``nodes``; an answer from a node not asked is ignored."""
    if (node_id, "asked") not in lk.candidates:
        return lk
    return _add(_set(lk, node_id, "answered"), nodes)


def lookup_failed(lk: Lookup, node_id: bytes) -> Lookup:
    return _set(lk, node_id, "failed")


def lookup_done(lk: Lookup) -> bool:
    return all(s == "answered" for _, s in _window(lk))


def lookup_result(lk: Lookup) -> tuple[bytes, ...]:
    return tuple(c for c, s in lk.candidates if s == "answered")[:K]
