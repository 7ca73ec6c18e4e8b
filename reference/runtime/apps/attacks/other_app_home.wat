;; Names another app's home folder by its location (RT-042: a DID's ':' never appears in a path).
(module
  (import "elastos" "storage_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "home/did:elastos:iVictim/did:elastos:iBank/wallet")
  (func (export "run") (result i32)
    (call $read (i32.const 0) (i32.const 49) (i32.const 8192) (i32.const 1024))))
