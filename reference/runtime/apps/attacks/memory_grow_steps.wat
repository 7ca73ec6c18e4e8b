;; Grows its memory one page at a time until memory.grow fails; returns the pages it reached.
;; With a limit of 4 pages, the fourth grow fails (-1) inside the app, which keeps running (RT-094).
(module
  (memory (export "memory") 1)
  (func (export "run") (result i32)
    (block $done
      (loop $more
        (br_if $done (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
        (br $more)))
    (memory.size)))
