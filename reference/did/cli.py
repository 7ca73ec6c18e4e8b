"""``elastos did``: a root identity from a mnemonic, DIDs derived from it, and every ID-chain operation.

::

    elastos did [--home DIR] [--rpc URL] [--password PW] COMMAND ...

    init        [--mnemonic M] [--passphrase P] [--language L]   create the wallet (prints a new mnemonic once)
    list                                                          the wallet's DIDs
    derive      --index N | --app ID --code C                     a DID of the root identity (no chain)
    new         [--index N | --app ID --code C]                   create and publish a primitive DID
    customized  NAME --controller DID ... [--multisig M]          create and publish a customized DID
    update      DID [--add-service FRAG TYPE URL] [--remove-service FRAG] [--expires UNIX]
    transfer    NAME --to DID                                     hand a customized DID to a new controller
    deactivate  DID
    resolve     DID                                               status, transactions and document
    issue       --issuer DID --subject DID --id FRAG --type T [--prop K=V ...] [--expires UNIX] [--out FILE]
    declare     FILE                                              publish a credential
    revoke      ID [--signer DID]
    present     --holder DID --realm R --nonce N [--out FILE] FILE ...
    verify      FILE [--now UNIX]                                 a document, credential, presentation or ticket

The password comes from ``--password`` or ``ELASTOS_DID_PASSWORD``, the wallet folder from ``--home`` or
``ELASTOS_DID_HOME`` (default ``~/.elastos/did``), the ID-chain endpoint from ``--rpc`` or
``ELASTOS_IDCHAIN_RPC``. A rejection prints ``error: REASON [RULE]: detail`` and exits with 1; nothing is
published and the wallet is unchanged.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets as rnd
import sys
import time
from pathlib import Path
from typing import Any

from spec.did import builder as B
from spec.did import credential as C
from spec.did import document as D
from spec.did import jsontext, keys
from spec.did import presentation as P
from spec.did import request as R
from spec.did import ticket as T
from spec.did.syntax import DID, DIDURL, parse_did, parse_did_url
from spec.errors import Reject

from reference.did.client import ChainClient
from reference.did.wallet import Secrets, Wallet, WalletError
from reference.node.rpc import RpcError


class CliError(Exception):
    pass


def _now() -> int:
    return int(time.time())


class Context:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.home = Path(args.home or os.environ.get("ELASTOS_DID_HOME") or Path.home() / ".elastos" / "did")
        self._wallet: Wallet | None = None
        self._secrets: Secrets | None = None
        self._client: ChainClient | None = None

    @property
    def password(self) -> str:
        pw = self.args.password or os.environ.get("ELASTOS_DID_PASSWORD")
        if not pw:
            raise CliError("a wallet password is needed (--password or ELASTOS_DID_PASSWORD)")
        return pw

    @property
    def wallet(self) -> Wallet:
        if self._wallet is None:
            self._wallet = Wallet(self.home)
        return self._wallet

    @property
    def secrets(self) -> Secrets:
        if self._secrets is None:
            self._secrets = self.wallet.unlock(self.password)
        return self._secrets

    @property
    def chain(self) -> ChainClient:
        if self._client is None:
            url = self.args.rpc or os.environ.get("ELASTOS_IDCHAIN_RPC")
            if not url:
                raise CliError("an ID-chain endpoint is needed (--rpc URL or ELASTOS_IDCHAIN_RPC)")
            self._client = ChainClient(url)
        return self._client

    # -- keys -----------------------------------------------------------------------------------

    def primary(self, did: DID) -> tuple[DIDURL, bytes]:
        """The default key of a primitive wallet DID and its private key."""
        return parse_did_url(f"{did}#{B.PRIMARY}"), self.wallet.private_key(self.secrets, did)

    def controller_signers(self, controllers: tuple[DID, ...] | list[DID], need: int) -> list[tuple[DIDURL, bytes]]:
        """``need`` of ``controllers`` that this wallet holds, as (default key, private key)."""
        out = [self.primary(c) for c in sorted(controllers) if self.wallet.has(c)]
        if len(out) < need:
            raise CliError(f"{need} controller signatures are needed; this wallet holds {len(out)}")
        return out[:need]

    def request_signer(self, doc: D.Document) -> tuple[DIDURL, bytes]:
        """Who signs a request about ``doc``: its default key, or a wallet controller's."""
        if not doc.customized:
            return self.primary(doc.subject)
        return self.controller_signers(doc.controllers, 1)[0]

    def current(self, did: DID) -> tuple[D.Document, str]:
        r = self.chain.resolve(did)
        if r.document is None or r.last_txid is None:
            raise CliError(f"{did} is not on the ID chain")
        if r.status == 2:
            raise CliError(f"{did} is deactivated")
        return r.document, r.last_txid


