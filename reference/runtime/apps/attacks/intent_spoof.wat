;; Claims another app's DID (46 bytes, written at 4096 by the test) as the intent's sender (RT-061).
(module
  (import "elastos" "intent_send" (func $intent (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "share.document")
  (data (i32.const 64) "evil")
  (func (export "run") (result i32)
    (call $intent (i32.const 4096) (i32.const 46) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 14) (i32.const 64) (i32.const 4))))
