;; Reads a 300-byte name (RT-045).
(module
  (import "elastos" "storage_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (result i32)
    (memory.fill (i32.const 0) (i32.const 97) (i32.const 300))
    (call $read (i32.const 0) (i32.const 300) (i32.const 8192) (i32.const 1024))))
