"""Backup through two reference vaults over HTTP: the vault signs in to the backup node with the user's
HiveBackupCredential, sends every partition of the user (encrypted dumps and file bodies), restores them
after a loss, and the backup node promotes the backup to the user's vault there."""

from __future__ import annotations

import time

import pytest

from spec.hive import identity

from reference.hive.client import HiveClient, HiveError
from reference.hive.server import HiveServer, Vault, load_service_key
from reference.hive.store import HiveStore

USER, PHONE = bytes(30) + bytes([12, 1]), bytes(30) + bytes([12, 2])
APP = identity.did_of(bytes(30) + bytes([12, 9]))


@pytest.fixture()
def two_vaults(tmp_path):
    now = int(time.time())
    docs = {identity.did_of(k): identity.primitive_document(k, created=now - 3600, expires=now + 86400)
            for k in (USER, PHONE)}
    vaults, servers, stores = [], [], []
    for name in ("main", "backup"):
        store = HiveStore(tmp_path / name)
        v = Vault(store, load_service_key(tmp_path / name), quota=1 << 20)
        for text in docs.values():
            v.add_document(text)
        vaults.append(v)
        stores.append(store)
        servers.append(HiveServer(v, 0).start())
    main, node = vaults
    for a, b in ((main, node), (node, main)):  # each knows the other's service DID document (the ID chain's job)
        a.add_document(b.store.documents()[b.service.did])
    all_docs = {**docs, **{v.service.did: v.store.documents()[v.service.did] for v in vaults}}

    def client(i: int) -> HiveClient:
        c = HiveClient(f"http://127.0.0.1:{servers[i].port}")
        vc = identity.issue_credential(USER, identity.did_of(PHONE), "app-id-credential", ("AppIdCredential",),
                                       {"appDid": APP}, issued=now - 60, expires=now + 86400)
        c.sign_in(PHONE, vc, now=now, documents=all_docs)
        return c

    credential = identity.issue_credential(
        USER, main.service.did, "backup-credential", ("HiveBackupCredential",),
        {"sourceHiveNodeDID": main.service.did, "targetHiveNodeDID": node.service.did,
         "targetNodeURL": f"http://127.0.0.1:{servers[1].port}"}, issued=now - 60, expires=now + 86400)
    yield client, credential
    for s in servers:
        s.stop()
    for st in stores:
        st.close()


def test_backup_restore_and_promotion(two_vaults):
    client, credential = two_vaults
    alice = client(0)
    alice.request("PUT", "vault/db/collections/notes")
    alice.request("POST", "vault/db/collection/notes", {"document": [{"text": "keep me"}]})
    alice.request("PUT", "vault/files/docs/a.txt?public=true", raw=b"hello world\n")
    out = alice.request("POST", "vault/content?to=hive_node", {"credential": credential})
    assert out["state"] == "done" and out["databases"] == 1 and out["files"] == 1

    # a loss on the main vault, then a restore from the backup node
    alice.request("DELETE", "vault/db/collections/notes")
    alice.request("DELETE", "vault/files/docs/a.txt")
    assert alice.request("POST", "vault/content?from=hive_node", {"credential": credential})["databases"] == 1
    assert [d["text"] for d in alice.request("GET", "vault/db/notes")["items"]] == ["keep me"]
    assert alice.download("docs/a.txt") == b"hello world\n"
    meta = alice.request("GET", "vault/files/docs/a.txt?comp=metadata")
    assert meta["cid"] == "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"

    # the backup node promotes the backup to the user's vault there
    on_node = client(1)
    assert on_node.request("POST", "backup/promotion")["state"] == "promoted"
    assert [d["text"] for d in on_node.request("GET", "vault/db/notes")["items"]] == ["keep me"]
    assert on_node.download("docs/a.txt") == b"hello world\n"
    with pytest.raises(HiveError) as info:
        on_node.request("POST", "backup/promotion")
    assert (info.value.status, info.value.reason) == (409, "HIVE_BACKUP_STATE")


def test_backup_routes_refuse_other_tokens(two_vaults):
    client, credential = two_vaults
    alice = client(1)  # an access token of the backup node
    with pytest.raises(HiveError) as info:
        alice.request("GET", "vault-backup-service/restore")
    assert (info.value.status, info.value.reason) == (401, "HIVE_TOKEN_SUBJECT")
    with pytest.raises(HiveError) as info:
        alice.request("POST", "backup/promotion")
    assert (info.value.status, info.value.reason) == (409, "HIVE_BACKUP_STATE")  # nothing backed up yet
    other = credential.replace("HiveBackupCredential", "AppIdCredential")  # breaks the signature too
    with pytest.raises(HiveError) as info:
        client(0).request("POST", "vault/content?to=hive_node", {"credential": other})
    assert (info.value.status, info.value.reason) == (502, "HIVE_PRESENTATION_INVALID")
