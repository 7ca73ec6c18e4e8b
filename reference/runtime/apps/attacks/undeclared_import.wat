;; Imports a socket call the runtime does not have (RT-080).
(module
  (import "elastos" "socket_open" (func $sock (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (result i32)
    (call $sock (i32.const 0) (i32.const 0))))