def _sign_all(doc_draft: dict[str, Any], signers: list[tuple[DIDURL, bytes]], resolve: D.Resolver) -> D.Document:
    first, *rest = signers
    doc = B.seal_document(doc_draft, now=_now(), signer=first[0], private_key=first[1], resolve=resolve)
    for url, key in rest:
        doc = B.cosign_document(doc, now=_now(), signer=url, private_key=key, resolve=resolve)
    return doc


def _publish(ctx: Context, op: str, payload: str, signer: tuple[DIDURL, bytes], **extra: Any) -> str:
    req = R.build_request(op, payload, signer[0], signer[1], **extra)  # type: ignore[arg-type]
    txid = ctx.chain.publish(req)
    print(f"{op}: published txid {txid}")
    return txid


# -- commands ------------------------------------------------------------------------------------


def cmd_init(ctx: Context, a: argparse.Namespace) -> int:
    mnemonic = a.mnemonic
    if mnemonic is None:
        mnemonic = keys.entropy_to_mnemonic(rnd.token_bytes(16), a.language)
        print("new mnemonic (write it down; it is shown once):")
        print(f"  {mnemonic}")
    w = Wallet.create(ctx.home, mnemonic, a.passphrase, ctx.password)
    print(f"root identity {w.data['root_id']} in {ctx.home}")
    return 0


def cmd_list(ctx: Context, a: argparse.Namespace) -> int:
    for did, e in sorted(ctx.wallet.dids().items()):
        where = f"index {e['index']}" if "index" in e else (f"app {e['app'][0]!r} code {e['app'][1]}"
                                                             if "app" in e else "customized")
        print(f"{did}  {where}  {e.get('state', '')}".rstrip())
    return 0


def _derived(ctx: Context, a: argparse.Namespace) -> tuple[keys.ExtendedKey, int | None, tuple[str, int] | None]:
    if a.app is not None:
        if a.code is None:
            raise CliError("--app needs --code")
        return keys.derive_app_key(ctx.wallet.pre_derived, a.app, a.code), None, (a.app, a.code)
    index = ctx.wallet.reserve_index() if a.index is None else a.index
    return keys.derive_child(keys.derive_child(ctx.wallet.pre_derived, 0), index), index, None


def cmd_derive(ctx: Context, a: argparse.Namespace) -> int:
    key, _, _ = _derived(ctx, a)
    print(f"{keys.did_from_public_key(key.public_key)} {key.public_key.hex()}")
    return 0


def cmd_new(ctx: Context, a: argparse.Namespace) -> int:
    key, index, app = _derived(ctx, a)
    did = keys.did_from_public_key(key.public_key)
    ctx.wallet.add_primitive(did, index=index, app=app)
    signer = ctx.primary(did)
    doc = B.seal_document(B.primitive_draft(key.public_key), now=_now(), signer=signer[0], private_key=signer[1])
    _publish(ctx, "create", D.normalized(doc), signer)
    print(did)
    return 0


def cmd_customized(ctx: Context, a: argparse.Namespace) -> int:
    did = parse_did(a.name if a.name.startswith("did:") else f"did:elastos:{a.name}")
    controllers = [parse_did(c) for c in a.controller]
    draft = B.customized_draft(did, controllers, a.multisig if len(controllers) > 1 else None)
    resolve = ctx.chain.resolver()
    signers = ctx.controller_signers(controllers, a.multisig if len(controllers) > 1 and a.multisig else 1)
    doc = _sign_all(draft, signers, resolve)
    ctx.wallet.add_customized(did)
    _publish(ctx, "create", D.normalized(doc), signers[0])
    print(did)
    return 0


def cmd_update(ctx: Context, a: argparse.Namespace) -> int:
    did = parse_did(a.did)
    doc, last = ctx.current(did)
    draft = B.edit_draft(doc)
    services = [s for s in draft.get("service", []) if s["id"].split("#")[-1] not in (a.remove_service or [])]
    for frag, typ, url in a.add_service or []:
        services = [s for s in services if s["id"].split("#")[-1] != frag]
        services.append({"id": f"{did}#{frag}", "type": typ, "serviceEndpoint": url})
    draft["service"] = services
    if not services:
        draft.pop("service")
    draft.pop("expires")
    if a.expires is not None:
        draft["expires"] = D.format_date(a.expires)
    resolve = ctx.chain.resolver()
    need = doc.multisig[0] if doc.multisig is not None else 1
    signers = ctx.controller_signers(doc.controllers, need) if doc.customized else [ctx.primary(did)]
    new = _sign_all(draft, signers, resolve)
    _publish(ctx, "update", D.normalized(new), signers[0], previous_txid=last)
    return 0


