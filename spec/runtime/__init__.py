"""The Runtime sandbox: app manifests, capability tokens, storage paths, intents, host calls and limits.

An app is a WebAssembly module with a signed manifest. It runs in its own VM and has no effect but
the host calls of :mod:`spec.runtime.hostcalls`, each decided by :func:`spec.runtime.hostcalls.decide`
from the app's manifest, the capabilities its user granted, the runtime's state and the call.
"""
