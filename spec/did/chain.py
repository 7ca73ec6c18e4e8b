"""The ID-chain state machine: which verified requests the chain accepts, and what resolve returns.

:func:`check_request` takes a read-only :class:`IdChainView` of the chain, a request's JSON text, the
block time and the transaction id (both parameters: the spec has no clock and no chain;
:func:`request_txid` is the transaction id the conformance suite and the reference service use) and
returns the :data:`Change` the request makes, one DID's or one credential's new record with its key,
or raises :class:`~spec.errors.Reject`. It touches nothing: a rejected request changes nothing.
:func:`apply_request` is :func:`check_request` on the in-memory :class:`IdChainState` followed by
:func:`apply_change`; a node applies the same change to its store instead (``reference/idchain``), so
the rules live here once and a check reads only the records it names, whatever the chain's size.

Order of checks: the request is parsed and verified against the view's documents
(:func:`spec.did.request.verify_request`, rules ``REQ-*``, ``DOC-*``, ``TKT-*``), then ``IDC-001``,
then the published document's on-chain form (``DID-012``, then for a customized DID ``IDC-017`` and
``IDC-018``), then the other chain-state rules below, in the order of the table.

==========  ===========================================================================================
rule        statement
==========  ===========================================================================================
IDC-001     create, update and transfer publish a document that expires after the block time
IDC-002     create only a DID the chain does not know (a known customized DID: IDC-013)
IDC-003     update, transfer and deactivate only a DID the chain knows
IDC-004     nothing is applied to a deactivated DID (deactivation is final)
IDC-005     an update's previousTxid is the DID's last txid
IDC-006     an update does not change the controllers (a transfer does)
IDC-007     a transfer's ticket names the DID's last txid
IDC-008     a credential is declared once
IDC-009     a credential revoked by its owner or issuer is not declared
IDC-010     a declared credential is revoked only by its owner, its issuer, or a controller of either
IDC-011     one signer revokes a credential once
IDC-012     a resolved history is a single chain of verified requests
IDC-013     a customized DID not deactivated is created again, by any controllers, only after its grace period
IDC-014     a customized DID past its grace period is not updated or transferred (only created again)
IDC-015     a customized DID's controllers, and a deactivate's signer, are on chain, not deactivated, not expired
IDC-016     a customized DID is transferred only while its document has not expired
IDC-017     a customized DID's published document has no authorization keys
IDC-018     a customized DID's name is not in the reserved set (a parameter; empty in the PoW-era profile)
==========  ===========================================================================================

A customized DID's **grace period** ends :data:`MAX_EXPIRED_TIME` after the ``expires`` of its latest
published document (EID's ``MaxExpiredHeight`` blocks after the document's expiry height); see
:func:`grace_end`.

Resolve (EID ``internal/ethapi/didapi.go``, SDK ``DIDBackend``): :func:`resolve_did` gives status
0 valid, 1 expired, 2 deactivated, 3 not found, and the transactions newest first: with ``all`` every
one, else the latest document transaction (preceded by the deactivate for a deactivated DID).
"Expired" is :func:`spec.did.document.is_expired` of the latest document at ``now`` (default: the block time
of the view's latest accepted request); deactivated takes precedence. Both resolve functions take any view.
:func:`resolve_credential` gives 0 valid (declared, not revoked), 2 revoked (by the owner, a controller
of the owner, the declared issuer or the ``issuer`` asked about), 3 not found.

Deviations: EID counts a customized DID's grace period in blocks (``MaxExpiredHeight`` = 6,307,200
after an expiry height of ``height + (expires - block time) / 5``); the spec has no heights and counts
the same span in block time (:data:`MAX_EXPIRED_TIME`, 6,307,200 five-second blocks = 365 days), so the
moment the name becomes free differs from EID's by the drift of real block intervals from 5 s. EID
accepts the re-create of a deactivated customized DID after the grace period but keeps it deactivated
(its deactivation record is never removed, so the new DID resolves deactivated and can never be
updated); the spec rejects that create (IDC-013), so deactivation stays final.

**Reserved names** (IDC-018): EID refuses a customized DID whose lower-cased name is in the main
chain's reserved list (``checkCustomizedDIDAvailable``: ``customID was already reserved``) unless the
main chain has also assigned the name to a DID, which must then be a controller and sign. Both lists
come from the main chain's CR council: ``ReserveCustomID`` (0x0500) and ``ReceiveCustomID`` (0x0501)
CRC proposals, read through EID's SPV service, a DPoS/CR-era main-chain feature outside the PoW-era
profile this spec describes. The spec takes the reserved set as the parameter ``reserved`` of
:func:`check_request` and :func:`apply_request`, compared lower-cased; in the PoW-era profile it is
empty (the default), so no name is reserved. Deviations: the assignment of a reserved name to a DID
(``ReceiveCustomID``) is not modelled, so a reserved name is refused to every request; and EID, once
it has an SPV service, refuses every customized DID while the reserved list is empty (``Before registe
customized did must have reservedCustomIDs``), which the PoW-era profile, having no CR council, does not.
"""

