;; grow_limit: memory.grow against a declared maximum (min 1, max 3 pages).
;; Expected stdout (exit status 0):
;;   grow +1 -> 1
;;   grow +1 -> 2
;;   grow +1 -> -1        (would exceed the maximum)
;;   grow +65536 -> -1
;;   grow +0 -> 3
;;   size 3
;;   last word ok        (store/load of the last 4 bytes of page 3)
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
  ;; one line "LABEL<signed decimal>\n" in a single fd_write (two iovecs)
  (func $print_num (param $lp i32) (param $ll i32) (param $v i32)
    (local $p i32) (local $u i32) (local $neg i32)
    (local.set $p (i32.const 200))
    (i32.store8 (i32.const 200) (i32.const 10))
    (local.set $neg (i32.lt_s (local.get $v) (i32.const 0)))
    (local.set $u (select (i32.sub (i32.const 0) (local.get $v)) (local.get $v) (local.get $neg)))
    (loop $digits
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $u) (i32.const 10))))
      (local.set $u (i32.div_u (local.get $u) (i32.const 10)))
      (br_if $digits (local.get $u)))
    (if (local.get $neg) (then
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.const 45))))
    (call $print2 (local.get $lp) (local.get $ll) (local.get $p) (i32.sub (i32.const 201) (local.get $p))))
  (memory (export "memory") 1 3)
  (data (i32.const 256) "grow +1 -> ")
  (data (i32.const 272) "grow +65536 -> ")
  (data (i32.const 288) "grow +0 -> ")
  (data (i32.const 304) "size ")
  (data (i32.const 320) "last word ok\n")
  (data (i32.const 336) "last word BAD\n")
  (func (export "_start")
    (call $print_num (i32.const 256) (i32.const 11) (memory.grow (i32.const 1)))
    (call $print_num (i32.const 256) (i32.const 11) (memory.grow (i32.const 1)))
    (call $print_num (i32.const 256) (i32.const 11) (memory.grow (i32.const 1)))
    (call $print_num (i32.const 272) (i32.const 15) (memory.grow (i32.const 65536)))
    (call $print_num (i32.const 288) (i32.const 11) (memory.grow (i32.const 0)))
    (call $print_num (i32.const 304) (i32.const 5) (memory.size))
    (i32.store (i32.const 196604) (i32.const 0xdeadbeef))
    (if (i32.eq (i32.load (i32.const 196604)) (i32.const 0xdeadbeef))
      (then (call $print (i32.const 320) (i32.const 13)))
      (else (call $print (i32.const 336) (i32.const 14))))))
