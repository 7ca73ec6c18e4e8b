;; Sends to an IP address and port instead of a DID (RT-070).
(module
  (import "elastos" "carrier_send" (func $send (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "127.0.0.1:80")
  (func (export "run") (result i32)
    (call $send (i32.const 0) (i32.const 12) (i32.const 0) (i32.const 4))))
