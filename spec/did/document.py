"""DID documents (v1, v2, v2.2): parse, sanitize, the normalized and compact forms, and proofs.

A document is parsed from JSON text (:mod:`spec.did.jsontext`), then **sanitized** as the SDK
does at parse time (``DIDDocument.sanitize*``): relative ids get the subject DID, defaults are
filled in, lists are sorted. The sanitized document has two text forms:

* the **normalized** form (``toString(true)``): every DID URL absolute, every key with all four
  members, every proof with all four members. It is what a document's proof signs (without the
  ``proof`` member);
* the **compact** form (``toString(false)``): DID URLs of the subject written relative
  (``"#primary"``), default key types, default key controllers and default proof types left out.

Members, in serialization order
-------------------------------

========================  ===============================================================
member                    value
========================  ===============================================================
``@context`` (v2.2)       array of strings, kept as given
``id``                    the subject DID
``controller`` (v2)       one DID as a string, several as an array, sorted
``multisig`` (v2)         ``"m:n"``; required with 2 or more controllers, else forbidden
``publicKey``             ``{id, type, controller, publicKeyBase58}``, sorted by id
``authentication``        key ids, sorted (the default key is always included)
``authorization``         key ids, sorted
``verifiableCredential``  credentials about the subject, sorted by id
``service``               ``{id, type, serviceEndpoint, ...extra}``, sorted by id
``expires``               ``yyyy-MM-ddTHH:mm:ssZ``
``proof``                 one proof as an object, several as an array, sorted by (created, creator)
========================  ===============================================================

Empty lists are left out. A **primitive** document has a default key: the first key (in id order)
controlled by the subject whose address is the subject's method-specific id. A **customized**
document (``did:elastos:foobar``) has controllers and is signed by their default keys
(``m`` of them for an ``m:n`` multisig document).

Upstream: Elastos.DID.Java.SDK ``DIDDocument.java`` (``@JsonPropertyOrder``, ``sanitize*``,
``isGenuine``, ``isExpired``), ``VerifiableCredential.java``, ``DIDEntity.java``.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import functools
import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, PrivateAttr

from spec.crypto import p256
from spec.did import jsontext, keys
from spec.did.syntax import DID, DIDURL, parse_did, parse_did_url
from spec.encoding import base58
from spec.errors import DecodeError, Reason, Reject, rule

__all__ = [
    "DEFAULT_KEY_TYPE",
    "PublicKey",
    "Service",
    "CredentialProof",
    "Credential",
    "Proof",
    "Document",
    "parse_document",
    "normalized",
    "compact",
    "signed_bytes",
    "verify_proof",
    "is_genuine",
    "is_expired",
    "is_valid",
    "format_date",
    "parse_date",
]

DEFAULT_KEY_TYPE: Final = "ECDSAsecp256r1"
"""The only key and proof type (``Constants.DEFAULT_PUBLICKEY_TYPE``)."""

Resolver = Callable[[DID], "Document | None"]
"""Gives the (parsed) document of a DID, or ``None`` when it is not known."""

R_SHAPE = rule(
    "DOC-001", Reason.DOC_MALFORMED,
    "A document, key, service, credential and proof has its required members, no unknown member, "
    "and each member has its JSON type.",
    suite="did", upstream="MalformedDocumentException (Jackson: missing or unknown property)",
    note="Quirk: unknown members are ignored and dropped (the SDK turns FAIL_ON_UNKNOWN_PROPERTIES off); "
    "services and credential subjects keep every extra member.",
)
R_DATE = rule(
    "DOC-002", Reason.DOC_INVALID_DATE,
    "A date is yyyy-MM-ddTHH:mm:ssZ, or yyyy-MM-ddTHH:mm:ss.SSSZ, and names a real UTC time.",
    suite="did", upstream="DIDEntity date format; ParseException",
    note="Deviation: Java's SimpleDateFormat is lenient (month 13 rolls over); the spec rejects.",
)
R_FOREIGN = rule(
    "DOC-003", Reason.DOC_FOREIGN_ID,
    "A key, service or credential id, made absolute, carries the subject DID.",
    suite="did", upstream="DIDDocument.sanitize (MalformedDocumentException)",
)
R_DUPLICATE = rule(
    "DOC-004", Reason.DOC_DUPLICATE_ID,
    "Keys (from publicKey, authentication and authorization), services and credentials have distinct ids.",
    suite="did", upstream="\"Public key already exists\"",
)
R_UNKNOWN_KEY = rule(
    "DOC-005", Reason.DOC_UNKNOWN_KEY,
    "An authentication or authorization reference names a key of the document.",
    suite="did", upstream="DIDDocument.sanitizePublickKey (MalformedDocumentException)",
)
R_KEY_ENCODING = rule(
    "DOC-006", Reason.DOC_KEY_ENCODING,
    "publicKeyBase58 is Base58 of a 33-byte compressed P-256 point.",
    suite="did",
    note="Deviation: the SDK decodes a key only when it uses it; the spec checks every key at parse time.",
)
R_KEY_CONTROLLER = rule(
    "DOC-008", Reason.DOC_KEY_CONTROLLER,
    "A key embedded in authorization names its controller, and that controller is not the subject.",
    suite="did", upstream="\"Public key missing controller\" / \"Authorization key with wrong controller\" "
    "(DIDDocument.sanitizePublickKey)",
)
R_DEFAULT_KEY = rule(
    "DOC-009", Reason.DOC_NO_DEFAULT_KEY,
    "A document without controllers has a default key (a subject-controlled key whose address is the DID).",
    suite="did", upstream="\"Missing default public key.\"",
)
R_MULTISIG = rule(
    "DOC-010", Reason.DOC_MULTISIG,
    "multisig is \"m:n\" with n = #controllers >= 2 and 1 <= m <= n; it is absent with 0 or 1 controller.",
    suite="did", upstream="\"Missing multisig property\" / \"Invalid multisig property\"",
    note="Deviation: Java's Integer.parseInt also takes a sign or leading zeros in m and n; the spec takes "
    "plain decimal numbers only.",
)
R_CONTROLLER = rule(
    "DOC-011", Reason.DOC_CONTROLLER,
    "Controllers are distinct and none is the subject.",
    suite="did", upstream="DIDDocument.sanitizeControllers",
    note="Deviation: the SDK does not test this at parse time (a document listing itself or a controller "
    "twice fails later, when its controllers are resolved); the spec rejects it when parsing.",
)
R_SERVICE = rule(
    "DOC-012", Reason.DOC_EMPTY_SERVICE,
    "A service's type and serviceEndpoint are not empty.",
    suite="did", upstream="DIDDocument.sanitizeServices (MalformedDocumentException)",
)
R_PROOF = rule(
    "DOC-007", Reason.DOC_PROOF,
    "Each proof has a creator (given, or the default key; a single controller's default key for a "
    "customized document); a relative creator needs a default key or a single controller; no two "
    "proofs are by the same DID.",
    suite="did", upstream="DIDDocument.sanitizeProof (MalformedDocumentException)",
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class PublicKey(_Model):
    """A public key of the document (from ``publicKey`` or embedded in authentication/authorization)."""

    id: DIDURL
    """Absolute key id."""
    type: str
    """``ECDSAsecp256r1``."""
    controller: DID
    """The DID that controls the key (the subject unless stated)."""
    public_key_base58: str
    """Base58 of the 33-byte compressed point, as written."""

    @property
    def public_key(self) -> bytes:
        return base58.b58decode(self.public_key_base58)


class Service(_Model):
    """A service endpoint; extra members are kept and written sorted by name, recursively."""

    id: DIDURL
    type: str
    endpoint: str
    extra: tuple[tuple[str, Any], ...] = ()
    """Extra members, sorted by name (Java ``String`` order), values sorted recursively."""


class CredentialProof(_Model):
    """A credential's proof ``{type, created?, verificationMethod, signature}``."""

    type: str
    created: str | None
    """Present from v2 on."""
    verification_method: DIDURL
    signature: str


