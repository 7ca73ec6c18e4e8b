;; Holds read access to notes/ bounded to 4096 bytes a call and tries to hand it on with no bound
;; (a negative max_bytes). decide: CAP_AMPLIFIED (RT-026).
(module
  (import "elastos" "cap_delegate"
    (func $delegate (param i32 i32 i32 i32 i32 i32 i64 i64 i32) (result i32)))
  (import "elastos" "clock_now" (func $now (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "storage:notes/*")
  (data (i32.const 32) "read")
  (func (export "run") (param $n i32) (result i32)
    (call $delegate (i32.const 4096) (local.get $n) (i32.const 0) (i32.const 15) (i32.const 32) (i32.const 4)
      (i64.add (call $now) (i64.const 60)) (i64.const -1) (i32.const 0))))
