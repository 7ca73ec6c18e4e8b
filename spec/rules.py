"""The complete rule registry: importing this module imports every spec module that declares rules."""

from __future__ import annotations

import spec.assets.editions  # noqa: F401
import spec.assets.registry  # noqa: F401
import spec.carrier.binding  # noqa: F401
import spec.carrier.dht  # noqa: F401
import spec.carrier.friends  # noqa: F401
import spec.carrier.identity  # noqa: F401
import spec.carrier.messages  # noqa: F401
import spec.carrier.noise  # noqa: F401
import spec.carrier.relay  # noqa: F401
import spec.carrier.routing  # noqa: F401
import spec.carrier.session  # noqa: F401
import spec.chain.auxpow  # noqa: F401
import spec.chain.merkle  # noqa: F401
import spec.chain.p2p  # noqa: F401
import spec.chain.params  # noqa: F401
import spec.chain.pow  # noqa: F401
import spec.chain.state  # noqa: F401
import spec.chain.tx  # noqa: F401
import spec.chain.validation  # noqa: F401
import spec.crypto.curve25519  # noqa: F401
import spec.did.builder  # noqa: F401
import spec.did.chain  # noqa: F401
import spec.did.credential  # noqa: F401
import spec.did.document  # noqa: F401
import spec.did.jsontext  # noqa: F401
import spec.did.keys  # noqa: F401
import spec.did.presentation  # noqa: F401
import spec.did.request  # noqa: F401
import spec.did.syntax  # noqa: F401
import spec.did.ticket  # noqa: F401
import spec.crypto.p256  # noqa: F401
import spec.crypto.scripts  # noqa: F401
import spec.encoding.address  # noqa: F401
import spec.encoding.base58  # noqa: F401
import spec.encoding.cbor  # noqa: F401
import spec.encoding.fixed64  # noqa: F401
import spec.encoding.hashes  # noqa: F401
import spec.encoding.primitives  # noqa: F401
import spec.sidechain.block  # noqa: F401
import spec.sidechain.crosschain  # noqa: F401
import spec.sidechain.spv  # noqa: F401
import spec.sidechain.state  # noqa: F401
import spec.sidechain.tx  # noqa: F401
import spec.sidechain.validation  # noqa: F401
import spec.sidechain.withdrawal  # noqa: F401
import spec.runtime.capability  # noqa: F401
import spec.runtime.hostcalls  # noqa: F401
import spec.runtime.intents  # noqa: F401
import spec.runtime.manifest  # noqa: F401
import spec.runtime.paths  # noqa: F401
import spec.hive.access  # noqa: F401
import spec.hive.auth  # noqa: F401
import spec.hive.backup  # noqa: F401
import spec.hive.database  # noqa: F401
import spec.hive.files  # noqa: F401
import spec.hive.jws  # noqa: F401
import spec.hive.scripts  # noqa: F401
import spec.hive.sync  # noqa: F401
from spec.errors import RULES, Rule

__all__ = ["RULES", "Rule", "all_rules"]


def all_rules() -> list[Rule]:
    """Every rule, sorted by ID."""
    return [RULES[k] for k in sorted(RULES)]