class Credential(_Model):
    """A verifiable credential embedded in a document (the document subject is its subject)."""

    context: tuple[str, ...] | None
    id: DIDURL
    types: tuple[str, ...]
    """Sorted."""
    issuer: DID
    issuance_date: str
    expiration_date: str
    subject_id: DID
    subject: tuple[tuple[str, Any], ...]
    """The other ``credentialSubject`` members, sorted recursively."""
    proof: CredentialProof


class Proof(_Model):
    """A document proof ``{type, created, creator, signatureValue}``."""

    type: str
    created: str
    creator: DIDURL
    signature: str


class Document(_Model):
    """A sanitized DID document."""

    context: tuple[str, ...] | None = None
    subject: DID
    controllers: tuple[DID, ...] = ()
    multisig: tuple[int, int] | None = None
    public_keys: tuple[PublicKey, ...] = ()
    authentication: tuple[DIDURL, ...] = ()
    authorization: tuple[DIDURL, ...] = ()
    credentials: tuple[Credential, ...] = ()
    services: tuple[Service, ...] = ()
    expires: str
    proofs: tuple[Proof, ...]
    default_key: DIDURL | None = None
    """The default key's id (primitive documents only)."""

    _signed: bytes | None = PrivateAttr(default=None)
    """Memo of :func:`signed_bytes` (the model is frozen; equality and hashing ignore it)."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Document):
            return self.__dict__ == other.__dict__
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self.__dict__.values()))

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Document:
        """A copy with ``update`` applied; the memo of the signed bytes is not carried over."""
        copy = super().model_copy(update=update, deep=deep)
        copy.__pydantic_private__["_signed"] = None
        return copy

    @property
    def customized(self) -> bool:
        return self.default_key is None

    def key(self, key_id: DIDURL) -> PublicKey | None:
        for k in self.public_keys:
            if k.id == key_id:
                return k
        return None


# -- helpers ---------------------------------------------------------------------------------------


def _java_key(s: str) -> bytes:
    """Java ``String.compareTo`` order: UTF-16 code units."""
    return s.encode("utf-16-be", "surrogatepass")


def _sorted_json(v: Any) -> Any:
    """``v`` with every object's members sorted by name, recursively (TreeMap order)."""
    if isinstance(v, dict):
        return {k: _sorted_json(v[k]) for k in sorted(v, key=_java_key)}
    if isinstance(v, list):
        return [_sorted_json(x) for x in v]
    return v


