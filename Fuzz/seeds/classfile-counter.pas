// A counter: count(n) adds n to the field `total` and returns the new total.
Class version 20240101000000000

class .ru.dz.demo.counter
parent .internal.object
objects 1                          ; one object slot: `total`
methods 18
field total ordinal 0 .internal.int
const 0 "count: negative step"

signature count ordinal 16 returns .internal.int (n .internal.int)
linemap 16 0:10 2:11
method count ordinal 16
--
  arg_count 1                      // the compiler's prologue: pops the argument count, throws unless 1
  os_get32 0                       // n
  o2i
  is_dup
  iconst_0
  ilt
  jz positive
  const_pool 0
  throw
positive:
  os_load8 0                       // total
  o2i
  isum
  i2o
  os_dup
  os_save8 0
  ret
--
method end

signature reset ordinal 17 returns .internal.void ()
method reset ordinal 17
  iconst_0
  i2o
  os_save8 0
  summon_null
  ret
method end
