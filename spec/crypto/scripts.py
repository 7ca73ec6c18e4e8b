"""Redeem scripts, program hashes, and the signature checks of programs.

A *program* is a pair ``(code, parameter)``: ``code`` is the redeem script whose hash160 the
output's program hash commits to, ``parameter`` holds the signatures. Upstream:
``Elastos.ELA/core/contract/*.go``, ``crypto/common.go``, ``crypto/crypto.go``,
``blockchain/validation.go``.

Script layouts
--------------

============  =======================================================  =====================
kind          bytes                                                    program-hash prefix
============  =======================================================  =====================
standard      ``21 <pk33> AC``  (35 bytes)                             ``0x21``
multisig      ``(50+m) {21 <pk33>}*n (50+n) AE``                       ``0x12``
cross-chain   ``(50+m) {21 <pk33>}*n (50+n) AF``  (the arbiters' one)  ``0x4B``
============  =======================================================  =====================

In a multisig script the keys are sorted ascending by their X coordinate read as an integer
(``crypto.SortPublicKeys``); keys with the same X (a point and its negation) are ordered by their
compressed bytes, which upstream leaves to an unstable sort (Deviation: the tie is unspecified there).

A signature push in a parameter is ``40 || r || s`` (65 bytes).
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import Field

from spec.crypto.p256 import PUBLIC_KEY_SIZE, check_public_key, ecdsa_verify
from spec.encoding.address import PREFIX_CROSSCHAIN, PREFIX_MULTISIG, PREFIX_STANDARD
from spec.encoding.hashes import Uint168
from spec.errors import DecodeError, Reason, Reject, rule
from spec.model import SpecModel

OP_CHECKSIG: Final = 0xAC
OP_CHECKMULTISIG: Final = 0xAE
OP_CROSSCHAIN: Final = 0xAF
OP_PUSH_BASE: Final = 0x50
"""``OP_1`` is ``0x51``: a small number k is pushed as ``0x50 + k``."""
PUSH_PUBKEY: Final = 0x21
PUSH_SIGNATURE: Final = 0x40
STANDARD_SCRIPT_SIZE: Final = 35
SIGNATURE_PUSH_SIZE: Final = 65
MIN_MULTISIG_SCRIPT_SIZE: Final = 71
"""``crypto.MinMultiSignCodeLength``: m, two keys, n, opcode."""
MULTISIG_MAX_N: Final = 16

ScriptKind = Literal["standard", "multisig", "crosschain"]
PREFIX_OF_KIND: Final[dict[str, int]] = {
    "standard": PREFIX_STANDARD,
    "multisig": PREFIX_MULTISIG,
    "crosschain": PREFIX_CROSSCHAIN,
}

R_M_N = rule(
    "CRY-020", Reason.MULTISIG_BAD_M_N,
    "A multisig or cross-chain script has 1 <= m <= n and 2 <= n <= 16.",
    suite="crypto", upstream="CheckMultiSigSignatures: \"invalid multi sign script code\"",
    note="Quirk and Deviation: upstream's builder also makes n = 1 scripts (too short for "
    "ParseMultisigScript, so never spendable) and n up to 24 (m and n above 16 become data pushes "
    "that the verifier misreads); the spec makes and accepts only scripts that verify.",
)
R_SCRIPT = rule(
    "CRY-021", Reason.SCRIPT_MALFORMED,
    "A redeem script is a standard script, or a multisig or cross-chain script of at least 71 "
    "bytes made of m, n pushes of 33-byte keys, n and the opcode.",
    suite="crypto", upstream="ParseMultisigScript: \"not a valid multi sign transaction code\"",
    note="Deviation: upstream reads each key as a 34-byte chunk and ignores its push byte; the spec "
    "requires 0x21 there, as every upstream builder writes it.",
)
R_STD_PARAM = rule(
    "CRY-022", Reason.PARAMETER_LENGTH,
    "The parameter of a standard program is one 65-byte signature push.",
    suite="crypto", upstream="CheckStandardSignature: \"invalid signature length\"",
    note="Quirk: the push byte (0x40) is not checked; only parameter[1:] is read.",
)
R_MULTI_PARAM = rule(
    "CRY-023", Reason.PARAMETER_LENGTH,
    "The parameter of a multisig program is a whole number of 65-byte signature pushes.",
    suite="crypto", upstream="VerifyMultisigSignatures: \"invalid multi sign signatures, length not match\"",
)
R_MULTI_MIN = rule(
    "CRY-024", Reason.NOT_ENOUGH_SIGNATURES,
    "A multisig program carries at least m signatures.",
    suite="crypto", upstream="VerifyMultisigSignatures: \"invalid signatures, not enough signatures\"",
)
R_MULTI_MAX = rule(
    "CRY-025", Reason.TOO_MANY_SIGNATURES,
    "A multisig program carries at most n signatures.",
    suite="crypto", upstream="VerifyMultisigSignatures: \"invalid signatures, too many signatures\"",
)
R_MULTI_DUP = rule(
    "CRY-026", Reason.DUPLICATE_SIGNATURE,
    "No two signatures of a multisig program match the same key.",
    suite="crypto", upstream="VerifyMultisigSignatures: \"duplicated signatures\"",
)
R_MULTI_MATCHED = rule(
    "CRY-027", Reason.NOT_ENOUGH_SIGNATURES,
    "At least m signatures of a multisig program each verify under a distinct key of the script.",
    suite="crypto", upstream="VerifyMultisigSignatures: \"matched signatures not enough\"",
    note="Quirk: a signature that matches no key is skipped, not rejected, as long as m others match.",
)


class RedeemScript(SpecModel):
    """A parsed redeem script."""

    kind: ScriptKind
    """``standard``, ``multisig`` or ``crosschain``."""
    m: int
    """Signatures required (1 for a standard script)."""
    public_keys: tuple[Annotated[bytes, Field(min_length=PUBLIC_KEY_SIZE, max_length=PUBLIC_KEY_SIZE)], ...]
    """The compressed keys in script order."""

    @property
    def n(self) -> int:
        return len(self.public_keys)


def _check_m_n(m: int, n: int) -> None:
    # [CRY-020] a multisig script has 1 <= m <= n and 2 <= n <= 16
    if not (1 <= m <= n and 2 <= n <= MULTISIG_MAX_N):
        raise Reject(Reason.MULTISIG_BAD_M_N, "CRY-020", f"m={m}, n={n}")


def sort_public_keys(public_keys: list[bytes]) -> list[bytes]:
    """Ascending by X as an integer, ties by the compressed bytes."""
    for pk in public_keys:
        check_public_key(pk)
    return sorted(public_keys, key=lambda pk: (int.from_bytes(pk[1:], "big"), pk))


def standard_redeem_script(public_key: bytes) -> bytes:
    """``21 <pk33> AC``."""
    check_public_key(public_key)
    return bytes((PUSH_PUBKEY,)) + public_key + bytes((OP_CHECKSIG,))


def multisig_redeem_script(m: int, public_keys: list[bytes], kind: ScriptKind = "multisig") -> bytes:
    """``(50+m) {21 pk}*n (50+n) AE`` (``AF`` for the cross-chain script), keys sorted by X."""
    _check_m_n(m, len(public_keys))
    keys = sort_public_keys(list(public_keys))
    op = OP_CROSSCHAIN if kind == "crosschain" else OP_CHECKMULTISIG
    body = b"".join(bytes((PUSH_PUBKEY,)) + pk for pk in keys)
    return bytes((OP_PUSH_BASE + m,)) + body + bytes((OP_PUSH_BASE + len(keys), op))


def parse_redeem_script(code: bytes) -> RedeemScript:
    """Parse a standard, multisig or cross-chain redeem script; every key must decode."""
    if len(code) == STANDARD_SCRIPT_SIZE and code[0] == PUSH_PUBKEY and code[-1] == OP_CHECKSIG:
        check_public_key(code[1:34])
        return RedeemScript(kind="standard", m=1, public_keys=(code[1:34],))
    # [CRY-021] otherwise a multisig or cross-chain script of at least 71 bytes
    if (
        len(code) < MIN_MULTISIG_SCRIPT_SIZE
        or code[-1] not in (OP_CHECKMULTISIG, OP_CROSSCHAIN)
        or (len(code) - 3) % (PUBLIC_KEY_SIZE + 1) != 0
    ):
        raise DecodeError(Reason.SCRIPT_MALFORMED, "CRY-021", f"{len(code)}-byte code is no known script")
    m, n = code[0] - OP_PUSH_BASE, code[-2] - OP_PUSH_BASE
    count = (len(code) - 3) // (PUBLIC_KEY_SIZE + 1)
    try:
        _check_m_n(m, n)
    except Reject as e:
        raise DecodeError(e.reason, e.rule, e.detail) from None
    keys = []
    for i in range(count):
        chunk = code[1 + 34 * i: 1 + 34 * (i + 1)]
        # [CRY-021] n pushes of 33-byte keys, n equal to the key count
        if chunk[0] != PUSH_PUBKEY or count != n:
            raise DecodeError(Reason.SCRIPT_MALFORMED, "CRY-021", f"key {i} push or key count {count} != n {n}")
        check_public_key(chunk[1:])
        keys.append(chunk[1:])
    kind: ScriptKind = "crosschain" if code[-1] == OP_CROSSCHAIN else "multisig"
    return RedeemScript(kind=kind, m=m, public_keys=tuple(keys))


def program_hash(code: bytes, prefix: int | None = None) -> Uint168:
    """``prefix || hash160(code)``; the prefix defaults to the one of the script's kind."""
    if prefix is None:
        prefix = PREFIX_OF_KIND[parse_redeem_script(code).kind]
    return Uint168.from_code(prefix, code)


