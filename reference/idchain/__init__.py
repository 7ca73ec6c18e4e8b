"""The reference ID-chain service: a SQLite store of accepted DID requests, the spec's state machine, JSON-RPC."""
