"""Scarce editions: N numbered copies of a work, each owned by one DID, transferable and resellable, never
duplicable; the ownership record the Runtime consults before it opens content.

Upstream Elastos has the idea (the "digital assets owned by DIDs" of the seeds) but no format; the
specification defines one. An **edition request** is a deterministic-CBOR map signed by a DID:

=========  ==========================================================================================
member     value
=========  ==========================================================================================
``spec``   ``"elastos/edition/1.0"``
``op``     ``"mint"`` or ``"transfer"``
``body``   mint: ``{work, title, uri, copies, royalty, payout, issuer}``;
           transfer: ``{work, number, to, price, previous}``
``by``     the signer's verification method (a DID URL string)
``sig``    64 bytes, ECDSA P-256 / SHA-256 (``r || s``) over the deterministic CBOR of
           ``[spec, op, body]``
=========  ==========================================================================================

``work`` is the SHA-256 of the work's content (32 bytes), so two mints of the same content collide;
``copies`` is N (1..:data:`MAX_COPIES`); ``royalty`` is in basis points (0..:data:`MAX_ROYALTY_BPS`) of
every later sale's ``price``, paid to ``payout`` (a 21-byte program hash); ``previous`` is the id of
the copy's last event (the mint's for a copy never sold), so a copy cannot be sold twice from the same
state. Requests travel on the sidechain in ``Record`` transactions (record type ``elastos/edition/1.0``);
the event id is the carrying transaction's id.

The state is a function of the accepted events: :func:`apply_edition` takes the state, the request, its
event id, a DID resolver and the carrying transaction's outputs, and returns the new state or rejects.
Copies never sold are owned by the issuer and are not stored one by one (the state stays O(sales)).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Final

from pydantic import Field

from spec.crypto import p256
from spec.did import credential as C
from spec.did.document import Resolver
from spec.did.syntax import DID, DIDURL, parse_did, parse_did_url
from spec.encoding.cbor import cbor_decode, cbor_encode
from spec.errors import DecodeError, Reason, Reject, rule
from spec.model import SpecModel

__all__ = ["EDITION_SPEC", "MAX_COPIES", "MAX_ROYALTY_BPS", "Mint", "Transfer", "EditionRequest", "Work", "Copy",
           "EditionState", "EMPTY_EDITIONS", "decode_edition_request", "signing_bytes", "sign_edition_request",
           "apply_edition", "owner_of", "copies_of", "may_access", "check_access", "royalty_due"]

EDITION_SPEC: Final = "elastos/edition/1.0"
MAX_COPIES: Final = 1_000_000
MAX_ROYALTY_BPS: Final = 5_000
"""At most half of a sale goes to the issuer."""
MAX_TEXT: Final = 1024

Hash32 = Annotated[bytes, Field(min_length=32, max_length=32)]

_S = "assets"
rule("EDN-001", Reason.EDITION_MALFORMED, "An edition request is a deterministic-CBOR map with exactly spec, op, body, "
     "by and sig; spec is elastos/edition/1.0; op is mint or transfer; the body has exactly its members, of their "
     "types and ranges (work 32 bytes, copies 1..1,000,000, royalty 0..5,000, payout 21 bytes, texts at most 1,024 "
     "bytes, number >= 1, price >= 0, previous 32 bytes, DIDs and DID URLs that parse).", suite=_S)
rule("EDN-002", Reason.EDITION_SIGNATURE, "The signer's verification method is an authentication key of its DID "
     "(resolved) and the signature over [spec, op, body] verifies.", suite=_S)
rule("EDN-003", Reason.EDITION_NOT_ISSUER, "A mint is signed by its issuer.", suite=_S)
rule("EDN-004", Reason.EDITION_DUPLICATE, "A work is minted once: its copies can never be duplicated.", suite=_S)
rule("EDN-005", Reason.EDITION_UNKNOWN_COPY, "A transfer names a minted work and a copy number 1..N.", suite=_S)
rule("EDN-006", Reason.EDITION_NOT_OWNER, "A transfer is signed by the copy's current owner.", suite=_S)
rule("EDN-007", Reason.EDITION_STALE, "A transfer names the copy's last event as previous (a copy is not sold twice "
     "from the same state, and a transfer cannot be replayed).", suite=_S)
rule("EDN-008", Reason.EDITION_ROYALTY, "A transfer with a price carries an output paying the issuer's payout at least "
     "price * royalty / 10,000 (rounded down).", suite=_S)
rule("EDN-009", Reason.EDITION_SELF_TRANSFER, "A transfer changes the copy's owner.", suite=_S)
rule("EDN-010", Reason.EDITION_NOT_OWNER, "A work's content is opened only for a DID that owns a copy of it "
     "(may_access): a previous owner who sold its copy is refused.", suite=_S)


class Mint(SpecModel):
    work: Hash32
    title: str
    uri: str
    copies: Annotated[int, Field(ge=1, le=MAX_COPIES)]
    royalty: Annotated[int, Field(ge=0, le=MAX_ROYALTY_BPS)]
    """Basis points of each later sale's price paid to ``payout``."""
    payout: Annotated[bytes, Field(min_length=21, max_length=21)]
    issuer: str
    """The issuer's DID."""


