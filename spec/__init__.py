"""The executable specification of the Elastos protocols.

Pure: no I/O, no clock, no randomness. Time, keys and nonces are parameters.
"""

SPEC_VERSION = "0.1.0"
"""Version of the specification; recorded in every vector and in the vector manifest."""
