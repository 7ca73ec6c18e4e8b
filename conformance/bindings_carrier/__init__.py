"""Handler bindings of the ``carrier`` suite, one module per area; importing this package registers them.

Handler names are dotted (``carrier.address.parse``). Byte strings are lower-case hex; node ids and
addresses in their text form are base58; times are Unix seconds as JSON numbers; a DID resolver is
given as ``dids``: a list of ``{"did", "status", "document"}`` (status as ``did_resolveDID`` gives
it, the document as normalized JSON text, or ``null``). Sequences (transport, friendship, bulk,
invites, routing, relay, DHT values) are lists of steps run in order through the spec's state
machine: the case is accepted with the results of every step, or rejected with the reason of the
first step the spec refuses.
"""

from conformance.bindings_carrier import identity  # noqa: F401
from conformance.bindings_carrier import session  # noqa: F401
from conformance.bindings_carrier import messages  # noqa: F401
from conformance.bindings_carrier import state  # noqa: F401
