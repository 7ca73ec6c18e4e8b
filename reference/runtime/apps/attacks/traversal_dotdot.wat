;; Climbs out of its home with '..' (RT-047).
(module
  (import "elastos" "storage_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "../../user2/other/secret.txt")
  (func (export "run") (result i32)
    (call $read (i32.const 0) (i32.const 28) (i32.const 8192) (i32.const 1024))))
