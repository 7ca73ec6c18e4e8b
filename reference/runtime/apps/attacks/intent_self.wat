;; Declares both the intent and its filter and sends it to itself, hoping to be called
;; back inside its own host call (reentrancy): an app never receives its own intent (RT-063).
(module
  (import "elastos" "intent_send" (func $intent (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "ping.pong")
  (func (export "run") (result i32)
    (call $intent (i32.const 4096) (i32.const 46) (i32.const 4096) (i32.const 46) (i32.const 0) (i32.const 9) (i32.const 0) (i32.const 0))))
