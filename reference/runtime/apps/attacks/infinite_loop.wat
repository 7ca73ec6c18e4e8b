;; Loops forever (RT-093).
(module
  (memory (export "memory") 1)
  (func (export "run") (result i32)
    (loop $l (br $l))
    (i32.const 0)))
