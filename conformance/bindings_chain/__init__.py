"""Handler bindings of the ``chain`` suite, one module per area; importing this package registers them.

Handler names are dotted (``ela.block.decode``); hashes are stored-order hex, bytes lower-case hex.
"""
