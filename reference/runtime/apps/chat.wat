;; Chat: sends a greeting through Carrier to the peer whose DID the embedder wrote at 4096, and
;; polls its Carrier queue. Permissions: carrier.send, carrier.receive.
(module
  (import "elastos" "carrier_send" (func $send (param i32 i32 i32 i32) (result i32)))
  (import "elastos" "carrier_receive" (func $recv (param i32 i32) (result i32)))
  (import "elastos" "log" (func $log (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello from chat")
  ;; send(peer_len): the peer's DID is at 4096
  (func (export "send") (param $n i32) (result i32)
    (call $send (i32.const 4096) (local.get $n) (i32.const 0) (i32.const 15)))
  ;; poll(): one message ("sender DID\npayload") into 8192, logged
  (func (export "poll") (result i32)
    (local $n i32)
    (local.set $n (call $recv (i32.const 8192) (i32.const 4096)))
    (if (i32.ge_s (local.get $n) (i32.const 0))
      (then (drop (call $log (i32.const 8192) (local.get $n)))))
    (local.get $n)))
