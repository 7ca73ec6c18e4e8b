;; Passes a pointer beyond its memory, hoping the host reads its own (RT-085).
(module
  (import "elastos" "log" (func $log (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (result i32)
    (call $log (i32.const -256) (i32.const 128))))
