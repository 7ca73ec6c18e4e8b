"""Carrier: the peer-to-peer network that carries app traffic (identities, DID binding, Noise
sessions, CBOR messages, the DHT, friends, bulk messages, invites and the offline relay)."""
