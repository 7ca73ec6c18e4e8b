"""Handler bindings of the ``did`` suite, one module per area; importing this package registers them.

Handler names are dotted (``did.url.parse``); DIDs and DID URLs are their string forms, keys and
hashes lower-case hex.
"""

from conformance.bindings_did import keys  # noqa: F401
from conformance.bindings_did import documents  # noqa: F401
from conformance.bindings_did import credentials  # noqa: F401
from conformance.bindings_did import requests  # noqa: F401
from conformance.bindings_did import chain  # noqa: F401
from conformance.bindings_did import builders  # noqa: F401
