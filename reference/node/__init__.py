"""The reference ELA main-chain node: SQLite store, block acceptance, JSON-RPC, P2P, merged miner, wallet."""
