"""The reference Carrier node and offline relay (asyncio, UDP for the DHT, TCP for sessions)."""
