(module
  (memory 1)
  ;; sum of select(7, 0, i & 1) for i < n: both arms are constant slots
  (func (export "odd-sevens") (param i32) (result i64) (local i64 i32)
    (loop $l
      (local.set 1 (i64.add (local.get 1)
        (select (i64.const 7) (i64.const 0) (i32.and (local.get 2) (i32.const 1)))))
      (local.set 2 (i32.add (local.get 2) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get 2) (local.get 0))))
    (local.get 1))
  ;; a loop whose constants are read after a recursive call in its body
  (func $nested (export "nested") (param i32) (result i32) (local i32 i32)
    (if (i32.eqz (local.get 0)) (then (return (i32.const 1))))
    (loop $l
      (local.set 1 (i32.add (local.get 1)
        (i32.add (call $nested (i32.sub (local.get 0) (i32.const 1)))
                 (select (i32.const 1000) (i32.const 3) (local.get 2)))))
      (local.set 2 (i32.add (local.get 2) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get 2) (i32.const 2))))
    (local.get 1))
  ;; constants only folded into immediates: no slot
  (func (export "count") (param i32) (result i32) (local i32)
    (loop $l
      (local.set 1 (i32.add (local.get 1) (i32.const 3)))
      (br_if $l (i32.lt_u (local.get 1) (local.get 0))))
    (local.get 1))
  ;; a constant stored as a byte and passed to a call inside a loop
  (func $id (param i32) (result i32) (local.get 0))
  (func (export "fill") (param i32 i32) (result i32) (local i32 i32)
    (loop $l
      (i32.store8 (i32.add (local.get 1) (local.get 2)) (i32.const 0x5a))
      (local.set 3 (i32.add (local.get 3) (call $id (i32.const 2))))
      (local.set 2 (i32.add (local.get 2) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get 2) (local.get 0))))
    (i32.add (local.get 3) (i32.load8_u (i32.add (local.get 1) (i32.sub (local.get 0) (i32.const 1))))))
)
