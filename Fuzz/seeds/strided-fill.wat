(module
  (memory 1)
  (func (export "fill") (param $base i32) (param $j i32) (param $step i32) (param $n i32)
    (loop $l
      (i32.store8 (i32.add (local.get $base) (local.get $j)) (i32.const 7))
      (br_if $l (i32.lt_u (local.tee $j (i32.add (local.get $j) (local.get $step))) (local.get $n)))))
  (func (export "fill-swapped") (param $base i32) (param $j i32) (param $step i32) (param $n i32)
    (loop $l
      (i32.store8 offset=1 (i32.add (local.get $j) (local.get $base)) (i32.const 9))
      (br_if $l (i32.lt_u (local.tee $j (i32.add (local.get $step) (local.get $j))) (local.get $n)))))
  (func (export "byte") (param i32) (result i32) (i32.load8_u (local.get 0)))
)
