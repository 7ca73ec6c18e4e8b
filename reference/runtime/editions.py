"""The runtime's gate to the content of a limited edition: it opens a work only for its current owner.

A work is identified by the SHA-256 of its content (the ``work`` of its mint, :mod:`spec.assets.editions`).
Who may open it is rule EDN-010 (:func:`spec.assets.editions.check_access`): a DID that owns a copy
(:func:`spec.assets.editions.may_access` over the ownership record of the chain that carries the
editions). The gate asks that record (``owns(did, work)``: on a devnet, the ID sidechain's
``edition_canopen``, which evaluates ``may_access`` on the node's state) for the runtime's user, and refuses
with ``EDITION_NOT_OWNER`` [EDN-010] when the user holds no copy, so a previous owner who sold the copy is
refused. It also refuses content whose hash is not the work's (``EDITION_UNKNOWN_COPY``), so what is
opened is what was minted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spec.errors import Reason, Reject

__all__ = ["EditionGate"]


class EditionGate:
    """Opens works kept in ``store`` (one file a work, named by the work's hex id) for their owners."""

    def __init__(self, owns: Callable[[str, bytes], bool], store: Path) -> None:
        self.owns = owns
        self.store = store
        self.opened: list[tuple[str, str, str]] = []
        """``(user DID, work hex, "opened" | reason)`` of every request, in order."""

    def open(self, runtime: Any, work: bytes) -> bytes:
        """The content of ``work`` for ``runtime``'s user, or a :class:`Reject` with the reason."""
        user = str(runtime.user)
        if not self.owns(user, work):
            self.opened.append((user, work.hex(), Reason.EDITION_NOT_OWNER.value))
            raise Reject(Reason.EDITION_NOT_OWNER, "EDN-010", f"{user} owns no copy of work {work.hex()}")
        path = self.store / work.hex()
        content = path.read_bytes() if path.is_file() else b""
        if hashlib.sha256(content).digest() != work:
            self.opened.append((user, work.hex(), Reason.EDITION_UNKNOWN_COPY.value))
            raise Reject(Reason.EDITION_UNKNOWN_COPY, None, f"no content whose hash is {work.hex()}")
        self.opened.append((user, work.hex(), "opened"))
        return content
