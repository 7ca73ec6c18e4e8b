;; Hides separators and dots behind percent-encoding (RT-043).
(module
  (import "elastos" "storage_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "..%2f..%2fsecret")
  (func (export "run") (result i32)
    (call $read (i32.const 0) (i32.const 16) (i32.const 8192) (i32.const 1024))))
