;; infinite_loop: prints "looping" and then spins forever, incrementing the
;; exported mutable global "counter" and mirroring it into memory[1024..1032)
;; as an i64. Never returns: used for timeouts, fuel/interrupt and for
;; snapshots of a guest that makes no host calls at all.
;; stdout: "looping".
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
  (data (i32.const 256) "looping\n")
  (global $counter (export "counter") (mut i64) (i64.const 0))
  (func (export "_start")
    (call $print (i32.const 256) (i32.const 8))
    (loop $spin
      (global.set $counter (i64.add (global.get $counter) (i64.const 1)))
      (i64.store (i32.const 1024) (global.get $counter))
      (br $spin))))
