;; Cuts the path with NUL, C-string style (RT-042).
(module
  (import "elastos" "storage_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "notes/a.txt\00/../../x")
  (func (export "run") (result i32)
    (call $read (i32.const 0) (i32.const 20) (i32.const 8192) (i32.const 1024))))
