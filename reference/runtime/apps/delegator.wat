;; Hands on part of what it holds: read access to notes/ (bound 1024 bytes, for 60 seconds, delegatable
;; again) to the app whose DID the caller wrote at 4096 (its length is run's argument), through
;; cap_delegate. Well-behaved; the attacks on delegation install it in hostile situations (a revoked
;; parent, a chain already at the depth bound, a recipient without a matching manifest).
(module
  (import "elastos" "cap_delegate"
    (func $delegate (param i32 i32 i32 i32 i32 i32 i64 i64 i32) (result i32)))
  (import "elastos" "clock_now" (func $now (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "storage:notes/*")
  (data (i32.const 32) "read")
  (func (export "run") (param $n i32) (result i32)
    (call $delegate (i32.const 4096) (local.get $n) (i32.const 0) (i32.const 15) (i32.const 32) (i32.const 4)
      (i64.add (call $now) (i64.const 60)) (i64.const 1024) (i32.const 1))))
