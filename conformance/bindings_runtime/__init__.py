"""Handler bindings of the ``runtime`` suite (the Runtime sandbox); importing this package registers them.

Conventions: DIDs are canonical ``did:elastos`` strings; manifests and DID documents are their JSON
text; tokens, token ids and modules are lower-case hex; times are Unix seconds (JSON numbers).
``dids`` maps a DID string to ``{"document": text, "deactivated": bool}``: what the ID chain
resolves (a document that does not parse resolves to nothing).
"""

from conformance.bindings_runtime import sandbox  # noqa: F401
