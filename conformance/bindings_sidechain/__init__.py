"""Handler bindings of the ``sidechain`` suite; importing this package registers them.

Hashes are stored-order hex, bytes lower-case hex; ``network`` names an ID-sidechain network
(``mainnet``, ``testnet``, ``regnet``, ``instant``).
"""

from conformance.bindings_sidechain import headers  # noqa: F401
from conformance.bindings_sidechain import crosschain  # noqa: F401
from conformance.bindings_sidechain import state  # noqa: F401
