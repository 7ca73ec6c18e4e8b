;; Defines a memory shared between threads. Refused at install: MEMORY_LIMIT (RT-094).
(module
  (memory (export "memory") 1 4 shared)
  (func (export "run") (result i32) (i32.const 0)))
