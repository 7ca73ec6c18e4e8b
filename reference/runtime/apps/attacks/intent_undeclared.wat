;; Sends an intent its manifest does not declare (RT-062); its DID is at 4096.
(module
  (import "elastos" "intent_send" (func $intent (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "share.photo")
  (func (export "run") (result i32)
    (call $intent (i32.const 4096) (i32.const 46) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 11) (i32.const 0) (i32.const 0))))
