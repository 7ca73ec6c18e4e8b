"""``did:elastos``: decentralised identifiers.

Modules:

* :mod:`spec.did.syntax` -- ``DID`` and ``DIDURL``: parsing exactly as the SDKs do, string forms,
  equality and ordering, relative references, the ID chain's stricter id rule.
* :mod:`spec.did.keys` -- P-256 keys in Base58, the DID of a public key, BIP39 mnemonics and
  BIP32 derivation on P-256 (the SDK's HD keys), the root identity id.
* :mod:`spec.did.jsontext`, :mod:`spec.did.document` -- the JSON text forms and DID documents.
* :mod:`spec.did.credential`, :mod:`spec.did.presentation` -- verifiable credentials and presentations.
* :mod:`spec.did.ticket`, :mod:`spec.did.request` -- transfer tickets and ID-chain requests.
"""
