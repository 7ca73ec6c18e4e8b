"""Storage paths: the one canonical spelling of a name in an app's home folder, and confinement.

An app names files by a **relative path** inside its home folder
``home/<user DID>/<app DID>/``. The runtime does not normalise a path into shape: it accepts only
paths that are already canonical, so that a path has one spelling, names one file, and can never
leave the home folder. Checks, in order:

=========  ========================================================================================
rule       a path is refused when
=========  ========================================================================================
RT-040     it is empty
RT-041     it is absolute: starts with ``/`` or ``\\``, or with a drive letter and ``:``
RT-042     it has NUL, a C0 control character or DEL, ``\\``, ``:``, or an unpaired surrogate
RT-043     it has a percent-encoded separator, dot or NUL: ``%2f``, ``%5c``, ``%2e``, ``%00`` (any case)
RT-044     it is not in Unicode normalization form C (so two accepted paths never collide after NFC)
RT-045     it is longer than 1024 UTF-8 bytes, a name is longer than 255 UTF-8 bytes, or it is
           deeper than 32 names
RT-046     a name is empty (``a//b``, a trailing ``/``)
RT-047     a name is ``.`` or ``..``
RT-048     a name is reserved: a Windows device name (``CON``, ``PRN``, ``AUX``, ``NUL``,
           ``COM1``-``COM9``, ``LPT1``-``LPT9``, any case, with or without an extension), a name
           ending in ``.`` or space, or a name starting with ``.elastos`` (the runtime's own files)
=========  ========================================================================================

An accepted path ``p`` resolves to ``home/<user>/<app>/p``. Because a canonical DID has no ``/``
(:mod:`spec.did.syntax` allows letters, digits, ``.``, ``_`` and ``-`` in the method-specific
id) and ``p`` has no ``..``, every accepted path lies strictly inside its home, and the homes of two
different (user, app) pairs are disjoint (``proofs/isolation.py`` proves both).

A *directory* argument (``storage_list``) may also be the empty string: the home folder itself.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from spec.errors import Reject, Reason, rule

__all__ = ["MAX_PATH_BYTES", "MAX_NAME_BYTES", "MAX_DEPTH", "HOME_ROOT", "home", "check_path",
           "resolve_path", "resolve_dir", "is_reserved_name"]

MAX_PATH_BYTES: Final = 1024
"""A path is at most this many bytes of UTF-8."""
MAX_NAME_BYTES: Final = 255
"""One name (component) is at most this many bytes of UTF-8."""
MAX_DEPTH: Final = 32
"""A path has at most this many names."""
HOME_ROOT: Final = "home"
"""Every home folder lies under this folder of the runtime's storage."""
RESERVED_PREFIX: Final = ".elastos"
"""Names starting with this are the runtime's own (sync state, metadata)."""

_DEVICE: Final = re.compile(r"(?i)(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?")
_ENCODED: Final = re.compile(r"(?i)%(2f|5c|2e|00)")
_DRIVE: Final = re.compile(r"[A-Za-z]:")

R_EMPTY = rule("RT-040", Reason.PATH_EMPTY, "A storage path is not empty.", suite="runtime")
R_ABSOLUTE = rule(
    "RT-041", Reason.PATH_ABSOLUTE,
    "A storage path is relative: it does not start with '/', '\\\\' or a drive letter and ':'.",
    suite="runtime",
)
R_CHAR = rule(
    "RT-042", Reason.PATH_BAD_CHARACTER,
    "A storage path has no NUL, C0 control, DEL, backslash, colon or unpaired surrogate.",
    suite="runtime",
)
R_ENCODED = rule(
    "RT-043", Reason.PATH_ENCODED_SEPARATOR,
    "A storage path has no percent-encoded separator, dot or NUL (%2f, %5c, %2e, %00 in any case).",
    suite="runtime",
    note="Deviation: the runtime never percent-decodes, so such a name is harmless here; it is refused "
    "because the home folder syncs to a Hive vault over URLs, where it would be decoded.",
)
R_NFC = rule(
    "RT-044", Reason.PATH_NOT_NFC,
    "A storage path is in Unicode normalization form C.",
    suite="runtime",
)
R_LONG = rule(
    "RT-045", Reason.PATH_TOO_LONG,
    f"A storage path is at most {MAX_PATH_BYTES} UTF-8 bytes, each name at most {MAX_NAME_BYTES}, "
    f"and at most {MAX_DEPTH} names deep.",
    suite="runtime",
)
R_EMPTY_NAME = rule(
    "RT-046", Reason.PATH_EMPTY_COMPONENT,
    "No name of a storage path is empty (no '//', no leading or trailing '/').",
    suite="runtime",
)
R_DOTS = rule(
    "RT-047", Reason.PATH_TRAVERSAL,
    "No name of a storage path is '.' or '..'.",
    suite="runtime",
)
R_RESERVED = rule(
    "RT-048", Reason.PATH_RESERVED_NAME,
    "No name is a Windows device name (with or without extension), ends in '.' or space, or starts with "
    "'.elastos'.",
    suite="runtime",
)


