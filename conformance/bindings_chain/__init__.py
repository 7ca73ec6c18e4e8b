"""Handler bindings of the ``chain`` suite, one module per area; importing this package registers them.

Handler names are dotted (``ela.block.decode``); hashes are stored-order hex, bytes lower-case hex.
"""

from conformance.bindings_chain import p2p  # noqa: F401
from conformance.bindings_chain import pow  # noqa: F401
from conformance.bindings_chain import chain  # noqa: F401
