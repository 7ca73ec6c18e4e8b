;; Calls log in a tight loop, a host-call flood (RT-091).
(module
  (import "elastos" "log" (func $log (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "x")
  (func (export "run") (result i32)
    (loop $l (drop (call $log (i32.const 0) (i32.const 1))) (br $l))
    (i32.const 0)))
