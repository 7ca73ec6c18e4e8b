"""The reference Runtime: apps as WebAssembly modules in wasmtime, with no WASI, every host call decided by
:func:`spec.runtime.hostcalls.decide`."""