from __future__ import annotations

import bisect
from typing import Final, Protocol

from pydantic import BaseModel, ConfigDict

from spec.crypto.hashes import sha256d
from spec.did import document, request
from spec.did.document import Document
from spec.did.syntax import DID, DIDURL, chain_key, check_chain_id, parse_did
from spec.errors import Reason, Reject, rule

__all__ = [
    "IdTransaction",
    "DIDRecord",
    "CredentialRecord",
    "IdChainView",
    "IdChainState",
    "DIDChange",
    "CredentialChange",
    "Change",
    "EMPTY",
    "request_txid",
    "resolver",
    "published_document",
    "check_request",
    "apply_change",
    "apply_request",
    "resolve_did",
    "resolve_credential",
    "check_history",
    "STATUS_VALID",
    "STATUS_EXPIRED",
    "STATUS_REVOKED",
    "STATUS_DEACTIVATED",
    "STATUS_NOT_FOUND",
    "MAX_EXPIRED_HEIGHT",
    "EXPIRES_BLOCK_INTERVAL",
    "MAX_EXPIRED_TIME",
    "grace_end",
    "did_key",
    "lookup",
]

STATUS_VALID: Final = 0
STATUS_EXPIRED: Final = 1
STATUS_REVOKED: Final = 2
"""Credential status (resolveCredential)."""
STATUS_DEACTIVATED: Final = 2
"""DID status (resolveDID)."""
STATUS_NOT_FOUND: Final = 3

MAX_EXPIRED_HEIGHT: Final = 6_307_200
"""EID ``ChainConfig.MaxExpiredHeight`` (the same on mainnet, testnet and regnet, ``params/config.go``):
the blocks after a customized DID's expiry height during which its name stays taken."""
EXPIRES_BLOCK_INTERVAL: Final = 5
"""Seconds per block that EID assumes when it turns ``expires`` into an expiry height
(``rawdb.TryGetExpiresHeight``: ``height + (expires - block time) / 5``)."""
MAX_EXPIRED_TIME: Final = MAX_EXPIRED_HEIGHT * EXPIRES_BLOCK_INTERVAL
"""The grace period in block time: 31,536,000 s (365 days). Deviation: EID counts it in blocks."""

