        (module
          (func (export "count-ne") (param $n i32) (result i32) (local $i i32) (local $s i32)
            (loop $l
              (local.set $s (i32.add (local.get $s) (i32.const 3)))
              (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n)))
              )
            (local.get $s))
          (func (export "count-lts") (param $from i32) (result i32) (local $s i32)
            (loop $l
              (local.set $s (i32.add (local.get $s) (i32.const 1)))
              (br_if $l (i32.lt_s (local.tee $from (i32.add (local.get $from) (i32.const 7))) (i32.const 100)))
              )
            (i32.add (i32.mul (local.get $s) (i32.const 1000)) (local.get $from)))
          (func (export "count-ltu") (param $from i32) (result i32) (local $s i32)
            (loop $l
              (local.set $s (i32.add (local.get $s) (i32.const 1)))
              (br_if $l (i32.lt_u (local.tee $from (i32.add (local.get $from) (i32.const 7))) (i32.const 100)))
              )
            (local.get $s))
          (func (export "stride") (param $j i32) (param $step i32) (param $n i32) (result i32) (local $s i32)
            (loop $l
              (local.set $s (i32.add (local.get $s) (i32.const 1)))
              (br_if $l (i32.lt_u (local.tee $j (i32.add (local.get $j) (local.get $step))) (local.get $n)))
              )
            (i32.add (i32.mul (local.get $s) (i32.const 1000)) (local.get $j)))
          (func (export "f64-consts") (param f64) (result f64)
            (f64.sub (f64.mul (f64.add (local.get 0) (f64.const 0.5)) (f64.const 3)) (f64.const 0.25)))
        )