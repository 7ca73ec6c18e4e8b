;; Recurses without end: the stack overflows and wasmtime traps; the host goes on.
(module
  (memory (export "memory") 1)
  (func $down (param i32) (result i32) (call $down (i32.add (local.get 0) (i32.const 1))))
  (func (export "run") (result i32)
    (call $down (i32.const 0))))
