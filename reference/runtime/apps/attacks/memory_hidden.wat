;; Defines a 64-page memory it does not export (so no export check sees it), far past a 4-page limit.
;; Refused at install: MEMORY_LIMIT (RT-094), from the module's memory section.
(module
  (memory 64)
  (func (export "run") (result i32) (i32.const 0)))
