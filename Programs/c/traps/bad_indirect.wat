;; bad_indirect: call_indirect through a table slot whose function has a
;; different signature -> trap "indirect call type mismatch".
;; First does one well-typed indirect call and prints its result ("ok call 43").
;; stdout: "ok call 43", "about to trap: bad_indirect"; nothing after.
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
  (type $i2i (func (param i32) (result i32)))
  (type $v2i (func (result i32)))
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 0) $inc $inc)
  (data (i32.const 256) "about to trap: bad_indirect\n")
  (data (i32.const 300) "not reached\n")
  (data (i32.const 320) "ok call ")
  (func $inc (type $i2i) (i32.add (local.get 0) (i32.const 1)))
  (func (export "_start")
    (call $print_num (i32.const 320) (i32.const 8)
      (call_indirect (type $i2i) (i32.const 42) (i32.const 0)))
    (call $print (i32.const 256) (i32.const 28))
    (drop (call_indirect (type $v2i) (i32.const 1)))
    (call $print (i32.const 300) (i32.const 12))))
