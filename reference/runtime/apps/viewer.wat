;; Viewer: receives a shared document (intent filter "share.document"), logs it and keeps a copy in
;; its own home. Permissions: storage.write.
(module
  (import "elastos" "intent_receive" (func $recv (param i32 i32) (result i32)))
  (import "elastos" "storage_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "elastos" "log" (func $log (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "inbox/doc.txt")
  (func (export "run") (result i32)
    (local $n i32)
    (local.set $n (call $recv (i32.const 1024) (i32.const 4096)))
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (local.get $n))))
    (drop (call $log (i32.const 1024) (local.get $n)))
    (drop (call $write (i32.const 0) (i32.const 13) (i32.const 1024) (local.get $n)))
    (local.get $n)))