class Transfer(SpecModel):
    work: Hash32
    number: Annotated[int, Field(ge=1, le=MAX_COPIES)]
    to: str
    """The new owner's DID."""
    price: Annotated[int, Field(ge=0, le=(1 << 63) - 1)]
    """Sela paid for the copy (0 for a gift)."""
    previous: Hash32
    """The copy's last event id."""


class EditionRequest(SpecModel):
    op: str
    body: Mint | Transfer
    by: str
    """The signer's verification method."""
    sig: Annotated[bytes, Field(min_length=64, max_length=64)]


class Work(SpecModel):
    mint: Mint
    event: Hash32
    """The mint's event id."""


class Copy(SpecModel):
    owner: str
    event: Hash32
    """The copy's last event id."""


class EditionState(SpecModel):
    """Works by id and copies that have been sold at least once, as sorted tuples of pairs."""

    works: tuple[tuple[bytes, Work], ...] = ()
    copies: tuple[tuple[tuple[bytes, int], Copy], ...] = ()

    def work(self, work: bytes) -> Work | None:
        return dict(self.works).get(work)

    def copy_record(self, work: bytes, number: int) -> Copy | None:
        return dict(self.copies).get((work, number))


EMPTY_EDITIONS: Final = EditionState()

_MINT_KEYS: Final = {"work", "title", "uri", "copies", "royalty", "payout", "issuer"}
_TRANSFER_KEYS: Final = {"work", "number", "to", "price", "previous"}


def _did(v: Any, what: str) -> str | None:
    """The DID string ``v`` names, or ``None`` if it is not one."""
    if not isinstance(v, str) or len(v.encode()) > MAX_TEXT:
        return None
    try:
        return str(parse_did(v))
    except Reject:
        return None


def _url(v: Any) -> DIDURL | None:
    """The DID URL of a key of a DID that ``v`` names, or ``None``."""
    if not isinstance(v, str) or len(v.encode()) > MAX_TEXT:
        return None
    try:
        url = parse_did_url(v)
    except Reject:
        return None
    return url if url.did is not None and url.fragment is not None else None


def _text(v: Any) -> bool:
    return isinstance(v, str) and len(v.encode()) <= MAX_TEXT


def _body(op: str, body: dict[str, Any]) -> Mint | Transfer | None:
    """The body as its model, or ``None`` when a member is of the wrong type or range."""
    try:
        if op == "mint":
            issuer = _did(body["issuer"], "issuer")
            if issuer is None or not (_text(body["title"]) and _text(body["uri"])):
                return None
            return Mint(work=body["work"], title=body["title"], uri=body["uri"], copies=body["copies"],
                        royalty=body["royalty"], payout=body["payout"], issuer=issuer)
        to = _did(body["to"], "to")
        if to is None:
            return None
        return Transfer(work=body["work"], number=body["number"], to=to, price=body["price"], previous=body["previous"])
    except ValueError:  # pydantic's type and range errors
        return None


def decode_edition_request(data: bytes) -> EditionRequest:
    """Decode and shape-check an edition request ([EDN-001], and CBOR-001..007 for the bytes)."""
    d = cbor_decode(data)
    # [EDN-001] a map with exactly spec, op, body, by and sig, spec elastos/edition/1.0
    if not isinstance(d, dict) or set(d) != {"spec", "op", "body", "by", "sig"} or d["spec"] != EDITION_SPEC:
        raise DecodeError(Reason.EDITION_MALFORMED, "EDN-001", "expected {spec, op, body, by, sig}")
    op, body, by, sig = d["op"], d["body"], d["by"], d["sig"]
    keys = _MINT_KEYS if op == "mint" else _TRANSFER_KEYS if op == "transfer" else None
    # [EDN-001] op is mint or transfer and the body has exactly its members
    if keys is None or not isinstance(body, dict) or set(body) != keys:
        raise DecodeError(Reason.EDITION_MALFORMED, "EDN-001", f"op {op!r} and its body members")
    url = _url(by)
    # [EDN-001] a 64-byte signature by a key of a DID
    if not isinstance(sig, bytes) or len(sig) != 64 or url is None:
        raise DecodeError(Reason.EDITION_MALFORMED, "EDN-001", "sig: 64 bytes; by: a DID URL with a fragment")
    parsed = _body(op, body)
    # [EDN-001] body members of their types and ranges
    if parsed is None:
        raise DecodeError(Reason.EDITION_MALFORMED, "EDN-001", f"{op} body: a member of the wrong type or range")
    return EditionRequest(op=op, body=parsed, by=str(url), sig=sig)


def _body_cbor(body: Mint | Transfer) -> dict[str, Any]:
    return body.model_dump()


def signing_bytes(op: str, body: Mint | Transfer) -> bytes:
    """What the signature covers: deterministic CBOR of ``[spec, op, body]``."""
    return cbor_encode([EDITION_SPEC, op, _body_cbor(body)])


