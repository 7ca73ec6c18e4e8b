"""Carrier messages: deterministic CBOR maps, one table per message.

Two families share one codec (:func:`decode_message`, :func:`encode_message`):

* **DHT** messages (carried in DHT datagrams, :mod:`spec.carrier.dht`) have Carrier v2's envelope:
  ``{"y": type|method, "t": txid, "v": version, "q"|"r"|"e": body}`` with type ``0x20`` request,
  ``0x40`` response, ``0x00`` error and methods ping 1, find_node 2, announce_peer 3, find_peer 4,
  store_value 5, find_value 6 (``src/core/messages/message.h``). The body key is ``q`` for a
  request, ``r`` for a response, ``e`` for an error.
* **Session** packets (carried in transport frames, :mod:`spec.carrier.session`) are flat maps
  ``{"type": code, ...fields}``. Carrier v1's packet type codes are kept where they exist
  (``src/carrier/packet.h``); accept, receipt and the relay packets are new.

A ``relay_store`` carries the sender's request ``id``; a relay that refuses it answers with
``relay_refused`` naming that ``id``, the refusal's :class:`~spec.errors.Reason` code and its rule
ID (:mod:`spec.carrier.relay`, [CAR-074]). A code is 1 to 64 bytes of upper-case ASCII letters,
digits, ``_`` and ``-`` ([CAR-073]); a receiver takes codes it does not know.

Every map is deterministic CBOR ([CBOR-001]..[CBOR-008]) and holds exactly its table's fields:
required ones always, optional ones at most once, nothing else ([CAR-030]).

Bounds (upstream constants, ``src/carrier/carrier.h`` unless said)
------------------------------------------------------------------

========================  ===================  =================================================
field                     bound                source
========================  ===================  =================================================
friend request name       0..63 bytes          ``CARRIER_MAX_USER_NAME_LEN``
friend request descr      0..127 bytes         ``CARRIER_MAX_USER_DESCRIPTION_LEN``
friend request hello      1.. bytes            ``carrier_add_friend`` (non-empty)
friend request, encoded   <= 1016 bytes        Tox ``TOX_MAX_FRIEND_REQUEST_LENGTH``
message body              1..1024 bytes        ``CARRIER_MAX_APP_MESSAGE_LEN``
bulk total                1..5 MiB             ``CARRIER_MAX_APP_BULKMSG_LEN``
bulk chunk                1..64512 bytes       spec choice: one chunk fills one transport frame
                                               (Carrier v1's ``BULKMSG`` chunks are 1024 bytes)
invite data               0..8192 bytes        ``CARRIER_MAX_INVITE_DATA_LEN``
invite bundle             0..511 bytes         ``CARRIER_MAX_BUNDLE_LEN``
invite reply reason       0..255 bytes         ``CARRIER_MAX_INVITE_REPLY_REASON_LEN``
DHT value                 1..1024 bytes        spec choice (fits the 5 KiB receive buffer)
DHT node / peer lists     0..8 entries         k (``MAX_ENTRIES_PER_BUCKET``); an entry is
                                               ``[id, ip (4 or 16 bytes), port]``; a peer's
                                               port is its session (TCP) port
relay blob                40..60000 bytes      spec choice (nonce + tag .. one transport frame)
relay items               0..64 per response   spec choice
relay refusal reason      1..64 bytes          spec choice (a :class:`~spec.errors.Reason` code)
relay refusal rule        1..16 bytes          spec choice (a rule ID such as ``CAR-072``)
========================  ===================  =================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from spec.encoding.cbor import CborValue, _head, cbor_decode, cbor_encode
from spec.errors import DecodeError, Reason, rule

__all__ = [
    "DHT_TYPES",
    "DHT_METHODS",
    "SESSION_TYPES",
    "MAX_MESSAGE",
    "MAX_BULK",
    "MAX_BULK_CHUNK",
    "MAX_FRIEND_REQUEST",
    "RELAY_MAX_BLOB",
    "RELAY_MIN_BLOB",
    "check_message",
    "decode_message",
    "encode_message",
    "encode_bulk",
    "encode_session_message",
    "encode_receipt",
    "message_kind",
]

MAX_MESSAGE: Final = 1024
MAX_BULK: Final = 5 * 1024 * 1024
MAX_BULK_CHUNK: Final = 63 * 1024
"""The largest bulk chunk: the largest whole number of KiB whose bulk packet (the chunk and at most
40 bytes of CBOR around it) fits one Noise transport message (65535 bytes less the 16-byte tag)."""
MAX_FRIEND_REQUEST: Final = 1016
MAX_INVITE_DATA: Final = 8192
MAX_BUNDLE: Final = 511
MAX_REASON: Final = 255
MAX_CODE: Final = 64
"""The longest reason code a relay_refused carries (the longest :class:`~spec.errors.Reason` is 32 bytes)."""
MAX_RULE_ID: Final = 16
MAX_VALUE: Final = 1024
K: Final = 8
RELAY_MIN_BLOB: Final = 40
RELAY_MAX_BLOB: Final = 60000
RELAY_MAX_ITEMS: Final = 64
U16: Final = 0xFFFF
U32: Final = 0xFFFFFFFF
U64: Final = 0xFFFFFFFFFFFFFFFF

DHT_TYPES: Final = {0x00: "error", 0x20: "request", 0x40: "response"}
DHT_METHODS: Final = {1: "ping", 2: "find_node", 3: "announce_peer", 4: "find_peer", 5: "store_value", 6: "find_value"}

R_SHAPE = rule(
    "CAR-030", Reason.CARRIER_MSG_MALFORMED,
    "A Carrier message is a CBOR map with exactly its type's required fields, optional fields at most once, "
    "each of its CBOR type; a mutable DHT value has all of k, n, seq and sig or none.",
    suite="carrier", upstream="Carrier v2 Message::parse (messages/*.cc)",
)
R_TYPE = rule(
    "CAR-031", Reason.CARRIER_MSG_UNKNOWN_TYPE,
    "A DHT message's y is a known type ORed with a known method, and its body key matches the type; a "
    "session packet's type is a known code.",
    suite="carrier", upstream="Carrier v2 Message::Type / Method; Carrier v1 PacketType",
)
R_BOUND = rule(
    "CAR-032", Reason.CARRIER_MSG_TOO_LARGE,
    "Every field lies within its bound (sizes of byte and text strings, list lengths, integer ranges) as "
    "the table of bounds says.",
    suite="carrier", upstream="carrier.h CARRIER_MAX_* constants",
    note="Deviation: a bulk chunk holds up to 64512 bytes, one chunk per Noise transport frame (Carrier v1 "
         "cuts bulk messages into 1024-byte BULKMSG packets, each its own Tox packet); the 5 MiB total, the "
         "1024-byte message and the other bounds are upstream's.",
)
R_FRIEND_REQUEST = rule(
    "CAR-033", Reason.CARRIER_MSG_TOO_LARGE,
    "An encoded friend request is at most 1016 bytes.",
    suite="carrier", upstream="Tox TOX_MAX_FRIEND_REQUEST_LENGTH (tox_friend_add)",
)

R_CODE = rule(
    "CAR-073", Reason.CARRIER_MSG_MALFORMED,
    "A relay_refused's reason and rule are codes: text of upper-case ASCII letters, digits, '_' and '-' "
    "(1 to 64 and 1 to 16 bytes, CAR-032).",
    suite="carrier",
)
_CODE_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")

# A field kind: ("uint", max) | ("range", lo, hi) | ("bytes", lo, hi) | ("text", lo, hi) | ("code", lo, hi) | ("nodes", ip size) | ("items",)
Kind = tuple[Any, ...]
ID: Final = ("bytes", 32, 32)
SIG: Final = ("bytes", 64, 64)
NONCE: Final = ("bytes", 24, 24)
WANT: Final = ("uint", 7)
Schema = Mapping[str, tuple[Kind, bool]]  # field -> (kind, required)

_MUTABLE: Final = {"k": (ID, False), "n": (NONCE, False), "seq": (("uint", U32), False),
                   "sig": (SIG, False), "rec": (ID, False)}
_LISTS: Final = {"n4": (("nodes", 4), False), "n6": (("nodes", 16), False)}

DHT_BODIES: Final[dict[tuple[str, str], Schema]] = {
    ("request", "ping"): {},
    ("response", "ping"): {},
    ("request", "find_node"): {"t": (ID, True), "w": (WANT, True)},
    ("response", "find_node"): {**_LISTS, "tok": (("uint", U32), False)},
    ("request", "announce_peer"): {"t": (ID, True), "p": (("uint", U16), True), "tok": (("uint", U32), True),
                                   "sig": (SIG, True)},
    ("response", "announce_peer"): {},
    ("request", "find_peer"): {"t": (ID, True), "w": (WANT, True)},
    ("response", "find_peer"): {**_LISTS, "p": (("nodes", 4), False)},
    ("request", "store_value"): {"tok": (("uint", U32), True), "v": (("bytes", 1, MAX_VALUE), True),
                                 "cas": (("uint", U32), False), **_MUTABLE},
    ("response", "store_value"): {},
    ("request", "find_value"): {"t": (ID, True), "w": (WANT, True), "seq": (("uint", U32), False)},
    ("response", "find_value"): {**_LISTS, "v": (("bytes", 1, MAX_VALUE), False), **_MUTABLE},
}
ERROR_BODY: Final[Schema] = {"c": (("uint", U32), True), "m": (("text", 0, MAX_REASON), True)}
ENVELOPE: Final[Schema] = {"y": (("uint", 0xFF), True), "t": (("uint", U32), True), "v": (("uint", U32), True)}
BODY_KEY: Final = {"request": "q", "response": "r", "error": "e"}

SESSION_TYPES: Final[dict[int, tuple[str, Schema]]] = {
    6: ("friend_request", {"name": (("text", 0, 63), True), "descr": (("text", 0, 127), True),
                           "hello": (("text", 1, MAX_FRIEND_REQUEST), True), "nospam": (("bytes", 4, 4), True)}),
    7: ("friend_remove", {}),
    8: ("friend_accept", {}),
    33: ("message", {"id": (("uint", U64), True), "msg": (("bytes", 1, MAX_MESSAGE), True)}),
    34: ("invite_request", {"tid": (("uint", U64), True), "bundle": (("text", 0, MAX_BUNDLE), False),
                            "data": (("bytes", 0, MAX_INVITE_DATA), True)}),
    35: ("invite_response", {"tid": (("uint", U64), True), "status": (("uint", U32), True),
                             "reason": (("text", 0, MAX_REASON), False), "bundle": (("text", 0, MAX_BUNDLE), False),
                             "data": (("bytes", 0, MAX_INVITE_DATA), False)}),
    36: ("bulk", {"tid": (("uint", U64), True), "total": (("range", 1, MAX_BULK), True),
                  "data": (("bytes", 1, MAX_BULK_CHUNK), True)}),
    37: ("receipt", {"id": (("uint", U64), True)}),
    64: ("relay_store", {"id": (("uint", U64), True), "to": (ID, True),
                         "blob": (("bytes", RELAY_MIN_BLOB, RELAY_MAX_BLOB), True)}),
    65: ("relay_pull", {"after": (("uint", U64), True)}),
    66: ("relay_delete", {"until": (("uint", U64), True)}),
    67: ("relay_items", {"items": (("items",), True)}),
    68: ("relay_refused", {"id": (("uint", U64), True), "reason": (("code", 1, MAX_CODE), True),
                           "rule": (("code", 1, MAX_RULE_ID), True)}),
}
SESSION_CODES: Final = {name: code for code, (name, _) in SESSION_TYPES.items()}
_SESSION_SHAPES: Final = {
    code: (f"session.{name}", name, schema, frozenset(schema) | {"type"},
           frozenset(k for k, (_, req) in schema.items() if req) | {"type"},
           tuple((k, kind[0] == "bytes", kind[0] == "uint", kind) for k, (kind, _) in schema.items()))
    for code, (name, schema) in SESSION_TYPES.items()}
"""Per session packet type: its kind name, name and table, the fields it may hold, the fields it
must hold, and per field whether it is a byte string or an unsigned integer (the common cases)."""


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_field(name: str, kind: Kind, v: Any) -> None:
    tag = kind[0]
    if tag in ("uint", "range"):
        if not _is_int(v):
            # [CAR-030] exactly the fields of the type, each of its CBOR type
            raise DecodeError(Reason.CARRIER_MSG_MALFORMED, "CAR-030", f"{name}: not an integer")
        lo, hi = (0, kind[1]) if tag == "uint" else (kind[1], kind[2])
        if not lo <= v <= hi:
            # [CAR-032] every field within its bound
            raise DecodeError(Reason.CARRIER_MSG_TOO_LARGE, "CAR-032", f"{name}: {v} outside [{lo}, {hi}]")
    elif tag == "bytes":
        if not isinstance(v, bytes):
            # [CAR-030] exactly the fields of the type, each of its CBOR type
            raise DecodeError(Reason.CARRIER_MSG_MALFORMED, "CAR-030", f"{name}: not a byte string")
        if not kind[1] <= len(v) <= kind[2]:
            # [CAR-032] every field within its bound
            raise DecodeError(Reason.CARRIER_MSG_TOO_LARGE, "CAR-032", f"{name}: {len(v)} bytes outside [{kind[1]}, {kind[2]}]")
    elif tag in ("text", "code"):
        if not isinstance(v, str):
            # [CAR-030] exactly the fields of the type, each of its CBOR type
            raise DecodeError(Reason.CARRIER_MSG_MALFORMED, "CAR-030", f"{name}: not a text string")
        size = len(v.encode("utf-8", errors="surrogatepass"))
        if not kind[1] <= size <= kind[2]:
            # [CAR-032] every field within its bound
            raise DecodeError(Reason.CARRIER_MSG_TOO_LARGE, "CAR-032", f"{name}: {size} bytes outside [{kind[1]}, {kind[2]}]")
        # [CAR-073] a code is upper-case ASCII letters, digits, '_' and '-'
        if tag == "code" and not _CODE_CHARS.issuperset(v):
            raise DecodeError(Reason.CARRIER_MSG_MALFORMED, "CAR-073", f"{name}: {v!r} is not a code")
    else:
        rows = {"nodes": (ID, ("bytes", kind[-1], kind[-1]), ("uint", U16)),
                "items": (("uint", U64), ID, ("uint", U64), ("bytes", RELAY_MIN_BLOB, RELAY_MAX_BLOB))}[tag]
        limit = RELAY_MAX_ITEMS if tag == "items" else K
        if not isinstance(v, list) or not all(isinstance(e, list) and len(e) == len(rows) for e in v):
            # [CAR-030] exactly the fields of the type, each of its CBOR type
            raise DecodeError(Reason.CARRIER_MSG_MALFORMED, "CAR-030", f"{name}: not a list of {len(rows)}-element arrays")
        if len(v) > limit:
            # [CAR-032] every field within its bound
            raise DecodeError(Reason.CARRIER_MSG_TOO_LARGE, "CAR-032", f"{name}: {len(v)} entries, at most {limit}")
        for i, entry in enumerate(v):
            for j, (sub, x) in enumerate(zip(rows, entry)):
                _check_field(f"{name}[{i}][{j}]", sub, x)


def _check_map(where: str, schema: Schema, value: Any, extra_allowed: tuple[str, ...] = ()) -> None:
    if not isinstance(value, dict):
        # [CAR-030] exactly the fields of the type, each of its CBOR type
        raise DecodeError(Reason.CARRIER_MSG_MALFORMED, "CAR-030", f"{where}: not a map")
    for k in value:
        if not isinstance(k, str) or (k not in schema and k not in extra_allowed):
            # [CAR-030] exactly the fields of the type, each of its CBOR type
            raise DecodeError(Reason.CARRIER_MSG_MALFORMED, "CAR-030", f"{where}: unknown field {k!r}")
    for k, (kind, required) in schema.items():
        if k not in value:
            if required:
                # [CAR-030] exactly the fields of the type, each of its CBOR type
                raise DecodeError(Reason.CARRIER_MSG_MALFORMED, "CAR-030", f"{where}: missing field {k!r}")
            continue
        v, tag = value[k], kind[0]
        # the common valid cases, decided without building the field's name for a refusal
        if tag == "bytes" and type(v) is bytes and kind[1] <= len(v) <= kind[2]:
            continue
        if tag == "uint" and type(v) is int and 0 <= v <= kind[1]:
            continue
        _check_field(f"{where}.{k}", kind, v)


def _check_dht(value: dict[str, Any]) -> str:
    _check_map("message", ENVELOPE, value, extra_allowed=("q", "r", "e"))
    y = value["y"]
    kind, method = DHT_TYPES.get(y & 0xE0), DHT_METHODS.get(y & 0x1F)
    body_keys = [k for k in ("q", "r", "e") if k in value]
    # [CAR-031] y is a known type and method, and the one body key matches the type
    if kind is None or method is None or body_keys != [BODY_KEY[kind]]:
        raise DecodeError(Reason.CARRIER_MSG_UNKNOWN_TYPE, "CAR-031", f"y={y:#04x} with bodies {body_keys}")
    body = value[BODY_KEY[kind]]
    _check_map(f"{kind} {method}", ERROR_BODY if kind == "error" else DHT_BODIES[(kind, method)], body)
    mutable = [k for k in ("k", "n", "seq", "sig") if k in body]
    # [CAR-030] a mutable value has all of k, n, seq and sig or none (rec and cas only with them)
    carries_value = (kind, method) in (("request", "store_value"), ("response", "find_value"))
    if carries_value and (0 < len(mutable) < 4 or (not mutable and ("rec" in body or "cas" in body))):
        # [CAR-030] exactly the fields of the type, each of its CBOR type
        raise DecodeError(Reason.CARRIER_MSG_MALFORMED, "CAR-030", f"{method}: partial mutable value fields {sorted(body)}")
    return f"dht.{kind}.{method}"


def _check_session(value: Any) -> str:
    code = value.get("type") if isinstance(value, dict) else None
    if type(code) is not int and not _is_int(code):
        # [CAR-030] exactly the fields of the type, each of its CBOR type
        raise DecodeError(Reason.CARRIER_MSG_MALFORMED, "CAR-030", "session packet: not a map with an integer type")
    shape = _SESSION_SHAPES.get(code)
    # [CAR-031] a known session packet type
    if shape is None:
        raise DecodeError(Reason.CARRIER_MSG_UNKNOWN_TYPE, "CAR-031", f"type {code}")
    kind_name, name, schema, allowed, required, fields = shape
    keys = value.keys()
    if not (keys <= allowed and required <= keys):
        _check_map(name, schema, value, extra_allowed=("type",))  # finds the unknown or missing field
    for k, is_bytes, is_uint, kind in fields:  # every field present is known, every required one present
        v = value.get(k, _ABSENT)
        if v is _ABSENT:
            continue
        # the common valid cases, decided without building the field's name for a refusal
        if is_bytes and type(v) is bytes and kind[1] <= len(v) <= kind[2]:
            continue
        if is_uint and type(v) is int and 0 <= v <= kind[1]:
            continue
        _check_field(f"{name}.{k}", kind, v)
    return kind_name


_ABSENT: Final = object()


def check_message(family: str, value: CborValue) -> str:
    """Validate a message value of a family (``dht`` or ``session``); returns its kind name."""
    if family == "dht":
        if not isinstance(value, dict):
            # [CAR-030] exactly the fields of the type, each of its CBOR type
            raise DecodeError(Reason.CARRIER_MSG_MALFORMED, "CAR-030", "message: not a map")
        return _check_dht(value)
    kind = _check_session(value)
    if kind == "session.friend_request":
        size = len(cbor_encode(value))
        # [CAR-033] an encoded friend request is at most 1016 bytes
        if size > MAX_FRIEND_REQUEST:
            raise DecodeError(Reason.CARRIER_MSG_TOO_LARGE, "CAR-033", f"{size} bytes")
    return kind


_KEY_TEXT: dict[bytes, str] = {}
"""Encoded short ASCII text keys (head and text) and their text, as met (a memo; at most 256)."""


def _key_text(key: bytes) -> str | None:
    """The text of an encoded short text key (``key[0]`` is its head), or None if it is not ASCII."""
    text = _KEY_TEXT.get(key)
    if text is None:
        if not key[1:].isascii():
            return None
        text = key[1:].decode("ascii")
        if len(_KEY_TEXT) < 256:
            _KEY_TEXT[key] = text
    return text


def _flat_map(data: bytes) -> dict[str, Any] | None:
    """A shortcut for the common session packet: a map of at most 23 short text keys, each with an
    unsigned integer or byte string value, in the deterministic form. It returns exactly what
    :func:`~spec.encoding.cbor.cbor_decode` returns for such an encoding, and None for anything
    else (which then takes the full decoder, with its reasons)."""
    size = len(data)
    if not size or data[0] & 0xE0 != 0xA0 or data[0] > 0xB7:  # a map of at most 23 entries
        return None
    out: dict[str, Any] = {}
    pos, previous = 1, b""
    for _ in range(data[0] & 0x1F):
        if pos >= size:
            return None
        head = data[pos]
        if head & 0xE0 != 0x60 or head > 0x77:  # a text key of at most 23 bytes
            return None
        end = pos + 1 + (head & 0x1F)
        if end >= size:  # the key, and at least one byte of its value
            return None
        key = data[pos:end]
        if key <= previous:
            return None
        text = _KEY_TEXT.get(key) or _key_text(key)
        if text is None:
            return None
        previous = key
        head = data[end]
        ai = head & 0x1F
        if ai < 24:
            arg, pos = ai, end + 1
        elif ai <= 27:
            width = 1 << (ai - 24)
            pos = end + 1 + width
            if pos > size:
                return None
            arg = int.from_bytes(data[end + 1:pos], "big")
            if arg < (24 if width == 1 else 1 << (4 * width)):
                return None
        else:
            return None
        major = head >> 5
        if major == 2:
            end = pos + arg
            if end > size:
                return None
            out[text], pos = data[pos:end], end
        elif major == 0:
            out[text] = arg
        else:
            return None
    return out if pos == size else None


# The two packets of every 1 KiB message, in their deterministic encodings ([CBOR-003] key order):
# {"id": id, "msg": msg, "type": 33} and {"id": id, "type": 37}; made by the codec, not written out.
_MESSAGE_HEAD: Final = bytes((0xA3,)) + cbor_encode("id")
_MESSAGE_MID: Final = cbor_encode("msg")
_MESSAGE_TAIL: Final = cbor_encode("type") + cbor_encode(SESSION_CODES["message"])
_RECEIPT_HEAD: Final = bytes((0xA2,)) + cbor_encode("id")
_RECEIPT_TAIL: Final = cbor_encode("type") + cbor_encode(SESSION_CODES["receipt"])


def _uint_at(data: bytes, pos: int, major: int) -> tuple[int, int] | None:
    """The argument of a shortest-form head of ``major`` (0 or 2) at ``pos`` and the position after
    it, or None (another major type, a longer form than needed, or past the end)."""
    if pos >= len(data):
        return None
    head = data[pos]
    ai = head & 0x1F
    if head >> 5 != major or ai > 27:
        return None
    if ai < 24:
        return ai, pos + 1
    width = 1 << (ai - 24)
    end = pos + 1 + width
    if end > len(data):
        return None
    arg = int.from_bytes(data[pos + 1:end], "big")
    return (arg, end) if arg >= (24 if width == 1 else 1 << (4 * width)) else None


def _message_or_receipt(data: bytes) -> tuple[str, dict[str, Any]] | None:
    """A shortcut for the two packets of every message: a message (33) or a receipt (37) in its
    deterministic form with every field within its bounds gives exactly what :func:`decode_message`
    gives for it; anything else gives None (and takes the general path, with its reasons)."""
    prefix = data[:4]
    if prefix == _RECEIPT_HEAD:
        got = _uint_at(data, 4, 0)
        if got is None or data[got[1]:] != _RECEIPT_TAIL:
            return None
        return "session.receipt", {"id": got[0], "type": 37}
    if prefix != _MESSAGE_HEAD:
        return None
    got = _uint_at(data, 4, 0)
    if got is None:
        return None
    msgid, pos = got
    if data[pos:pos + 4] != _MESSAGE_MID:
        return None
    got = _uint_at(data, pos + 4, 2)
    if got is None or not 1 <= got[0] <= MAX_MESSAGE:
        return None
    size, pos = got
    if data[pos + size:] != _MESSAGE_TAIL:
        return None
    return "session.message", {"id": msgid, "msg": data[pos:pos + size], "type": 33}


def encode_session_message(msgid: int, msg: bytes) -> bytes:
    """``encode_message("session", {"type": 33, "id": msgid, "msg": msg})``, with the same refusals."""
    if type(msgid) is int and 0 <= msgid <= U64 and type(msg) is bytes and 1 <= len(msg) <= MAX_MESSAGE:
        return b"".join((_MESSAGE_HEAD, _uint_head(0, msgid), _MESSAGE_MID, _uint_head(0x40, len(msg)), msg,
                         _MESSAGE_TAIL))
    return encode_message("session", {"type": 33, "id": msgid, "msg": msg})


def encode_receipt(msgid: int) -> bytes:
    """``encode_message("session", {"type": 37, "id": msgid})``, with the same refusals."""
    if type(msgid) is int and 0 <= msgid <= U64:
        return b"".join((_RECEIPT_HEAD, _uint_head(0, msgid), _RECEIPT_TAIL))
    return encode_message("session", {"type": 37, "id": msgid})


def decode_message(family: str, data: bytes) -> tuple[str, dict[str, Any]]:
    """Decode and validate one message: ``(kind, map)``."""
    if family == "session":
        known = _message_or_receipt(data)
        if known is not None:
            return known
    value = (_flat_map(data) if family == "session" else None) or cbor_decode(data)
    kind = check_message(family, value)
    assert isinstance(value, dict)
    return kind, value


def encode_bulk(tid: int, data: bytes) -> list[bytes]:
    """The encoded bulk packets of one message: chunks of :data:`MAX_BULK_CHUNK` bytes (the last one
    shorter), each exactly :func:`encode_message` of
    ``{"type": 36, "tid": tid, "total": len(data), "data": chunk}``."""
    check_message("session", {"type": 36, "tid": tid, "total": len(data), "data": data[:MAX_BULK_CHUNK]})
    # the deterministic key order ([CBOR-003]) puts "data" between "tid" and "type"
    head = cbor_encode({"tid": tid}) + cbor_encode("data")
    tail = cbor_encode({"type": 36, "total": len(data)})[1:]
    head = bytes((0xA4,)) + head[1:]
    view = memoryview(data)
    return [b"".join((head, _head(2, len(chunk)), chunk, tail))
            for chunk in (view[at:at + MAX_BULK_CHUNK] for at in range(0, len(data), MAX_BULK_CHUNK))]


_FLAT_ORDER: dict[tuple[Any, ...], tuple[int, tuple[tuple[str, bytes], ...]] | None] = {}
"""Key sets of flat maps: the map's head byte and its keys in the deterministic order, each with its
encoding, or None when a key is not short ASCII text (a memo; at most 256)."""


def _flat_order(keys: tuple[Any, ...]) -> tuple[int, tuple[tuple[str, bytes], ...]] | None:
    order: tuple[int, tuple[tuple[str, bytes], ...]] | None = None
    if len(keys) <= 23 and all(type(k) is str and len(k) <= 23 and k.isascii() for k in keys):
        # [CBOR-003] map keys in the order of their encodings
        encoded = sorted((bytes((0x60 | len(k),)) + k.encode("ascii"), k) for k in keys)
        order = (0xA0 | len(keys), tuple((k, enc) for enc, k in encoded))
    if len(_FLAT_ORDER) < 256:
        _FLAT_ORDER[keys] = order
    return order


def _uint_head(major: int, v: int) -> bytes:
    """:func:`~spec.encoding.cbor._head` for the widths a session packet meets first."""
    if v < 24:
        return bytes((major | v,))
    if v < 0x100:
        return bytes((major | 24, v))
    if v < 0x10000:
        return bytes((major | 25, v >> 8, v & 0xFF))
    return _head(major >> 5, v)


def _encode_flat(value: dict[str, Any]) -> bytes | None:
    """The deterministic encoding of a map of short ASCII keys to unsigned integers and byte strings
    (what :func:`~spec.encoding.cbor.cbor_encode` gives for it), or None for any other map."""
    keys = tuple(value)
    shape = _FLAT_ORDER[keys] if keys in _FLAT_ORDER else _flat_order(keys)
    if shape is None:
        return None
    head, order = shape
    parts = [bytes((head,))]
    for k, enc in order:
        v = value[k]
        if type(v) is bytes:
            parts.append(enc + _uint_head(0x40, len(v)))
            parts.append(v)
        elif type(v) is int and 0 <= v < 1 << 64:
            parts.append(enc + _uint_head(0, v))
        else:
            return None
    return b"".join(parts)


def encode_message(family: str, value: CborValue) -> bytes:
    """Validate and encode one message (the encoder accepts what the decoder accepts)."""
    check_message(family, value)
    assert isinstance(value, dict)
    return (_encode_flat(value) if family == "session" else None) or cbor_encode(value)


def message_kind(family: str, value: CborValue) -> str:
    return check_message(family, value)
