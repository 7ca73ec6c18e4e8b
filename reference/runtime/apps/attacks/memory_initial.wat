;; Declares 100 pages of initial memory, past its limit (RT-094).
(module
  (memory (export "memory") 100)
  (func (export "run") (result i32)
    (i32.const 0)))
