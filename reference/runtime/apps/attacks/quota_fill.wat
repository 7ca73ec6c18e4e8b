;; Writes 60 KiB files in a loop to fill the disk (RT-092).
(module
  (import "elastos" "storage_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 0) "fill/xA")
  (func (export "run") (result i32)
    (local $i i32)
    (loop $l
      (i32.store8 (i32.const 6) (i32.add (i32.const 65) (local.get $i)))
      (drop (call $write (i32.const 0) (i32.const 7) (i32.const 1024) (i32.const 61440)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))
    (i32.const 0)))
