"""Handler bindings of the ``hive`` suite, one module per area; importing this package registers them.

Handler names are dotted (``hive.auth.signin``). Keys, bodies and digests are lower-case hex; DIDs,
tokens and document texts are strings; times are Unix seconds (JSON numbers). Database documents,
filters and script definitions are plain JSON. The vault's service identity is an object
``{"did", "key_id", "private_key"}`` (hex key; its public key is derived).
"""

from conformance.bindings_hive import auth  # noqa: F401
from conformance.bindings_hive import data  # noqa: F401
from conformance.bindings_hive import backup_sync  # noqa: F401
