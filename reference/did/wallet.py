"""A DID wallet on disk: one root identity (mnemonic and passphrase, encrypted) and the DIDs made from it.

``<home>/identity.json`` holds:

* the root identity's pre-derived xpub and id (``RootIdentity.getId``), in clear, so DIDs can be listed
  without the password;
* the mnemonic and passphrase sealed with NaCl SecretBox (XSalsa20-Poly1305) under a key derived from
  the wallet password with Argon2id (libsodium's ``crypto_pwhash``, its "interactive" limits);
* the DIDs the wallet controls: a primitive DID by its HD index or app-scoped (identifier, security
  code), a customized DID by name with the wallet DIDs among its controllers.

Keys are never stored: each signing derives the key from the decrypted seed (:mod:`spec.did.keys`).
The file is written to a temporary name and renamed, so a crash leaves the old or the new file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from spec.did import keys
from spec.did.syntax import DID, parse_did

FILE = "identity.json"
VERSION = 1


class WalletError(Exception):
    """A wallet operation that cannot be done (no wallet, wrong password, unknown DID)."""


@dataclass(frozen=True)
class Secrets:
    mnemonic: str
    passphrase: str

    def key_at(self, index: int) -> keys.ExtendedKey:
        return keys.derive_did_key(self.mnemonic, self.passphrase, index)

    def app_key(self, identifier: str, code: int) -> keys.ExtendedKey:
        master = keys.master_key(keys.mnemonic_to_seed(self.mnemonic, self.passphrase))
        return keys.derive_app_key(keys.derive_path(master, keys.PRE_DERIVED_PATH), identifier, code)


def _kdf(password: str, salt: bytes, ops: int, mem: int) -> bytes:
    return nacl.pwhash.argon2id.kdf(nacl.secret.SecretBox.KEY_SIZE, password.encode("utf-8"), salt,
                                    opslimit=ops, memlimit=mem)


class Wallet:
    """The wallet in ``home``."""

    def __init__(self, home: str | Path) -> None:
        self.home = Path(home)
        self.path = self.home / FILE
        if not self.path.is_file():
            raise WalletError(f"no DID wallet in {self.home} (run: elastos did init)")
        self.data: dict[str, Any] = json.loads(self.path.read_text())
        if self.data.get("version") != VERSION:
            raise WalletError(f"{self.path}: unknown wallet version {self.data.get('version')!r}")

    # -- creation -------------------------------------------------------------------------------

    @classmethod
    def create(cls, home: str | Path, mnemonic: str, passphrase: str, password: str) -> Wallet:
        """A new wallet for a valid mnemonic; refuses to overwrite an existing one."""
        home = Path(home)
        if (home / FILE).exists():
            raise WalletError(f"{home / FILE} exists; refusing to overwrite a wallet")
        if not password:
            raise WalletError("a wallet password is needed (--password or ELASTOS_DID_PASSWORD)")
        pre = keys.pre_derived_key(mnemonic, passphrase)  # checks the mnemonic (KEY-003..005)
        ops, mem = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE, nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
        salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
        box = nacl.secret.SecretBox(_kdf(password, salt, ops, mem))
        sealed = box.encrypt(json.dumps({"mnemonic": mnemonic, "passphrase": passphrase}).encode("utf-8"))
        data = {"version": VERSION, "xpub": keys.extended_key_to_base58(pre), "root_id": keys.root_identity_id(pre),
                "kdf": {"alg": "argon2id", "salt": salt.hex(), "ops": ops, "mem": mem}, "sealed": sealed.hex(),
                "next_index": 0, "dids": {}}
        home.mkdir(parents=True, exist_ok=True)
        _write(home / FILE, data)
        return cls(home)

    # -- secrets --------------------------------------------------------------------------------

    def unlock(self, password: str) -> Secrets:
        kdf = self.data["kdf"]
        box = nacl.secret.SecretBox(_kdf(password, bytes.fromhex(kdf["salt"]), kdf["ops"], kdf["mem"]))
        try:
            plain = json.loads(box.decrypt(bytes.fromhex(self.data["sealed"])))
        except nacl.exceptions.CryptoError:
            raise WalletError("wrong wallet password") from None
        return Secrets(plain["mnemonic"], plain["passphrase"])

    # -- DIDs ------------------------------------------------------------------------------------

    @property
    def pre_derived(self) -> keys.ExtendedKey:
        return keys.parse_extended_key(self.data["xpub"])

    def dids(self) -> dict[str, dict[str, Any]]:
        return dict(self.data["dids"])

    def entry(self, did: DID | str) -> dict[str, Any]:
        e = self.data["dids"].get(str(did))
        if e is None:
            raise WalletError(f"{did} is not a DID of this wallet")
        return dict(e)

    def has(self, did: DID | str) -> bool:
        return str(did) in self.data["dids"]

    def reserve_index(self) -> int:
        return int(self.data["next_index"])

    def add_primitive(self, did: DID, *, index: int | None = None, app: tuple[str, int] | None = None) -> None:
        entry: dict[str, Any] = {"kind": "primitive"}
        if index is not None:
            entry["index"] = index
            self.data["next_index"] = max(self.data["next_index"], index + 1)
        else:
            assert app is not None
            entry["app"] = [app[0], app[1]]
        self.data["dids"][str(did)] = entry
        self._save()

    def add_customized(self, did: DID) -> None:
        self.data["dids"][str(did)] = {"kind": "customized"}
        self._save()

    def set_state(self, did: DID | str, **fields: Any) -> None:
        self.data["dids"][str(did)].update(fields)
        self._save()

    def private_key(self, secrets: Secrets, did: DID | str) -> bytes:
        """The private key of a primitive wallet DID's default key (``#primary``)."""
        e = self.entry(did)
        if e["kind"] != "primitive":
            raise WalletError(f"{did} is customized: it signs with its controllers' keys")
        key = secrets.key_at(e["index"]) if "index" in e else secrets.app_key(e["app"][0], e["app"][1])
        if str(keys.did_from_public_key(key.public_key)) != str(parse_did(str(did))):
            raise WalletError(f"{did}: the wallet's entry does not derive this DID")
        assert key.private_key is not None
        return key.private_key

    def _save(self) -> None:
        _write(self.path, self.data)


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


__all__ = ["Secrets", "Wallet", "WalletError"]
