;; Defines two memories (multi-memory), each within the limit, to double what it may hold.
;; Refused at install: MEMORY_LIMIT (RT-094): an app has one memory.
(module
  (memory (export "memory") 2)
  (memory $second 2)
  (func (export "run") (result i32) (i32.const 0)))
