;; Share: writes a document to its home, reads it back and hands it to the app that declares the
;; intent filter "share.document". Its own DID (the intent's sender) is at 4096, written by the
;; embedder. Permissions: storage.read, storage.write, intent.send; intents: share.document.
(module
  (import "elastos" "storage_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "elastos" "storage_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "elastos" "intent_send" (func $intent (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "docs/report.txt")
  (data (i32.const 32) "Quarterly report: all good")
  (data (i32.const 64) "share.document")
  (func (export "run") (param $self i32) (result i32)
    (local $n i32)
    (drop (call $write (i32.const 0) (i32.const 15) (i32.const 32) (i32.const 26)))
    (local.set $n (call $read (i32.const 0) (i32.const 15) (i32.const 1024) (i32.const 1024)))
    ;; sender = own DID, target = "" (the one receiver), action, document
    (call $intent (i32.const 4096) (local.get $self) (i32.const 0) (i32.const 0)
                  (i32.const 64) (i32.const 14) (i32.const 1024) (local.get $n))))