def home(user: str, app: str) -> str:
    """The home folder of ``app`` for ``user`` (canonical DID strings), with its trailing ``/``."""
    return f"{HOME_ROOT}/{user}/{app}/"


def is_reserved_name(name: str) -> bool:
    """RT-048's test on one name."""
    return bool(_DEVICE.fullmatch(name)) or name.endswith((".", " ")) or name.startswith(RESERVED_PREFIX)


def _bad_char(c: str) -> bool:
    o = ord(c)
    return o < 0x20 or o == 0x7F or c in "\\:" or 0xD800 <= o <= 0xDFFF


def check_path(path: str) -> None:
    """Return if ``path`` is a canonical relative storage path; otherwise raise the first broken rule."""
    # [RT-040] not empty
    if path == "":
        raise Reject(Reason.PATH_EMPTY, "RT-040", "empty path")
    # [RT-041] relative: no leading separator, no drive letter
    if path[0] in "/\\" or _DRIVE.match(path):
        raise Reject(Reason.PATH_ABSOLUTE, "RT-041", f"absolute path {path[:16]!r}")
    bad = next((c for c in path if _bad_char(c)), None)
    # [RT-042] no NUL, control character, backslash, colon or lone surrogate
    if bad is not None:
        raise Reject(Reason.PATH_BAD_CHARACTER, "RT-042", f"character U+{ord(bad):04X}")
    # [RT-043] no percent-encoded separator, dot or NUL
    if _ENCODED.search(path):
        raise Reject(Reason.PATH_ENCODED_SEPARATOR, "RT-043", "percent-encoded separator, dot or NUL")
    # [RT-044] normalization form C
    if not unicodedata.is_normalized("NFC", path):
        raise Reject(Reason.PATH_NOT_NFC, "RT-044", "not NFC")
    names = path.split("/")
    # [RT-045] bounded length and depth
    if len(path.encode("utf-8")) > MAX_PATH_BYTES or len(names) > MAX_DEPTH:
        raise Reject(Reason.PATH_TOO_LONG, "RT-045", f"{len(path.encode('utf-8'))} bytes, {len(names)} names")
    for name in names:
        # [RT-046] no empty name
        if name == "":
            raise Reject(Reason.PATH_EMPTY_COMPONENT, "RT-046", "empty name")
        # [RT-047] no '.' or '..'
        if name in (".", ".."):
            raise Reject(Reason.PATH_TRAVERSAL, "RT-047", f"name {name!r}")
        # [RT-045] a name is at most MAX_NAME_BYTES
        if len(name.encode("utf-8")) > MAX_NAME_BYTES:
            raise Reject(Reason.PATH_TOO_LONG, "RT-045", f"name of {len(name.encode('utf-8'))} bytes")
        # [RT-048] no reserved name
        if is_reserved_name(name):
            raise Reject(Reason.PATH_RESERVED_NAME, "RT-048", f"reserved name {name[:16]!r}")


def resolve_path(user: str, app: str, path: str) -> str:
    """The storage location of ``path`` in the home of (``user``, ``app``); raises if ``path`` is not canonical."""
    check_path(path)
    return home(user, app) + path


def resolve_dir(user: str, app: str, path: str) -> str:
    """A directory: ``""`` is the home folder itself; otherwise as :func:`resolve_path`, with a trailing ``/``."""
    if path == "":
        return home(user, app)
    return resolve_path(user, app, path) + "/"