def cmd_transfer(ctx: Context, a: argparse.Namespace) -> int:
    did = parse_did(a.name if a.name.startswith("did:") else f"did:elastos:{a.name}")
    to = parse_did(a.to)
    doc, last = ctx.current(did)
    if not doc.customized:
        raise CliError(f"{did} is primitive: only customized DIDs are transferred")
    need = doc.multisig[0] if doc.multisig is not None else 1
    ticket = T.sign_ticket(did, to, last, [(u, k, _now()) for u, k in ctx.controller_signers(doc.controllers, need)])
    draft = B.edit_draft(doc)
    draft["controller"] = [str(to)]
    draft.pop("multisig", None)
    draft.pop("expires")
    resolve = ctx.chain.resolver()
    signer = ctx.primary(to)
    new = _sign_all(draft, [signer], resolve)
    _publish(ctx, "transfer", D.normalized(new), signer, ticket_text=T.normalized(ticket))
    return 0


def cmd_deactivate(ctx: Context, a: argparse.Namespace) -> int:
    did = parse_did(a.did)
    doc, _ = ctx.current(did)
    _publish(ctx, "deactivate", str(did), ctx.request_signer(doc))
    if ctx.wallet.has(did):
        ctx.wallet.set_state(did, state="deactivated")
    return 0


def cmd_resolve(ctx: Context, a: argparse.Namespace) -> int:
    r = ctx.chain.resolve(a.did)
    names = {0: "valid", 1: "expired", 2: "deactivated", 3: "not found"}
    print(f"{r.did} status {r.status} ({names.get(r.status, '?')})")
    for t in r.transactions:
        print(f"  {D.format_date(t.timestamp)} {t.operation:<10} {t.txid}")
    if r.document is not None:
        print(D.normalized(r.document) if a.normalized else D.compact(r.document))
    return 0 if r.status != 3 else 1


def cmd_issue(ctx: Context, a: argparse.Namespace) -> int:
    issuer = parse_did(a.issuer)
    subject = parse_did(a.subject)
    props: dict[str, Any] = {}
    for kv in a.prop or []:
        k, sep, v = kv.partition("=")
        if not sep or not k:
            raise CliError(f"--prop {kv!r}: expected NAME=VALUE")
        try:
            props[k] = jsontext.parse(v)
        except Reject:
            props[k] = v
    issuer_doc, _ = ctx.current(issuer)
    signer = ctx.request_signer(issuer_doc)
    vc = B.issue_credential(parse_did_url(f"{subject}#{a.id}"), subject, a.type, props, issuer_doc=issuer_doc,
                            signer=signer[0], private_key=signer[1], now=_now(), expiration=a.expires,
                            resolve=ctx.chain.resolver())
    _out(a.out, C.normalized(vc))
    return 0


def _out(path: str | None, text: str) -> None:
    if path:
        Path(path).write_text(text + "\n")
        print(f"wrote {path}")
    else:
        print(text)


def cmd_declare(ctx: Context, a: argparse.Namespace) -> int:
    vc = C.parse_credential(Path(a.file).read_text().strip())
    owner_doc, _ = ctx.current(vc.subject_id)
    _publish(ctx, "declare", C.normalized(vc), ctx.request_signer(owner_doc))
    return 0


def cmd_revoke(ctx: Context, a: argparse.Namespace) -> int:
    vc_id = parse_did_url(a.id)
    signer_did = parse_did(a.signer) if a.signer else vc_id.did
    assert signer_did is not None
    doc, _ = ctx.current(signer_did)
    _publish(ctx, "revoke", str(vc_id), ctx.request_signer(doc))
    return 0


def cmd_present(ctx: Context, a: argparse.Namespace) -> int:
    holder = parse_did(a.holder)
    doc, _ = ctx.current(holder)
    vcs = [C.parse_credential(Path(f).read_text().strip()) for f in a.files]
    signer = ctx.request_signer(doc)
    vp = B.create_presentation(doc, vcs, realm=a.realm, nonce=a.nonce, signer=signer[0], private_key=signer[1],
                               now=_now(), resolve=ctx.chain.resolver())
    _out(a.out, P.normalized(vp))
    return 0


def cmd_verify(ctx: Context, a: argparse.Namespace) -> int:
    text = Path(a.file).read_text().strip()
    obj = jsontext.parse(text)
    if not isinstance(obj, dict):
        raise CliError(f"{a.file}: not a JSON object")
    resolve = ctx.chain.resolver()
    now = a.now if a.now is not None else _now()
    if "publicKey" in obj or "controller" in obj or ("expires" in obj and "id" in obj and "proof" in obj
                                                      and "credentialSubject" not in obj and "to" not in obj):
        doc = D.parse_document(text, resolve)
        status = ctx.chain.resolve(doc.subject).status
        kind, genuine, valid = "document", D.is_genuine(doc, resolve), D.is_valid(doc, now, resolve) and status != 2
    elif "credentialSubject" in obj:
        vc = C.parse_credential(text)
        revoked = ctx.chain.credential_status(str(vc.id), str(vc.issuer)) == 2
        kind, genuine, valid = "credential", C.is_genuine(vc, resolve), C.is_valid(vc, now, resolve) and not revoked
    elif "to" in obj and "txid" in obj:
        tk = T.parse_ticket(text)
        kind, genuine, valid = "ticket", T.is_genuine(tk, resolve), T.is_valid(tk, now, resolve)
    else:
        vp = P.parse_presentation(text)
        kind, genuine, valid = "presentation", P.is_genuine(vp, resolve), P.is_valid(vp, now, resolve)
    print(json.dumps({"kind": kind, "genuine": genuine, "valid": valid}))
    return 0 if genuine and valid else 1


