(module
  (func (export "int16") (param i32) (result i32)
    (i32.shr_s (i32.shl (local.get 0) (i32.const 16)) (i32.const 16)))
  (func (export "int8") (param i32) (result i32)
    (i32.shr_s (i32.shl (local.get 0) (i32.const 24)) (i32.const 24)))
  (func (export "not-an-extension") (param i32) (result i32)
    (i32.shr_s (i32.shl (local.get 0) (i32.const 16)) (i32.const 8)))
  ;; sum of (int16_t)(i * 0x1234) for i < n, the casts inside a loop
  (func (export "sum-int16") (param i32) (result i32) (local i32 i32)
    (loop $l
      (local.set 2 (i32.add (local.get 2)
        (i32.shr_s (i32.shl (i32.mul (local.get 1) (i32.const 0x1234)) (i32.const 16)) (i32.const 16))))
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get 1) (local.get 0))))
    (local.get 2))
  ;; rotate (a, b, c, d) left n times: t = a; a = b; b = c; c = d; d = t
  (func (export "rotate") (param i32 i32 i32 i32 i32) (result i32) (local i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get 4)))
        (local.set 5 (local.get 0))
        (local.set 0 (local.get 1))
        (local.set 1 (local.get 2))
        (local.set 2 (local.get 3))
        (local.set 3 (local.get 5))
        (local.set 4 (i32.sub (local.get 4) (i32.const 1)))
        (br $l)))
    (i32.add (i32.add (i32.mul (local.get 0) (i32.const 1000)) (i32.mul (local.get 1) (i32.const 100)))
             (i32.add (i32.mul (local.get 2) (i32.const 10)) (local.get 3))))
)
