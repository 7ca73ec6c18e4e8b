"""``elastos did`` end to end against a real ID-chain service on loopback; outcomes are checked from
outside, through the service's JSON-RPC, not from the command's output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from spec.did import keys

from reference.cli import main as elastos
from reference.idchain.rpc import RpcServer
from reference.idchain.service import IdChainService
from reference.node.rpc import RpcClient

MNEMONIC = "amateur file dignity extend cabin jaguar early electric ask video happy access"
PASSPHRASE = "secret"
SDK_DIDS = ["did:elastos:imUUPBfrZ1yZx6nWXe6LNN59VeX2E6PPKj", "did:elastos:iXcRhYB38gMt1phi5JXJMjeXL2TL8cg58y",
            "did:elastos:idwuEMccSpsTH4ZqrhuHqg6y8XMVQAsY5g"]


@pytest.fixture()
def chain(tmp_path: Path) -> Iterator[str]:
    service = IdChainService(tmp_path / "idchain")
    server = RpcServer(service).start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()
        service.close()


def run(home: Path, url: str, *args: str, password: str = "pw") -> int:
    return elastos(["did", "--home", str(home), "--rpc", url, "--password", password, *args])


def status(url: str, did: str) -> tuple[int, list[str]]:
    r = RpcClient(url).call("did_resolveDID", {"did": did, "all": True})
    return r["status"], [t["operation"]["header"]["operation"] for t in r.get("transaction", [])]


def test_did_lifecycle_through_the_cli(tmp_path: Path, chain: str, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "wallet"
    assert run(home, chain, "init", "--mnemonic", MNEMONIC, "--passphrase", PASSPHRASE) == 0
    assert "secret" not in (home / "identity.json").read_text() and MNEMONIC not in (home / "identity.json").read_text()
    for _ in range(3):
        assert run(home, chain, "new") == 0
    for did in SDK_DIDS:
        assert status(chain, did) == (0, ["create"])

    # update: a service; the chain now lists update then create, newest first
    assert run(home, chain, "update", SDK_DIDS[0], "--add-service", "vault", "HiveVault", "https://hive.example/") == 0
    assert status(chain, SDK_DIDS[0]) == (0, ["update", "create"])
    capsys.readouterr()
    assert run(home, chain, "resolve", SDK_DIDS[0]) == 0
    assert "https://hive.example/" in capsys.readouterr().out

    # a customized 2:3 DID, then an update that needs two controller proofs, then a transfer
    assert run(home, chain, "customized", "examplegroup", "--multisig", "2",
               "--controller", SDK_DIDS[0], "--controller", SDK_DIDS[1], "--controller", SDK_DIDS[2]) == 0
    assert status(chain, "did:elastos:examplegroup") == (0, ["create"])
    assert run(home, chain, "update", "did:elastos:examplegroup", "--add-service", "web", "Website", "https://x/") == 0
    assert run(home, chain, "transfer", "examplegroup", "--to", SDK_DIDS[2]) == 0
    assert status(chain, "did:elastos:examplegroup") == (0, ["transfer", "update", "create"])
    doc = RpcClient(chain).call("did_resolveDID", {"did": "did:elastos:examplegroup", "all": False})
    assert doc["transaction"][0]["operation"]["header"]["operation"] == "transfer"

    # a credential: issue, verify, declare, present, revoke
    vc = tmp_path / "vc.json"
    assert run(home, chain, "issue", "--issuer", SDK_DIDS[0], "--subject", SDK_DIDS[1], "--id", "email",
               "--type", "EmailCredential", "--prop", "email=ann@example.com", "--out", str(vc)) == 0
    assert run(home, chain, "verify", str(vc)) == 0
    assert run(home, chain, "declare", str(vc)) == 0
    assert RpcClient(chain).call("did_resolveCredential", {"id": f"{SDK_DIDS[1]}#email"})["status"] == 0
    vp = tmp_path / "vp.json"
    assert run(home, chain, "present", "--holder", SDK_DIDS[1], "--realm", "https://vault/", "--nonce", "n1",
               "--out", str(vp), str(vc)) == 0
    capsys.readouterr()
    assert run(home, chain, "verify", str(vp)) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"kind": "presentation", "genuine": True,
                                                                            "valid": True}
    tampered = tmp_path / "vp-bad.json"
    tampered.write_text(vp.read_text().replace('"nonce":"n1"', '"nonce":"n2"'))
    assert run(home, chain, "verify", str(tampered)) == 1
    assert run(home, chain, "revoke", f"{SDK_DIDS[1]}#email", "--signer", SDK_DIDS[0]) == 0
    assert RpcClient(chain).call("did_resolveCredential", {"id": f"{SDK_DIDS[1]}#email"})["status"] == 2
    assert run(home, chain, "verify", str(vc)) == 1  # revoked

    # deactivate is final: a later update is refused and changes nothing
    assert run(home, chain, "deactivate", SDK_DIDS[1]) == 0
    assert status(chain, SDK_DIDS[1]) == (2, ["deactivate", "create"])
    capsys.readouterr()
    assert run(home, chain, "update", SDK_DIDS[1], "--add-service", "a", "B", "c") == 1
    assert "deactivated" in capsys.readouterr().err
    assert status(chain, SDK_DIDS[1]) == (2, ["deactivate", "create"])


def test_app_scoped_did_and_refusals(tmp_path: Path, chain: str, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "wallet"
    assert run(home, chain, "init", "--mnemonic", MNEMONIC, "--passphrase", PASSPHRASE) == 0
    assert run(home, chain, "init", "--mnemonic", MNEMONIC) == 1  # never overwrites a wallet
    assert run(home, chain, "new", "--app", "com.example.notes", "--code", "1234") == 0
    pre = keys.pre_derived_key(MNEMONIC, PASSPHRASE)
    app_did = str(keys.did_from_public_key(keys.derive_app_key(pre, "com.example.notes", 1234).public_key))
    assert status(chain, app_did) == (0, ["create"])
    capsys.readouterr()
    assert run(home, chain, "list", password="wrong") == 0  # listing needs no password
    assert app_did in capsys.readouterr().out
    assert run(home, chain, "update", app_did, "--add-service", "a", "B", "c", password="wrong") == 1
    assert "wrong wallet password" in capsys.readouterr().err
    # an expiry beyond five years is refused by the builder before anything is published
    assert run(home, chain, "update", app_did, "--expires", str(4_000_000_000)) == 1
    assert "BUILDER_EXPIRES [BLD-001]" in capsys.readouterr().err
    assert status(chain, app_did) == (0, ["create"])
    # a bad mnemonic is refused with its reason
    assert run(tmp_path / "other", chain, "init", "--mnemonic", "abandon " * 11 + "abandon") == 1
    assert "MNEMONIC_CHECKSUM" in capsys.readouterr().err
    assert not (tmp_path / "other" / "identity.json").exists()