R_EXPIRES = rule(
    "IDC-001", Reason.IDCHAIN_EXPIRES,
    "A create, update or transfer publishes a document whose expires is later than the block time.",
    suite="did", upstream="didvalidator.go checkRegisterDID: \"Expires time is too short\"",
)
R_EXISTS = rule(
    "IDC-002", Reason.IDCHAIN_ALREADY_EXISTS,
    "A create is for a DID the chain does not know (a known customized DID: IDC-013).",
    suite="did", upstream="didvalidator.go checkDIDOperation: \"DID WRONG OPERATION ALREADY EXIST\" / "
    "checkCustomizedDIDOperation: \"Customized DID WRONG OPERATION ALREADY EXIST\" (a customized DID may be "
    "created again after its grace period: IDC-013)",
)
R_NOT_EXIST = rule(
    "IDC-003", Reason.IDCHAIN_NOT_FOUND,
    "An update, transfer or deactivate is for a DID the chain knows.",
    suite="did", upstream="didvalidator.go checkDIDOperation: \"DID WRONG OPERATION NOT EXIST\"",
)
R_DEACTIVATED = rule(
    "IDC-004", Reason.IDCHAIN_DEACTIVATED,
    "Nothing is applied to a deactivated DID: deactivation is final.",
    suite="did", upstream="didvalidator.go: \"DID is deactivated\" / checkDeactivateDID: \"DID WAS AREADY DEACTIVE\"; "
    "SimulatedIDChain: \"DID … already deactivated\"",
)
R_PREVIOUS = rule(
    "IDC-005", Reason.IDCHAIN_PREVIOUS_TXID,
    "An update's previousTxid equals the DID's last transaction id.",
    suite="did", upstream="didvalidator.go checkDIDOperation: \"PreviousTxid IS NOT CORRECT\"; SimulatedIDChain: "
    "\"Previous transaction id missmatch.\"",
)
R_CONTROLLERS = rule(
    "IDC-006", Reason.IDCHAIN_CONTROLLERS_CHANGED,
    "An update keeps the DID's controllers (a transfer changes them).",
    suite="did", upstream="SimulatedIDChain: \"Document controllers changed.\"",
)
R_TICKET_TXID = rule(
    "IDC-007", Reason.IDCHAIN_TICKET_TXID,
    "A transfer's ticket txid equals the DID's last transaction id (\"0x\" stripped).",
    suite="did", upstream="didvalidator.go checkTicketAvailable: \"invalid TransactionID of ticket\"",
)
R_DECLARED = rule(
    "IDC-008", Reason.IDCHAIN_CREDENTIAL_EXISTS,
    "A credential is declared once.",
    suite="did", upstream="checkVerifiableCredentialOperation: \"Credential already exists.\"",
)
R_REVOKED = rule(
    "IDC-009", Reason.IDCHAIN_CREDENTIAL_REVOKED,
    "A credential revoked by its owner, a controller of the owner, or its issuer is not declared.",
    suite="did", upstream="checkVerifiableCredentialOperation: \"Credential already revoked by …\"",
)
R_REVOKER = rule(
    "IDC-010", Reason.IDCHAIN_REVOKE_SIGNER,
    "A declared credential is revoked only by its owner, its issuer or a controller of either; a credential not "
    "declared may be revoked by anyone (the revocation counts for the owner or the issuer it names).",
    suite="did", upstream="checkVerifiableCredentialOperation: \"VerifiableCredential was revoked by owner\" / "
    "\"… by issuer\" / \"… by owner controller\"",
)
R_REVOKE_TWICE = rule(
    "IDC-011", Reason.IDCHAIN_CREDENTIAL_REVOKED,
    "One signer revokes a credential once.",
    suite="did", upstream="checkVerifiableCredentialOperation: \"Credential already revoked by …\"",
)
R_HISTORY = rule(
    "IDC-012", Reason.IDCHAIN_HISTORY,
    "A resolved history, oldest first, starts with a create, each update's previousTxid and each transfer's ticket "
    "txid is the txid before it, a deactivate comes last, and each request verifies against the document before it.",
    suite="did", upstream="DIDBackend.resolveDid: \"Invalid resolve result\" / DIDBiography checks",
)


R_RECREATE = rule(
    "IDC-013", Reason.IDCHAIN_ALREADY_EXISTS,
    "A create of a customized DID the chain knows is accepted only when the DID is not deactivated and the block "
    "time is later than its grace end (the expires of its latest document plus MAX_EXPIRED_TIME); it may be signed "
    "by any controllers (no ticket), and the DID's history continues with the new create.",
    suite="did", upstream="didvalidator.go checkCustIDOverMaxExpireHeight: \"customizedid was already created\"",
    note="Deviation: EID counts the grace period in blocks (MaxExpiredHeight 6,307,200 after the expiry height "
    "height + (expires - time)/5); the spec counts 6,307,200 x 5 s of block time. EID accepts the re-create of a "
    "deactivated customized DID after the grace period and leaves it deactivated; the spec rejects it.",
)
R_LAPSED = rule(
    "IDC-014", Reason.IDCHAIN_CUSTOMIZED_LAPSED,
    "An update or transfer of a customized DID is rejected when the block time is later than its grace end; the "
    "name can then only be created again (IDC-013). A deactivate is not limited.",
    suite="did", upstream="didvalidator.go checkCustIDOverMaxExpireHeight: "
    "\"customizedid was already reached max expired time .Create it again\"",
    note="Deviation: the grace period is counted in block time, not blocks (see IDC-013).",
)

