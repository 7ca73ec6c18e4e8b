"""An app's home folder synced to the user's Hive vault.

The Runtime keeps an app's files in ``<root>/home/<user DID>/<app DID>/``
(:meth:`reference.runtime.sandbox.Runtime.home`); the user's vault keeps the partition of the same
(user DID, app DID) pair. :class:`HomeSync` joins the two through the Hive sync client
(:func:`reference.hive.client.sync_folder`, which carries out :func:`spec.hive.sync.plan`): one
:meth:`HomeSync.sync` pushes what the app wrote, pulls what another device of the same user wrote,
keeps both sides of a conflict under the spec's deterministic conflict name, and turns deletes into
tombstones. After a sync the runtime counts the home folder's bytes again, so the storage quota
(RT-092) covers the files the sync brought in.

The vault client is signed in as the app instance on this device, presenting the user's
``AppIdCredential`` for the app's DID (:meth:`reference.hive.client.HiveClient.sign_in`): that is
what puts the calls in the (user, app) partition. :class:`HomeSync` checks that the client's access
token names this runtime's user and app before it syncs anything.

The sync client's state (the base version of every path) lives outside the home folder, in
``<root>/sync/<user DID>/<app DID>.json``, so it is neither visible to the app nor synced. The caller
runs a sync between calls into the app (the runtime is single-threaded).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from reference.hive.client import HiveClient, SyncReport, sync_folder
from reference.runtime.sandbox import Runtime

__all__ = ["HomeSync", "token_partition"]


def token_partition(token: str) -> tuple[str, str]:
    """The (user DID, app DID) an access token's claims name (the vault checked its signature)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    props = claims.get("props")
    props = json.loads(props) if isinstance(props, str) else props or {}
    return props.get("userDid", ""), props.get("appDid", "")


class HomeSync:
    """One app's home folder in one runtime, kept in step with the user's vault partition."""

    def __init__(self, runtime: Runtime, app_did: str, client: HiveClient) -> None:
        if client.token is None:
            raise ValueError("the vault client is not signed in")
        partition = token_partition(client.token)
        if partition != (runtime.user, app_did):
            raise ValueError(f"the access token is for {partition}, not ({runtime.user}, {app_did})")
        self.runtime = runtime
        self.app_did = app_did
        self.client = client

    @property
    def folder(self) -> Path:
        return self.runtime.home(self.app_did)

    @property
    def state_file(self) -> Path:
        path = self.runtime.root / "sync" / self.runtime.user / f"{self.app_did}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def sync(self) -> SyncReport:
        """Push the app's changes, pull the vault's, and count the home folder's bytes again."""
        try:
            return sync_folder(self.client, self.folder, self.state_file)
        finally:
            if self.app_did in self.runtime.apps:
                self.runtime.rescan(self.app_did)
