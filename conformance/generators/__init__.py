"""Every vector generator; importing this package registers them all."""

from conformance.generators import crypto, encoding  # noqa: F401