def verify_program(code: bytes, parameter: bytes, message: bytes) -> RedeemScript:
    """Check the signatures of a program over ``message`` (the unsigned transaction bytes).

    Returns the parsed script when the program is satisfied; raises otherwise. Which programs a
    transaction needs, and the prefix dispatch, are the chain's rules.
    """
    return verify_script(parse_redeem_script(code), parameter, message)


def verify_script(script: RedeemScript, parameter: bytes, message: bytes) -> RedeemScript:
    """:func:`verify_program` for a script already parsed by :func:`parse_redeem_script`."""
    if script.kind == "standard":
        # [CRY-022] one 65-byte signature push
        if len(parameter) != SIGNATURE_PUSH_SIZE:
            raise Reject(Reason.PARAMETER_LENGTH, "CRY-022", f"{len(parameter)}-byte parameter")
        ecdsa_verify(script.public_keys[0], message, parameter[1:])
        return script
    # [CRY-023] a whole number of 65-byte signature pushes
    if len(parameter) % SIGNATURE_PUSH_SIZE != 0:
        raise Reject(Reason.PARAMETER_LENGTH, "CRY-023", f"{len(parameter)} is not a multiple of 65")
    count = len(parameter) // SIGNATURE_PUSH_SIZE
    # [CRY-024] at least m signatures
    if count < script.m:
        raise Reject(Reason.NOT_ENOUGH_SIGNATURES, "CRY-024", f"{count} signatures, m = {script.m}")
    # [CRY-025] at most n signatures
    if count > script.n:
        raise Reject(Reason.TOO_MANY_SIGNATURES, "CRY-025", f"{count} signatures, n = {script.n}")
    matched: set[bytes] = set()
    for i in range(count):
        signature = parameter[i * SIGNATURE_PUSH_SIZE + 1:(i + 1) * SIGNATURE_PUSH_SIZE]
        for key in script.public_keys:
            try:
                ecdsa_verify(key, message, signature)
            except Reject:
                continue
            # [CRY-026] no two signatures match the same key
            if key in matched:
                raise Reject(Reason.DUPLICATE_SIGNATURE, "CRY-026", f"signature {i} repeats a key")
            matched.add(key)
            break
    # [CRY-027] at least m signatures verify under distinct keys
    if len(matched) < script.m:
        raise Reject(Reason.NOT_ENOUGH_SIGNATURES, "CRY-027", f"{len(matched)} keys matched, m = {script.m}")
    return script
