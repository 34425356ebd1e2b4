;; stack_exhaust: unbounded non-tail recursion -> trap "call stack exhausted"
;; (the exact message is engine-specific).
;; stdout: "about to trap: stack_exhaust"; nothing after.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  ;; iovec array at 0 (two entries), nwritten at 16, number buffer 160..201,
  ;; strings from 256.
  (func $print2 (param $p1 i32) (param $l1 i32) (param $p2 i32) (param $l2 i32)
    (i32.store (i32.const 0) (local.get $p1))
    (i32.store (i32.const 4) (local.get $l1))
    (i32.store (i32.const 8) (local.get $p2))
    (i32.store (i32.const 12) (local.get $l2))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 2) (i32.const 16))))
  (func $print (param $p i32) (param $l i32)
    (call $print2 (local.get $p) (local.get $l) (i32.const 0) (i32.const 0)))
  (memory (export "memory") 1)
  (data (i32.const 256) "about to trap: stack_exhaust\n")
  (data (i32.const 300) "not reached\n")
  (func $down (param $n i32) (result i32)
    (i32.add (call $down (i32.add (local.get $n) (i32.const 1))) (local.get $n)))
  (func (export "_start")
    (call $print (i32.const 256) (i32.const 29))
    (drop (call $down (i32.const 0)))
    (call $print (i32.const 300) (i32.const 12))))
