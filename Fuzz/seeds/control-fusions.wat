(module
  (memory 1)
  ;; a list at 16 -> 32 -> 48 -> 0 (next pointer first, then a value)
  (data (i32.const 16) "\20\00\00\00\05\01\00\00")
  (data (i32.const 32) "\30\00\00\00\07\02\00\00")
  (data (i32.const 48) "\00\00\00\00\09\03\00\00")
  ;; fib(n) mod 2^32, its loop ending in a copy and a back-edge br
  (func (export "fib") (param i32) (result i32) (local i32 i32 i32)
    (local.set 2 (i32.const 1))
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get 0)))
        (local.set 3 (i32.add (local.get 1) (local.get 2)))
        (local.set 1 (local.get 2))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (local.set 2 (local.get 3))
        (br $l)))
    (local.get 1))
  (func (export "choose") (param i32 i32 i32) (result i32)
    (if (result i32) (local.get 0) (then (local.get 1)) (else (local.get 2))))
  ;; nodes from p on (p = p->next; while (p))
  (func (export "length") (param i32) (result i32) (local i32)
    (loop $l
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br_if $l (local.tee 0 (i32.load (local.get 0)))))
    (local.get 1))
  ;; whether p has a successor, through `if` on the loaded next pointer
  (func (export "has-next") (param i32) (result i32)
    (if (result i32) (i32.load (local.get 0)) (then (i32.const 1)) (else (i32.const 0))))
  ;; the first node whose value's low byte is v: (p->value & 0xff) == v
  (func (export "find") (param i32 i32) (result i32)
    (block $found
      (loop $l
        (br_if $found (i32.eq (i32.and (i32.load offset=4 (local.get 0)) (i32.const 0xff)) (local.get 1)))
        (br_if $l (local.tee 0 (i32.load (local.get 0))))))
    (local.get 0))
  (func (export "low-byte-is") (param i32 i32) (result i32)
    (if (result i32) (i32.eq (local.get 1) (i32.and (local.get 0) (i32.const 0xff)))
      (then (i32.const 1)) (else (i32.const 0))))
)
