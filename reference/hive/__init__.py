"""The reference Hive vault: SQLite-backed storage and an HTTP server with upstream's v2 routes."""
