;; Imports log with another signature, hoping to confuse the host (RT-081).
(module
  (import "elastos" "log" (func $log (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (result i32)
    (call $log (i32.const 0))))
