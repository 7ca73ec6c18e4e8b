;; Sends to the DID written at 4096 by the test (a stranger, a deactivated or an expired DID).
(module
  (import "elastos" "carrier_send" (func $send (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "psst!")
  (func (export "run") (result i32)
    (call $send (i32.const 4096) (i32.const 46) (i32.const 0) (i32.const 5))))
