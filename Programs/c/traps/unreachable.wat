;; unreachable: executes the unreachable instruction -> trap "unreachable".
;; stdout: "about to trap: unreachable"; nothing after.
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
  (data (i32.const 256) "about to trap: unreachable\n")
  (data (i32.const 300) "not reached\n")
  (func $inner (unreachable))
  (func (export "_start")
    (call $print (i32.const 256) (i32.const 27))
    (call $inner)
    (call $print (i32.const 300) (i32.const 12))))
