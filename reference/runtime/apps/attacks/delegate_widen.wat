;; Holds read access to notes/ and tries to hand on read access to its whole home (storage:*).
;; decide: CAP_AMPLIFIED (RT-026).
(module
  (import "elastos" "cap_delegate"
    (func $delegate (param i32 i32 i32 i32 i32 i32 i64 i64 i32) (result i32)))
  (import "elastos" "clock_now" (func $now (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "storage:*")
  (data (i32.const 32) "read")
  (func (export "run") (param $n i32) (result i32)
    (call $delegate (i32.const 4096) (local.get $n) (i32.const 0) (i32.const 9) (i32.const 32) (i32.const 4)
      (i64.add (call $now) (i64.const 60)) (i64.const 1024) (i32.const 0))))