# -- parser ----------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="elastos did", description="DIDs on the Elastos ID chain")
    p.add_argument("--home", help="wallet folder (ELASTOS_DID_HOME; default ~/.elastos/did)")
    p.add_argument("--rpc", help="ID-chain JSON-RPC URL (ELASTOS_IDCHAIN_RPC)")
    p.add_argument("--password", help="wallet password (ELASTOS_DID_PASSWORD)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("init", help="create the wallet's root identity")
    s.add_argument("--mnemonic")
    s.add_argument("--passphrase", default="")
    s.add_argument("--language", default="english", choices=keys.LANGUAGES)
    s.set_defaults(fn=cmd_init)
    sub.add_parser("list", help="the wallet's DIDs").set_defaults(fn=cmd_list)
    for name, fn, hlp in (("derive", cmd_derive, "show a derived DID"), ("new", cmd_new, "create a primitive DID")):
        s = sub.add_parser(name, help=hlp)
        s.add_argument("--index", type=int)
        s.add_argument("--app", help="app identifier (app-scoped DID)")
        s.add_argument("--code", type=int, help="security code of an app-scoped DID")
        s.set_defaults(fn=fn)
    s = sub.add_parser("customized", help="create a customized DID")
    s.add_argument("name")
    s.add_argument("--controller", action="append", required=True)
    s.add_argument("--multisig", type=int, help="m of an m:n document (2 or more controllers)")
    s.set_defaults(fn=cmd_customized)
    s = sub.add_parser("update", help="update a DID's document")
    s.add_argument("did")
    s.add_argument("--add-service", nargs=3, action="append", metavar=("FRAG", "TYPE", "URL"))
    s.add_argument("--remove-service", action="append", metavar="FRAG")
    s.add_argument("--expires", type=int, help="Unix time (default: now + 5 years)")
    s.set_defaults(fn=cmd_update)
    s = sub.add_parser("transfer", help="transfer a customized DID")
    s.add_argument("name")
    s.add_argument("--to", required=True)
    s.set_defaults(fn=cmd_transfer)
    s = sub.add_parser("deactivate", help="deactivate a DID (final)")
    s.add_argument("did")
    s.set_defaults(fn=cmd_deactivate)
    s = sub.add_parser("resolve", help="resolve a DID")
    s.add_argument("did")
    s.add_argument("--normalized", action="store_true")
    s.set_defaults(fn=cmd_resolve)
    s = sub.add_parser("issue", help="issue a credential")
    s.add_argument("--issuer", required=True)
    s.add_argument("--subject", required=True)
    s.add_argument("--id", required=True, help="fragment of the credential id")
    s.add_argument("--type", action="append", required=True)
    s.add_argument("--prop", action="append", metavar="NAME=VALUE")
    s.add_argument("--expires", type=int)
    s.add_argument("--out")
    s.set_defaults(fn=cmd_issue)
    s = sub.add_parser("declare", help="declare a credential on the ID chain")
    s.add_argument("file")
    s.set_defaults(fn=cmd_declare)
    s = sub.add_parser("revoke", help="revoke a credential")
    s.add_argument("id")
    s.add_argument("--signer")
    s.set_defaults(fn=cmd_revoke)
    s = sub.add_parser("present", help="create a presentation")
    s.add_argument("--holder", required=True)
    s.add_argument("--realm", required=True)
    s.add_argument("--nonce", required=True)
    s.add_argument("--out")
    s.add_argument("files", nargs="*")
    s.set_defaults(fn=cmd_present)
    s = sub.add_parser("verify", help="verify a document, credential, presentation or ticket")
    s.add_argument("file")
    s.add_argument("--now", type=int)
    s.set_defaults(fn=cmd_verify)
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.fn(Context(args), args))
    except Reject as e:
        print(f"error: {e.reason.value} [{e.rule}]: {e.detail}", file=sys.stderr)
    except RpcError as e:
        print(f"error: {e.reason or 'RPC'}: {e}", file=sys.stderr)
    except (WalletError, CliError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
    return 1


__all__ = ["main", "build_parser"]
