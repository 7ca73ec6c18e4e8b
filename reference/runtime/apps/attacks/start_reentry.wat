;; Makes a host call from its start function, before the runtime handed it control:
;; the call is decided like any other (RT-047).
(module
  (import "elastos" "storage_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "../escape")
  (func $start (drop (call $read (i32.const 0) (i32.const 9) (i32.const 8192) (i32.const 64))))
  (start $start)
  (func (export "run") (result i32)
    (i32.const 0)))
