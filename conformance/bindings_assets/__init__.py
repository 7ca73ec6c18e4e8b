"""Handler bindings of the ``assets`` suite; importing this package registers them."""

from conformance.bindings_assets import editions  # noqa: F401
from conformance.bindings_assets import registry  # noqa: F401