R_CONTROLLER_VALID = rule(
    "IDC-015", Reason.IDCHAIN_CONTROLLER_INVALID,
    "A create, update or transfer of a customized DID names controllers that are DIDs on chain, not deactivated "
    "and not expired at the block time; the DID that signs a deactivate is neither deactivated nor expired at the "
    "block time.",
    suite="did", upstream="did_contracts.go IsControllerInvalid: \"not all the controler is already in the chain\" "
    "/ \"one of the controller is  Invalid\"; checkDeactivateDID: \" the VerificationMethod controller is invalid\"",
    note="Deviation: EID calls a DID expired once the block height passes its expiry height (height + (expires - "
    "time)/5); the spec compares the block time with expires.",
)
R_TRANSFER_EXPIRED = rule(
    "IDC-016", Reason.IDCHAIN_TRANSFER_EXPIRED,
    "A transfer is of a customized DID whose current document has not expired at the block time (an expired one "
    "may still be renewed by an update within its grace period).",
    suite="did", upstream="did_contracts.go checkCustomIDPayloadSyntax / isCustomizedidInvalid: "
    "\"isCustomizedidInvalid customized expired check fail\"",
)
R_CUSTOMIZED_AUTHORIZATION = rule(
    "IDC-017", Reason.IDCHAIN_CUSTOMIZED_AUTHORIZATION,
    "A create, update or transfer of a customized DID publishes a document without authorization keys (a "
    "primitive DID's document may have them).",
    suite="did", upstream="did_contracts.go checkCustomIDPayloadSyntax: \"customized did can not have Authorization\"",
)
R_CUSTOMIZED_RESERVED = rule(
    "IDC-018", Reason.IDCHAIN_CUSTOMIZED_RESERVED,
    "A create, update or transfer of a customized DID is rejected when its lower-cased name is in the reserved set, "
    "a parameter of the state machine (empty in the PoW-era profile).",
    suite="did", upstream="didvalidator.go checkCustomizedDIDAvailable: \"customID was already reserved \" (trailing "
    "space upstream)",
    note="Deviation: EID's reserved and received names come from the main chain's ReserveCustomID / ReceiveCustomID "
    "CRC proposals (CR era); the spec takes the reserved set as a parameter, does not model a name received by a "
    "DID (a reserved name is refused to everyone), and accepts customized DIDs while the set is empty (EID with an "
    "SPV service refuses them: \"Before registe customized did must have reservedCustomIDs\").",
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class IdTransaction(_Model):
    """One accepted request as resolve lists it."""

    txid: str
    """Lower-case hex of the transaction id."""
    timestamp: int
    """The block time, Unix seconds."""
    operation: str
    request: str
    """The request's JSON text as published."""


class DIDRecord(_Model):
    """A DID's chain state."""

    transactions: tuple[IdTransaction, ...]
    """Oldest first."""
    document: Document
    """The latest published document."""
    deactivated: bool = False


class CredentialRecord(_Model):
    """A credential id's chain state."""

    declare: IdTransaction | None = None
    owner: DID
    issuer: DID | None = None
    """The declared credential's issuer."""
    revokes: tuple[tuple[DID, IdTransaction], ...] = ()
    """Revocations by signer DID, oldest first."""


class IdChainView(Protocol):
    """A read-only view of the ID chain after its latest accepted request.

    Every rule below reads the chain through these three members only, so the spec's
    :class:`IdChainState` (a value) and a node's store (``reference/idchain/store.py``, indexed SQLite)
    are interchangeable: :func:`check_request` and the resolve functions take either.
    """

    @property
    def block_time(self) -> int:
        """The block time of the latest accepted request (0 for an empty chain)."""
        ...

    def did(self, did: DID | str) -> DIDRecord | None:
        """The DID's record, or ``None`` when the chain does not know it."""
        ...

    def credential(self, vc_id: DIDURL | str) -> CredentialRecord | None:
        """The credential id's record, or ``None`` when no declare or revoke names it."""
        ...


class DIDChange(_Model):
    """What an accepted create, update, transfer or deactivate changes: one DID's record."""

    did: str
    """The key: the DID's string form."""
    record: DIDRecord
    """The DID's new record (its transactions end with :attr:`transaction`)."""
    transaction: IdTransaction
    """The accepted request."""


class CredentialChange(_Model):
    """What an accepted declare or revoke changes: one credential id's record."""

    id: str
    """The key: the credential id's string form."""
    record: CredentialRecord
    """The credential's new record (its declare or last revoke is :attr:`transaction`)."""
    transaction: IdTransaction
    """The accepted request."""


Change = DIDChange | CredentialChange
"""The one record an accepted request changes, with its key."""


class IdChainState(_Model):
    """The ID chain's DID and credential state, held in memory: an :class:`IdChainView`.

    Mappings are tuples of pairs sorted by key, so a state is an immutable value and two equal
    histories give equal states; a lookup is a binary search (O(log n)); applying a change copies
    the changed mapping's tuple of references.
    """

    dids: tuple[tuple[str, DIDRecord], ...] = ()
    credentials: tuple[tuple[str, CredentialRecord], ...] = ()
    block_time: int = 0
    """The block time of the latest accepted request."""

    def did(self, did: DID | str) -> DIDRecord | None:
        return _get(self.dids, str(did))  # type: ignore[return-value]

    def credential(self, vc_id: DIDURL | str) -> CredentialRecord | None:
        return _get(self.credentials, str(vc_id))  # type: ignore[return-value]

    def resolver(self) -> document.Resolver:
        """The chain's current documents (:func:`resolver`)."""
        return resolver(self)


EMPTY: Final = IdChainState()


def request_txid(request_json: str) -> bytes:
    """The transaction id of a published request: SHA256d of its UTF-8 text.

    EID's txid is the hash of the Ethereum transaction carrying the request; the spec has no such
    transaction, so the request's own bytes stand in for it. An update's ``previousTxid`` and a
    ticket's ``txid`` name this value in lower-case hex. A text holding a lone surrogate (not Unicode
    text, so never a request: ``JSON-005``) is hashed in its ``surrogatepass`` encoding, so that computing
    the id of any string does not fail before the request is checked.
    """
    return sha256d(request_json.encode("utf-8", "surrogatepass"))


def did_key(did: DID, customized: bool) -> str:
    """The key under which the chain keeps a DID: a customized DID's id lower-cased
    (:func:`spec.did.syntax.chain_key`, ``DID-012``), a primitive DID as written."""
    return f"did:{did.method}:{chain_key(did)}" if customized else str(did)


def lookup(view: IdChainView, did: DID) -> tuple[str, DIDRecord] | None:
    """The DID's key and record: as written, else (EID's ``ResolveDID`` and ``checkCustomizedDID``) the
    customized DID whose lower-cased id it names, so ``did:elastos:Foo`` finds ``did:elastos:foo``."""
    rec = view.did(did)
    if rec is not None:
        return str(did), rec
    low = did_key(did, True)
    if low != str(did):
        rec = view.did(low)
        if rec is not None and rec.document.customized:
            return low, rec
    return None


def resolver(view: IdChainView) -> document.Resolver:
    """The view's current documents, as request verification looks signers up (deactivated DIDs included;
    customized DIDs whatever the case of their id, :func:`lookup`)."""
    def resolve(did: DID) -> Document | None:
        found = lookup(view, did)
        return None if found is None else found[1].document
    return resolve


def published_document(tx: IdTransaction) -> str:
    """The document text a create, update or transfer published (its payload, base64url-decoded)."""
    payload = request.parse_request(tx.request).payload
    return request.b64url_decode(payload).decode("utf-8")


def grace_end(doc: Document) -> int:
    """The block time after which a customized DID whose latest document is ``doc`` may be created again
    (IDC-013) and may no longer be updated or transferred (IDC-014): ``expires`` + :data:`MAX_EXPIRED_TIME`."""
    return document.parse_date(doc.expires) + MAX_EXPIRED_TIME


def _recreatable(rec: DIDRecord, block_time: int) -> bool:
    """A known DID may be created again at ``block_time``: customized, not deactivated, past its grace end."""
    return rec.document.customized and not rec.deactivated and block_time > grace_end(rec.document)


def _get(pairs: tuple[tuple[str, object], ...], key: str) -> object | None:
    i = bisect.bisect_left(pairs, key, key=_first)
    return pairs[i][1] if i < len(pairs) and pairs[i][0] == key else None


def _first(kv: tuple[str, object]) -> str:
    return kv[0]


def _put(pairs: tuple[tuple[str, object], ...], key: str, value: object) -> tuple:  # type: ignore[type-arg]
    i = bisect.bisect_left(pairs, key, key=_first)
    end = i + 1 if i < len(pairs) and pairs[i][0] == key else i
    return pairs[:i] + ((key, value),) + pairs[end:]


def _strip0x(txid: str) -> str:
    return txid[2:] if txid[:2] in ("0x", "0X") else txid


def _controls(view: IdChainView, signer: DID, did: DID | None) -> bool:
    """``signer`` is ``did`` or one of its document's controllers."""
    if did is None:
        return False
    if signer == did:
        return True
    found = lookup(view, did)
    return found is not None and signer in found[1].document.controllers


def _revoked_for(view: IdChainView, rec: CredentialRecord, issuer: DID | None) -> bool:
    """Revoked by the owner (or its controller), the declared issuer, or ``issuer``."""
    return any(_controls(view, s, rec.owner) or _controls(view, s, rec.issuer) or (issuer is not None and s == issuer)
               for s, _ in rec.revokes)


def check_request(view: IdChainView, request_json: str, block_time: int, txid: bytes,
                  reserved: frozenset[str] = frozenset()) -> Change:
    """Check one published request at ``block_time`` with transaction id ``txid`` against ``view``; the
    change it makes. Reads the view only: nothing is applied (:func:`apply_change` does that).
    ``reserved`` is the set of reserved customized names (IDC-018), empty in the PoW-era profile."""
    v = request.verify_request(request.parse_request(request_json), resolver(view))
    op = v.request.operation
    tx = IdTransaction(txid=txid.hex(), timestamp=block_time, operation=op, request=request_json)
    if v.document is not None:
        # [IDC-001] the published document expires after the block time
        if document.parse_date(v.document.expires) <= block_time:
            raise Reject(Reason.IDCHAIN_EXPIRES, "IDC-001", "Expires time is too short")
    if op in ("create", "update", "transfer", "deactivate"):
        if v.document is not None:
            # [DID-012] on chain a DID's id is letters and digits only
            check_chain_id(v.did)
            if v.document.customized:
                # [IDC-017] a customized DID's document has no authorization keys
                if v.document.authorization:
                    raise Reject(Reason.IDCHAIN_CUSTOMIZED_AUTHORIZATION, "IDC-017",
                                 "customized did can not have Authorization")
                # [IDC-018] a customized DID's name is not reserved
                if chain_key(v.did) in {n.lower() for n in reserved}:
                    raise Reject(Reason.IDCHAIN_CUSTOMIZED_RESERVED, "IDC-018", "customID was already reserved ")
        found = lookup(view, v.did)
        rec = None if found is None else found[1]
        # the record's key: where the DID is kept, else where a new DID goes (a customized id lower-cased)
        key = found[0] if found is not None else did_key(v.did, v.document is not None and v.document.customized)
        if op == "create":
            # [IDC-002] create only a new DID (primitive DIDs: ever)
            if rec is not None and not rec.document.customized:
                raise Reject(Reason.IDCHAIN_ALREADY_EXISTS, "IDC-002", "DID WRONG OPERATION ALREADY EXIST")
            # [IDC-013] a known customized DID only after its grace end, and never once deactivated
            if rec is not None and not _recreatable(rec, block_time):
                raise Reject(Reason.IDCHAIN_ALREADY_EXISTS, "IDC-013", "customizedid was already created")
        else:
            # [IDC-003] update, transfer and deactivate only a known DID
            if rec is None:
                raise Reject(Reason.IDCHAIN_NOT_FOUND, "IDC-003", "DID WRONG OPERATION NOT EXIST")
            # [IDC-004] deactivation is final
            if rec.deactivated:
                raise Reject(Reason.IDCHAIN_DEACTIVATED, "IDC-004", "DID is deactivated")
            # [IDC-014] a customized DID past its grace end is only created again
            if op != "deactivate" and rec.document.customized and block_time > grace_end(rec.document):
                raise Reject(Reason.IDCHAIN_CUSTOMIZED_LAPSED, "IDC-014",
                             "customizedid was already reached max expired time .Create it again")
            last = rec.transactions[-1].txid
            if op == "update":
                assert v.document is not None
                # [IDC-005] previousTxid is the DID's last txid
                if _strip0x(v.request.previous_txid or "") != last:
                    raise Reject(Reason.IDCHAIN_PREVIOUS_TXID, "IDC-005", "PreviousTxid IS NOT CORRECT")
                # [IDC-006] an update keeps the controllers
                if set(v.document.controllers) != set(rec.document.controllers):
                    raise Reject(Reason.IDCHAIN_CONTROLLERS_CHANGED, "IDC-006", "Document controllers changed.")
            elif op == "transfer":
                assert v.ticket is not None
                # [IDC-016] only an unexpired customized DID is transferred
                if document.is_expired(rec.document, block_time):
                    raise Reject(Reason.IDCHAIN_TRANSFER_EXPIRED, "IDC-016",
                                 "isCustomizedidInvalid customized expired check fail")
                # [IDC-007] the ticket names the DID's last txid
                if _strip0x(v.ticket.txid) != last:
                    raise Reject(Reason.IDCHAIN_TICKET_TXID, "IDC-007", "invalid TransactionID of ticket")
        signers = v.document.controllers if v.document is not None and v.document.customized else ()
        if op == "deactivate" and v.signer.did is not None:
            signers = (v.signer.did,)
        for c in signers:
            found_c = lookup(view, c)
            # [IDC-015] controllers (and a deactivate's signer) are on chain, not deactivated, not expired
            if found_c is None or found_c[1].deactivated or document.is_expired(found_c[1].document, block_time):
                raise Reject(Reason.IDCHAIN_CONTROLLER_INVALID, "IDC-015", f"one of the controller is  Invalid: {c}")
        if rec is None:
            assert v.document is not None
            new = DIDRecord(transactions=(tx,), document=v.document)
        elif op == "create":
            assert v.document is not None
            new = DIDRecord(transactions=rec.transactions + (tx,), document=v.document)
        else:
            new = rec.model_copy(update={"transactions": rec.transactions + (tx,),
                                         "document": v.document or rec.document,
                                         "deactivated": op == "deactivate"})
        return DIDChange(did=key, record=new, transaction=tx)

    assert v.credential_id is not None
    crec = view.credential(v.credential_id)
    if op == "declare":
        assert v.credential is not None
        # [IDC-008] a credential is declared once
        if crec is not None and crec.declare is not None:
            raise Reject(Reason.IDCHAIN_CREDENTIAL_EXISTS, "IDC-008", "Credential already exists.")
        base = crec or CredentialRecord(owner=v.credential.subject_id)
        base = base.model_copy(update={"declare": tx, "issuer": v.credential.issuer})
        # [IDC-009] a credential revoked by its owner or issuer is not declared
        if _revoked_for(view, base, None):
            raise Reject(Reason.IDCHAIN_CREDENTIAL_REVOKED, "IDC-009", "Credential already revoked")
        new_c = base
    else:
        signer = v.signer.did
        assert signer is not None
        base = crec or CredentialRecord(owner=v.did)
        # [IDC-010] a declared credential is revoked by its owner, issuer or a controller of either
        if base.declare is not None and not (_controls(view, signer, base.owner) or _controls(view, signer, base.issuer)):
            raise Reject(Reason.IDCHAIN_REVOKE_SIGNER, "IDC-010", f"{signer} may not revoke {v.credential_id}")
        # [IDC-011] one signer revokes a credential once
        if any(s == signer for s, _ in base.revokes):
            raise Reject(Reason.IDCHAIN_CREDENTIAL_REVOKED, "IDC-011", f"Credential already revoked by {signer}")
        new_c = base.model_copy(update={"revokes": base.revokes + ((signer, tx),)})
    return CredentialChange(id=str(v.credential_id), record=new_c, transaction=tx)


def apply_change(state: IdChainState, change: Change) -> IdChainState:
    """``state`` with the change's record under its key and the change's block time."""
    t = change.transaction.timestamp
    if isinstance(change, DIDChange):
        return state.model_copy(update={"dids": _put(state.dids, change.did, change.record), "block_time": t})
    return state.model_copy(update={"credentials": _put(state.credentials, change.id, change.record), "block_time": t})


def apply_request(state: IdChainState, request_json: str, block_time: int, txid: bytes,
                  reserved: frozenset[str] = frozenset()) -> IdChainState:
    """Apply one published request at ``block_time`` with transaction id ``txid``; the new state
    (:func:`check_request`, then :func:`apply_change`; ``reserved`` as there)."""
    return apply_change(state, check_request(state, request_json, block_time, txid, reserved))


def resolve_did(view: IdChainView, did: DID | str, all: bool = False,  # noqa: A002
                now: int | None = None) -> tuple[int, tuple[IdTransaction, ...]]:
    """``did_resolveDID``: the status and the transactions, newest first."""
    found = lookup(view, parse_did(did) if isinstance(did, str) else did)
    if found is None:
        return STATUS_NOT_FOUND, ()
    rec = found[1]
    txs = tuple(reversed(rec.transactions))
    if not all:
        docs = [t for t in txs if t.operation != "deactivate"]
        txs = (txs[0], docs[0]) if rec.deactivated else (docs[0],)
    if rec.deactivated:
        return STATUS_DEACTIVATED, txs
    at = view.block_time if now is None else now
    return (STATUS_EXPIRED if document.is_expired(rec.document, at) else STATUS_VALID), txs


def resolve_credential(view: IdChainView, vc_id: DIDURL | str,
                       issuer: DID | str | None = None) -> tuple[int, tuple[IdTransaction, ...]]:
    """``did_resolveCredential``: the status and the transactions (revocations, then the declare), newest first."""
    rec = view.credential(vc_id)
    iss = parse_did(issuer) if isinstance(issuer, str) else issuer
    if rec is None:
        return STATUS_NOT_FOUND, ()
    txs = tuple(t for _, t in reversed(rec.revokes)) + ((rec.declare,) if rec.declare is not None else ())
    if _revoked_for(view, rec, iss):
        return STATUS_REVOKED, txs
    return (STATUS_VALID, txs) if rec.declare is not None else (STATUS_NOT_FOUND, ())


def _same(a: DID, b: DID, doc: Document | None) -> bool:
    """``a`` and ``b`` name one DID: equal, or the same customized id in another case (``doc`` is theirs)."""
    return a == b or (doc is not None and doc.customized and chain_key(a) == chain_key(b))


def check_history(did: DID | str, transactions: tuple[IdTransaction, ...], resolve: document.Resolver) -> Document:
    """The client's check of a full resolved history (``all``, newest first): a single chain of verified
    requests about ``did``. ``resolve`` gives the other DIDs' documents. Returns the latest document.

    A customized DID created again after its grace period (IDC-013) has one history: the new create
    follows the last transaction of the DID's earlier life, at a timestamp after that life's grace end."""
    target = parse_did(did) if isinstance(did, str) else did
    current: Document | None = None
    last: str | None = None
    deactivated = False
    for tx in reversed(transactions):
        def view(d: DID, current: Document | None = current) -> Document | None:
            return current if _same(d, target, current) else resolve(d)
        try:
            v = request.verify_request(request.parse_request(tx.request), view)
        except Reject as e:
            # [IDC-012] each request verifies against the document before it
            raise Reject(Reason.IDCHAIN_HISTORY, "IDC-012", f"{tx.txid}: {e.reason}") from None
        op = v.request.operation
        # a create starts the history, or (IDC-013) re-creates a customized DID past its grace end
        again = current is not None and current.customized and not deactivated and tx.timestamp > grace_end(current)
        links = {"create": last is None or again, "update": last is not None and v.request.previous_txid == last,
                 "transfer": last is not None and v.ticket is not None and _strip0x(v.ticket.txid) == last,
                 "deactivate": last is not None}
        # [IDC-012] one DID, a create first, each link naming the txid before it, nothing after a deactivate
        if not _same(v.did, target, v.document or current) or op not in links or not links[op] or deactivated or tx.operation != op:
            raise Reject(Reason.IDCHAIN_HISTORY, "IDC-012", f"{tx.txid}: {op} does not continue the chain")
        current = v.document or current
        deactivated = op == "deactivate"
        last = tx.txid
    # [IDC-012] a history is not empty
    if current is None:
        raise Reject(Reason.IDCHAIN_HISTORY, "IDC-012", "empty history")
    return current

