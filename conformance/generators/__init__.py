"""Every vector generator; importing this package registers them all."""

from conformance.generators import chain_p2p, crypto, encoding  # noqa: F401
from conformance.generators import chain_pow  # noqa: F401
from conformance.generators import chain  # noqa: F401
from conformance.generators import did_keys  # noqa: F401
from conformance.generators import did_documents  # noqa: F401
from conformance.generators import did_credentials  # noqa: F401
from conformance.generators import did_requests  # noqa: F401

from conformance.generators import did_chain  # noqa: F401
from conformance.generators import did_builders  # noqa: F401
from conformance.generators import sidechain  # noqa: F401
from conformance.generators import sidechain_fork  # noqa: F401
from conformance.generators import assets  # noqa: F401
from conformance.generators import runtime  # noqa: F401
from conformance.generators import carrier  # noqa: F401
from conformance.generators import carrier_session  # noqa: F401
from conformance.generators import carrier_state  # noqa: F401
from conformance.generators import hive  # noqa: F401