def sign_edition_request(op: str, body: Mint | Transfer, by: DIDURL, private_key: bytes) -> bytes:
    """An edition request signed with ``private_key`` (RFC 6979), encoded."""
    sig = p256.ecdsa_sign(private_key, signing_bytes(op, body))
    return cbor_encode({"spec": EDITION_SPEC, "op": op, "body": _body_cbor(body), "by": str(by), "sig": sig})


def _put(pairs: tuple, key: Any, value: Any) -> tuple:  # type: ignore[type-arg]
    return tuple(sorted([(k, v) for k, v in pairs if k != key] + [(key, value)], key=lambda kv: kv[0]))


def owner_of(state: EditionState, work: bytes, number: int) -> str | None:
    """The DID that owns copy ``number`` of ``work`` (the issuer until it is first sold), or ``None``."""
    w = state.work(work)
    if w is None or not 1 <= number <= w.mint.copies:
        return None
    c = state.copy_record(work, number)
    return w.mint.issuer if c is None else c.owner


def copies_of(state: EditionState, work: bytes, did: str) -> list[int]:
    """The copy numbers of ``work`` that ``did`` owns, ascending (O(N))."""
    w = state.work(work)
    if w is None:
        return []
    return [n for n in range(1, w.mint.copies + 1) if owner_of(state, work, n) == did]


def may_access(state: EditionState, did: DID | str, work: bytes) -> bool:
    """The Runtime's access check: ``did`` owns at least one copy of ``work``."""
    who = str(did)
    w = state.work(work)
    if w is None:
        return False
    sold = [c.owner for (k, _), c in state.copies if k == work]
    if who in sold:
        return True
    return who == w.mint.issuer and len(sold) < w.mint.copies


def check_access(state: EditionState, did: DID | str, work: bytes) -> None:
    """The Runtime's gate to a work's content: refuses a DID that owns no copy (EDN-010)."""
    # [EDN-010] only an owner of a copy opens the work
    if not may_access(state, did, work):
        raise Reject(Reason.EDITION_NOT_OWNER, "EDN-010", f"{did} owns no copy of {work.hex()}")


def royalty_due(mint: Mint, price: int) -> int:
    """``price * royalty / 10,000``, rounded down."""
    return price * mint.royalty // 10_000


def apply_edition(state: EditionState, data: bytes, event: bytes, resolve: Resolver,
                  outputs: Sequence[tuple[bytes, int]] = ()) -> EditionState:
    """Apply one edition request carried by a transaction with id ``event`` whose outputs are
    ``(program_hash, value)`` pairs; the new state."""
    req = decode_edition_request(data)
    signer = parse_did_url(req.by)
    assert signer.did is not None
    doc = resolve(signer.did)
    key = C.authentication_key(doc, signer, resolve) if doc is not None else None
    ok = key is not None
    if ok:
        assert key is not None
        try:
            p256.ecdsa_verify(key.public_key, signing_bytes(req.op, req.body), req.sig)
        except Reject:
            ok = False
    # [EDN-002] an authentication key of the signer's DID signed the request
    if not ok:
        raise Reject(Reason.EDITION_SIGNATURE, "EDN-002", f"{req.by} did not sign this request")
    body = req.body
    if isinstance(body, Mint):
        # [EDN-003] the issuer signs its mint
        if str(signer.did) != body.issuer:
            raise Reject(Reason.EDITION_NOT_ISSUER, "EDN-003", f"{signer.did} is not the issuer {body.issuer}")
        # [EDN-004] a work is minted once
        if state.work(body.work) is not None:
            raise Reject(Reason.EDITION_DUPLICATE, "EDN-004", f"work {body.work.hex()} is already minted")
        return state.model_copy(update={"works": _put(state.works, body.work, Work(mint=body, event=event))})
    w = state.work(body.work)
    # [EDN-005] a minted work and a copy number 1..N
    if w is None or body.number > w.mint.copies:
        raise Reject(Reason.EDITION_UNKNOWN_COPY, "EDN-005", f"copy {body.number} of {body.work.hex()}")
    c = state.copy_record(body.work, body.number)
    owner, last = (w.mint.issuer, w.event) if c is None else (c.owner, c.event)
    # [EDN-006] the current owner signs
    if str(signer.did) != owner:
        raise Reject(Reason.EDITION_NOT_OWNER, "EDN-006", f"{signer.did} does not own copy {body.number}")
    # [EDN-007] previous is the copy's last event
    if body.previous != last:
        raise Reject(Reason.EDITION_STALE, "EDN-007", f"previous {body.previous.hex()} is not {last.hex()}")
    # [EDN-009] the owner changes
    if body.to == owner:
        raise Reject(Reason.EDITION_SELF_TRANSFER, "EDN-009", "a transfer to the owner itself")
    due = royalty_due(w.mint, body.price)
    paid = sum(v for ph, v in outputs if ph == w.mint.payout)
    # [EDN-008] the royalty is paid to the issuer's payout
    if due > 0 and paid < due:
        raise Reject(Reason.EDITION_ROYALTY, "EDN-008", f"royalty {due} due, {paid} paid")
    return state.model_copy(update={"copies": _put(state.copies, (body.work, body.number),
                                                   Copy(owner=body.to, event=event))})
