;; Grows its memory far past its page limit; memory.grow must fail (-1) (RT-094).
(module
  (memory (export "memory") 1)
  (func (export "run") (result i32)
    (memory.grow (i32.const 1000))))
