;; Logs 200 000 bytes in one call (RT-090).
(module
  (import "elastos" "log" (func $log (param i32 i32) (result i32)))
  (memory (export "memory") 4)
  (func (export "run") (result i32)
    (call $log (i32.const 0) (i32.const 200000))))