_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{3})?Z")


@functools.lru_cache(maxsize=4096)
def parse_date(text: str) -> int:
    """Unix seconds of a document date (milliseconds are cut off). Memoized: dates repeat."""
    m = _DATE.fullmatch(text)
    ok = m is not None
    if m:
        y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
        ok = 1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1] and h < 24 and mi < 60 and s < 60 and y >= 1
    # [DOC-002] a date is yyyy-MM-ddTHH:mm:ss(.SSS)?Z naming a real time
    if not ok or m is None:
        raise DecodeError(Reason.DOC_INVALID_DATE, "DOC-002", f"invalid date {text!r}")
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))


def format_date(t: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _date(v: Any, where: str) -> str:
    return format_date(parse_date(_str(v, where)))


def _at(where: str, what: str) -> str:
    return f"{where}: {what}"


def _obj(v: Any, where: str, required: tuple[str, ...], optional: tuple[str, ...] | None) -> dict[str, Any]:
    """``v`` as an object with ``required`` members.

    ``optional`` lists the other members the spec reads (``None``: any member is kept). Members
    outside both are ignored, as the SDK's Jackson mapper ignores them
    (``FAIL_ON_UNKNOWN_PROPERTIES`` is off), and are not written back.
    """
    # [DOC-001] an object of its shape
    if not isinstance(v, dict):
        raise DecodeError(Reason.DOC_MALFORMED, "DOC-001", _at(where, "expected an object"))
    for k in required:
        # [DOC-001] a required member is present
        if k not in v or v[k] is None:
            raise DecodeError(Reason.DOC_MALFORMED, "DOC-001", _at(where, f"missing {k!r}"))
    return v


def _str(v: Any, where: str) -> str:
    # [DOC-001] a string member
    if not isinstance(v, str):
        raise DecodeError(Reason.DOC_MALFORMED, "DOC-001", _at(where, "expected a string"))
    return v


def _list(v: Any, where: str, *, wrap: bool = False) -> list[Any]:
    if wrap and not isinstance(v, list):
        return [v]
    # [DOC-001] an array member
    if not isinstance(v, list):
        raise DecodeError(Reason.DOC_MALFORMED, "DOC-001", _at(where, "expected an array"))
    return v


def _opt(d: dict[str, Any], k: str) -> Any:
    """A member, with JSON ``null`` read as absent (as Jackson does)."""
    return d.get(k)


def _items(d: dict[str, Any], k: str) -> list[Any]:
    """An optional array member (absent or null: empty)."""
    v = d.get(k)
    return [] if v is None else _list(v, k)


def _or(v: Any, default: Any) -> Any:
    return default if v is None else v


def _did(v: Any, where: str) -> DID:
    return parse_did(_str(v, where))


def _url(v: Any, where: str, context: DID) -> DIDURL:
    u = parse_did_url(_str(v, where), context)
    # [DOC-001] a DID URL member names a DID and a fragment
    if u.did is None or u.fragment is None:
        raise DecodeError(Reason.DOC_MALFORMED, "DOC-001", _at(where, "expected a DID URL with a fragment"))
    return u


def _own(u: DIDURL, subject: DID, where: str) -> DIDURL:
    # [DOC-003] the id carries the subject DID
    if u.did != subject:
        raise DecodeError(Reason.DOC_FOREIGN_ID, "DOC-003", f"{where}: {u} is not an id of {subject}")
    return u


# -- parsing ---------------------------------------------------------------------------------------

_DOC_MEMBERS: Final = ("@context", "id", "controller", "multisig", "publicKey", "authentication", "authorization",
                       "verifiableCredential", "service", "expires", "proof")


def _key(v: Any, where: str, subject: DID) -> PublicKey:
    d = _obj(v, where, ("id", "publicKeyBase58"), ("id", "type", "controller", "publicKeyBase58"))
    key_id = _own(_url(d["id"], where + ".id", subject), subject, where)
    ktype = _str(_or(_opt(d, "type"), DEFAULT_KEY_TYPE), where + ".type")
    controller = _did(d["controller"], where + ".controller") if _opt(d, "controller") is not None else subject
    text = _str(d["publicKeyBase58"], where + ".publicKeyBase58")
    try:
        keys.public_key_from_base58(text)
        ok = True
    except Reject:
        ok = False
    # [DOC-006] publicKeyBase58 is a compressed P-256 point
    if not ok:
        raise DecodeError(Reason.DOC_KEY_ENCODING, "DOC-006", f"{where}: not a P-256 public key")
    return PublicKey(id=key_id, type=ktype, controller=controller, public_key_base58=text)


def _service(v: Any, where: str, subject: DID) -> Service:
    d = _obj(v, where, ("id", "type", "serviceEndpoint"), None)
    sid = _own(_url(d["id"], where + ".id", subject), subject, where)
    stype = _str(d["type"], where + ".type")
    endpoint = _str(d["serviceEndpoint"], where + ".serviceEndpoint")
    # [DOC-012] type and serviceEndpoint are not empty
    if not stype or not endpoint:
        raise DecodeError(Reason.DOC_EMPTY_SERVICE, "DOC-012", f"{where}: empty type or endpoint")
    extra = _sorted_json({k: x for k, x in d.items() if k not in ("id", "type", "serviceEndpoint")})
    return Service(id=sid, type=stype, endpoint=endpoint, extra=tuple(extra.items()))


def _credential(v: Any, where: str, subject: DID, *, embedded: bool = True) -> Credential:
    """A credential; ``subject`` is the document subject (``embedded``), or, for a credential outside
    a document (:mod:`spec.did.credential`), its ``credentialSubject.id``, whose id may then name
    another DID (such a credential parses but is not genuine, as in the SDK)."""
    d = _obj(v, where, ("id", "type", "issuanceDate", "expirationDate", "credentialSubject", "proof"),
             ("@context", "id", "type", "issuer", "issuanceDate", "expirationDate", "credentialSubject", "proof"))
    context = None
    if _opt(d, "@context") is not None:
        context = tuple(_str(x, where + ".@context") for x in _list(d["@context"], where + ".@context", wrap=True))
    cs = _obj(d["credentialSubject"], where + ".credentialSubject", (), None)
    subject_id = _did(cs["id"], where + ".credentialSubject.id") if _opt(cs, "id") is not None else subject
    vc_id = _url(d["id"], where + ".id", subject_id)
    if embedded:
        _own(vc_id, subject, where)
    types = tuple(sorted((_str(t, where + ".type") for t in _list(d["type"], where + ".type", wrap=True)), key=_java_key))
    # [DOC-001] a credential has a type
    if not types:
        raise DecodeError(Reason.DOC_MALFORMED, "DOC-001", _at(where, "Missing credential type"))
    issuer = _did(d["issuer"], where + ".issuer") if _opt(d, "issuer") is not None else subject_id
    p = _obj(d["proof"], where + ".proof", ("verificationMethod", "signature"),
             ("type", "created", "verificationMethod", "signature"))
    ptype = _str(_or(_opt(p, "type"), DEFAULT_KEY_TYPE), where + ".proof.type")
    created = _date(p["created"], where + ".proof.created") if _opt(p, "created") is not None else None
    proof = CredentialProof(type=ptype, created=created,
                            verification_method=_url(p["verificationMethod"], where + ".proof.verificationMethod", issuer),
                            signature=_str(p["signature"], where + ".proof.signature"))
    rest = _sorted_json({k: x for k, x in cs.items() if k != "id"})
    return Credential(context=context, id=vc_id, types=types, issuer=issuer,
                      issuance_date=_date(d["issuanceDate"], where + ".issuanceDate"),
                      expiration_date=_date(d["expirationDate"], where + ".expirationDate"),
                      subject_id=subject_id, subject=tuple(rest.items()), proof=proof)


def _multisig(v: Any, controllers: int) -> tuple[int, int] | None:
    if v is None:
        # [DOC-010] multisig is required with two or more controllers
        if controllers > 1:
            raise DecodeError(Reason.DOC_MULTISIG, "DOC-010", "Missing multisig property")
        return None
    m = re.fullmatch(r"([1-9][0-9]{0,8}):([1-9][0-9]{0,8})", _str(v, "multisig"))
    # [DOC-010] multisig is "m:n", n = #controllers >= 2, 1 <= m <= n
    if m is None or controllers < 2 or int(m.group(2)) != controllers or int(m.group(1)) > controllers:
        raise DecodeError(Reason.DOC_MULTISIG, "DOC-010", f"Invalid multisig property {v!r}")
    return int(m.group(1)), int(m.group(2))


def parse_document(text: str, resolve: Resolver | None = None) -> Document:
    """Parse and sanitize a document from its JSON text (any form the SDK accepts).

    ``resolve`` gives controller documents; it is needed only to fill in a missing proof creator
    of a customized document with one controller.

    The normative algorithm is :func:`parse_document_full`. The normalized text of a primitive document
    with one key, the form the chain publishes, takes a shortcut (:func:`_parse_normalized_primitive`)
    that gives the same document; ``tests/test_did_document_fast_path.py`` checks with Hypothesis that the two
    agree on every text the shortcut accepts.
    """
    fast = _parse_normalized_primitive(text)
    return fast if fast is not None else parse_document_full(text, resolve)


_SIMPLE_ID: Final = re.compile(r"did:elastos:([A-Za-z0-9][A-Za-z0-9._-]*)#([A-Za-z0-9][A-Za-z0-9._-]*)")
_BASE58_TEXT: Final = re.compile(r"[1-9A-HJ-NP-Za-km-z]+")
_BASE64URL_TEXT: Final = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_PRIMITIVE_MEMBERS: Final = ["id", "publicKey", "authentication", "expires", "proof"]
_KEY_MEMBERS: Final = ["id", "type", "controller", "publicKeyBase58"]
_PROOF_MEMBERS: Final = ["type", "created", "creator", "signatureValue"]


def _parse_normalized_primitive(text: str) -> Document | None:
    """The document :func:`parse_document_full` gives for ``text`` when ``text`` is exactly the normalized
    form of a primitive document with one key (its default key, also its only authentication key) and
    one proof by it, every string plain ASCII that needs no escape; ``None`` for any other text.

    The checks make the full algorithm's outcome certain: the text equals its own canonical writing
    (so it has no duplicate member, no whitespace, no escape and no other member), every string has the
    shape the full parser accepts unchanged, the key decodes and its address is the subject's id (so it
    is the default key), and both dates are valid and written canonically. Anything else (including
    every malformed text) takes the full path, which then raises its own rejection."""
    if len(text) > jsontext.MAX_TEXT_LENGTH or not text.startswith('{"id":"did:elastos:'):
        return None
    try:
        d = json.loads(text)
        key, = d["publicKey"]
        auth, = d["authentication"]
        proof = d["proof"]
        if (list(d) != _PRIMITIVE_MEMBERS or list(key) != _KEY_MEMBERS or list(proof) != _PROOF_MEMBERS):
            return None
        did_text, kid_text, b58, expires = d["id"], key["id"], key["publicKeyBase58"], d["expires"]
        created, signature = proof["created"], proof["signatureValue"]
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None
    m = _SIMPLE_ID.fullmatch(kid_text) if isinstance(kid_text, str) else None
    if (m is None or did_text != f"did:elastos:{m.group(1)}" or key["controller"] != did_text or auth != kid_text
            or proof["creator"] != kid_text or key["type"] != DEFAULT_KEY_TYPE or proof["type"] != DEFAULT_KEY_TYPE
            or not isinstance(b58, str) or not _BASE58_TEXT.fullmatch(b58)
            or not isinstance(signature, str) or not _BASE64URL_TEXT.fullmatch(signature)
            or not isinstance(expires, str) or not isinstance(created, str)
            or _DATE.fullmatch(expires) is None or _DATE.fullmatch(created) is None):
        return None
    unsigned = (f'{{"id":"{did_text}","publicKey":[{{"id":"{kid_text}","type":"{DEFAULT_KEY_TYPE}",'
                f'"controller":"{did_text}","publicKeyBase58":"{b58}"}}],"authentication":["{kid_text}"],'
                f'"expires":"{expires}"')
    if unsigned + (f',"proof":{{"type":"{DEFAULT_KEY_TYPE}","created":"{created}","creator":"{kid_text}",'
                   f'"signatureValue":"{signature}"}}}}') != text:
        return None
    try:
        pub = keys.public_key_from_base58(b58)
        if keys.did_address(pub) != m.group(1) or format_date(parse_date(expires)) != expires \
                or format_date(parse_date(created)) != created:
            return None
    except Reject:
        return None
    subject = DID(id=m.group(1))
    kid = DIDURL(did=subject, fragment=m.group(2))
    doc = Document(
        subject=subject, public_keys=(PublicKey(id=kid, type=DEFAULT_KEY_TYPE, controller=subject,
                                                public_key_base58=b58),),
        authentication=(kid,), expires=expires,
        proofs=(Proof(type=DEFAULT_KEY_TYPE, created=created, creator=kid, signature=signature),), default_key=kid)
    # the text is the normalized form, so the signed bytes are its members before the proof (all ASCII)
    doc.__pydantic_private__["_signed"] = (unsigned + "}").encode("ascii")
    return doc


def parse_document_full(text: str, resolve: Resolver | None = None) -> Document:
    """:func:`parse_document`, every form, every rule: the normative algorithm."""
    d = _obj(jsontext.parse(text), "document", ("id", "expires", "proof"), _DOC_MEMBERS)
    subject = _did(d["id"], "id")
    context = None
    if _opt(d, "@context") is not None:
        context = tuple(_str(x, "@context") for x in _list(d["@context"], "@context", wrap=True))

    controllers: list[DID] = []
    if _opt(d, "controller") is not None:
        for c in _list(d["controller"], "controller", wrap=True):
            did = _did(c, "controller")
            # [DOC-011] controllers are distinct and not the subject
            if did == subject or did in controllers:
                raise DecodeError(Reason.DOC_CONTROLLER, "DOC-011", f"invalid controller {did}")
            controllers.append(did)
    controllers.sort()
    multisig = _multisig(_opt(d, "multisig"), len(controllers))

    found: dict[DIDURL, PublicKey] = {}

    def add_key(k: PublicKey) -> None:
        # [DOC-004] key ids are distinct
        if k.id in found:
            raise DecodeError(Reason.DOC_DUPLICATE_ID, "DOC-004", f"Public key already exists: {k.id}")
        found[k.id] = k

    for i, v in enumerate(_items(d, "publicKey")):
        add_key(_key(v, f"publicKey[{i}]", subject))
    refs: dict[str, list[DIDURL]] = {"authentication": [], "authorization": []}
    for member in refs:
        for i, v in enumerate(_items(d, member)):
            where = f"{member}[{i}]"
            if isinstance(v, dict):
                k = _key(v, where, subject)
                # [DOC-008] an embedded authorization key names a controller other than the subject
                if member == "authorization" and (_opt(v, "controller") is None or k.controller == subject):
                    raise DecodeError(Reason.DOC_KEY_CONTROLLER, "DOC-008", f"{where}: controller {k.controller}")
                add_key(k)
                refs[member].append(k.id)
            else:
                refs[member].append(_url(v, where, subject))
    for member, ids in refs.items():
        for kid in ids:
            # [DOC-005] a reference names a key of the document
            if kid not in found:
                raise DecodeError(Reason.DOC_UNKNOWN_KEY, "DOC-005", f"{member}: no key {kid}")
    public_keys = tuple(sorted(found.values(), key=lambda k: k.id))

    default_key = None
    for k in public_keys:
        if k.controller == subject and keys.did_address(k.public_key) == subject.id:
            default_key = k.id
            break
    # [DOC-009] a document without controllers has a default key
    if default_key is None and not controllers:
        raise DecodeError(Reason.DOC_NO_DEFAULT_KEY, "DOC-009", "Missing default public key.")
    auth = set(refs["authentication"])
    if default_key is not None:
        auth.add(default_key)

    credentials: dict[DIDURL, Credential] = {}
    for i, v in enumerate(_items(d, "verifiableCredential")):
        vc = _credential(v, f"verifiableCredential[{i}]", subject)
        # [DOC-004] credential ids are distinct
        if vc.id in credentials:
            raise DecodeError(Reason.DOC_DUPLICATE_ID, "DOC-004", f"credential {vc.id} twice")
        credentials[vc.id] = vc
    services: dict[DIDURL, Service] = {}
    for i, v in enumerate(_items(d, "service")):
        s = _service(v, f"service[{i}]", subject)
        # [DOC-004] service ids are distinct
        if s.id in services:
            raise DecodeError(Reason.DOC_DUPLICATE_ID, "DOC-004", f"service {s.id} twice")
        services[s.id] = s

    expires = _date(d["expires"], "expires")
    proofs = _proofs(d["proof"], subject, controllers, default_key, resolve)
    return Document(
        context=context, subject=subject, controllers=tuple(controllers), multisig=multisig,
        public_keys=public_keys, authentication=tuple(sorted(auth)), authorization=tuple(sorted(set(refs["authorization"]))),
        credentials=tuple(credentials[k] for k in sorted(credentials)),
        services=tuple(services[k] for k in sorted(services)),
        expires=expires, proofs=proofs, default_key=default_key,
    )


def _proofs(v: Any, subject: DID, controllers: list[DID], default_key: DIDURL | None,
            resolve: Resolver | None) -> tuple[Proof, ...]:
    items = _list(v, "proof", wrap=True)
    # [DOC-001] at least one proof
    if not items:
        raise DecodeError(Reason.DOC_MALFORMED, "DOC-001", _at("proof", "no proof"))
    base: DID | None = subject if default_key is not None else (controllers[0] if len(controllers) == 1 else None)
    out: list[Proof] = []
    signers: set[DID] = set()
    for i, x in enumerate(items):
        where = f"proof[{i}]"
        p = _obj(x, where, ("created", "signatureValue"), ("type", "created", "creator", "signatureValue"))
        creator: DIDURL | None = None
        if _opt(p, "creator") is not None:
            creator = parse_did_url(_str(p["creator"], where + ".creator"), base)
        elif default_key is not None:
            creator = default_key
        elif len(controllers) == 1 and resolve is not None:
            cdoc = resolve(controllers[0])
            creator = cdoc.default_key if cdoc is not None else None
        # [DOC-007] every proof has a creator, with a DID
        if creator is None or creator.did is None or creator.fragment is None:
            raise DecodeError(Reason.DOC_PROOF, "DOC-007", f"{where}: Missing creator key")
        # [DOC-007] one proof per signer
        if creator.did in signers:
            raise DecodeError(Reason.DOC_PROOF, "DOC-007", f"{where}: a second proof from {creator.did}")
        signers.add(creator.did)
        out.append(Proof(type=_str(_or(_opt(p, "type"), DEFAULT_KEY_TYPE), where + ".type"),
                         created=_date(p["created"], where + ".created"), creator=creator,
                         signature=_str(p["signatureValue"], where + ".signatureValue")))
    out.sort(key=lambda p: (parse_date(p.created), _java_key(str(p.creator))))
    return tuple(out)


# -- the two text forms ----------------------------------------------------------------------------


def _credential_json(vc: Credential, normalized: bool) -> dict[str, Any]:
    ctx = None if normalized else vc.subject_id
    out: dict[str, Any] = {}
    if vc.context is not None:
        out["@context"] = list(vc.context)
    out["id"] = vc.id.to_string(ctx)
    out["type"] = list(vc.types)
    if normalized or vc.issuer != vc.subject_id:
        out["issuer"] = str(vc.issuer)
    out["issuanceDate"] = vc.issuance_date
    out["expirationDate"] = vc.expiration_date
    out["credentialSubject"] = {"id": str(vc.subject_id), **dict(vc.subject)}
    proof: dict[str, Any] = {}
    if normalized or vc.proof.type != DEFAULT_KEY_TYPE:
        proof["type"] = vc.proof.type
    if vc.proof.created is not None:
        proof["created"] = vc.proof.created
    proof["verificationMethod"] = vc.proof.verification_method.to_string(ctx)
    proof["signature"] = vc.proof.signature
    out["proof"] = proof
    return out


def to_json(doc: Document, normalized: bool, *, with_proof: bool = True) -> dict[str, Any]:
    """The document as an ordered JSON object, in the normalized or compact form."""
    ctx = None if normalized else doc.subject
    out: dict[str, Any] = {}
    if doc.context is not None:
        out["@context"] = list(doc.context)
    out["id"] = str(doc.subject)
    if doc.controllers:
        cs = [str(c) for c in doc.controllers]
        out["controller"] = cs[0] if len(cs) == 1 else cs
    if doc.multisig is not None:
        out["multisig"] = f"{doc.multisig[0]}:{doc.multisig[1]}"
    if doc.public_keys:
        key_list = []
        for k in doc.public_keys:
            kj: dict[str, Any] = {"id": k.id.to_string(ctx)}
            if normalized or k.type != DEFAULT_KEY_TYPE:
                kj["type"] = k.type
            if normalized or k.controller != doc.subject:
                kj["controller"] = str(k.controller)
            kj["publicKeyBase58"] = k.public_key_base58
            key_list.append(kj)
        out["publicKey"] = key_list
    if doc.authentication:
        out["authentication"] = [u.to_string(ctx) for u in doc.authentication]
    if doc.authorization:
        out["authorization"] = [u.to_string(ctx) for u in doc.authorization]
    if doc.credentials:
        out["verifiableCredential"] = [_credential_json(vc, normalized) for vc in doc.credentials]
    if doc.services:
        out["service"] = [{"id": s.id.to_string(ctx), "type": s.type, "serviceEndpoint": s.endpoint, **dict(s.extra)}
                          for s in doc.services]
    out["expires"] = doc.expires
    if with_proof:
        proofs = []
        for p in doc.proofs:
            pj: dict[str, Any] = {}
            if normalized or p.type != DEFAULT_KEY_TYPE:
                pj["type"] = p.type
            pj["created"] = p.created
            pj["creator"] = p.creator.to_string(ctx)
            pj["signatureValue"] = p.signature
            proofs.append(pj)
        out["proof"] = proofs[0] if len(proofs) == 1 else proofs
    return out


def normalized(doc: Document) -> str:
    """``toString(true)``: the normalized form."""
    return jsontext.serialize(to_json(doc, True))


def compact(doc: Document) -> str:
    """``toString(false)``: the compact form."""
    return jsontext.serialize(to_json(doc, False))


def signed_bytes(doc: Document) -> bytes:
    """What every proof of the document signs: the normalized form without ``proof``, UTF-8
    (:func:`signed_bytes_full`, remembered on the document)."""
    memo = doc.__pydantic_private__["_signed"]
    if memo is None:
        memo = doc.__pydantic_private__["_signed"] = signed_bytes_full(doc)
    return memo


def signed_bytes_full(doc: Document) -> bytes:
    """The normalized form of ``doc`` without ``proof``, UTF-8, written from the document."""
    return jsontext.serialize(to_json(doc, True, with_proof=False)).encode("utf-8")


# -- verification ----------------------------------------------------------------------------------


def _b64url(text: str) -> bytes | None:
    if not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", text):
        return None
    body = text.rstrip("=")
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return None


def verify_proof(key: PublicKey, message: bytes, proof_type: str, signature: str) -> bool:
    """A proof's signature (base64url of r||s) over ``message`` by ``key``."""
    sig = _b64url(signature)
    if proof_type != DEFAULT_KEY_TYPE or sig is None or len(sig) != p256.SIGNATURE_SIZE:
        return False
    try:
        p256.ecdsa_verify(key.public_key, message, sig)
    except Reject:
        return False
    return True


def is_genuine(doc: Document, resolve: Resolver | None = None) -> bool:
    """``DIDDocument.isGenuine``: the proofs are by the right keys and verify.

    A primitive document has exactly one proof, by its default key. A customized document has
    ``m`` proofs (1 with a single controller), each by the default key of a distinct controller,
    and every controller document (from ``resolve``) is itself genuine.
    """
    message = signed_bytes(doc)
    if not doc.customized:
        if len(doc.proofs) != 1 or doc.proofs[0].creator != doc.default_key:
            return False
        key = doc.key(doc.proofs[0].creator)
        return key is not None and verify_proof(key, message, doc.proofs[0].type, doc.proofs[0].signature)
    need = doc.multisig[0] if doc.multisig is not None else 1
    if len(doc.proofs) != need or resolve is None:
        return False
    for p in doc.proofs:
        if p.creator.did not in doc.controllers:
            return False
        cdoc = resolve(p.creator.did)  # type: ignore[arg-type]
        if cdoc is None or cdoc.customized or p.creator != cdoc.default_key or not is_genuine(cdoc, resolve):
            return False
        key = cdoc.key(p.creator)
        if key is None or not verify_proof(key, message, p.type, p.signature):
            return False
    return True


def is_expired(doc: Document, now: int) -> bool:
    """``now`` is after ``expires``."""
    return now > parse_date(doc.expires)


def is_valid(doc: Document, now: int | None, resolve: Resolver | None = None) -> bool:
    """Genuine and, when ``now`` is given, neither the document nor a controller is expired.

    Deactivation is chain state and is not part of this check.
    """
    if not is_genuine(doc, resolve):
        return False
    if now is None:
        return True
    if is_expired(doc, now):
        return False
    for c in doc.controllers:
        cdoc = resolve(c) if resolve is not None else None
        if cdoc is None or is_expired(cdoc, now):
            return False
    return True


def resolver_from_texts(texts: Mapping[str, str]) -> Resolver:
    """A resolver over document texts keyed by DID string; a text that does not parse resolves to None."""
    cache: dict[str, Document | None] = {}

    def resolve(did: DID) -> Document | None:
        key = str(did)
        if key not in cache:
            cache[key] = None
            text = texts.get(key)
            if text is not None:
                try:
                    cache[key] = parse_document(text, resolve)
                except Reject:
                    cache[key] = None
        return cache[key]

    return resolve
