// Branches of every kind: switch (with a jump by offset), a catcher, djnz,
// debug text, a 64-bit constant, container types and an old-layout signature.
class .ru.dz.demo.dispatch
parent .ru.dz.demo.counter
objects 3
field log ordinal 1 .internal.container.array[.internal.string]
field raw ordinal 2 [.internal.object]
const 3 "three"
signature pick ordinal 18 old returns .internal.string (which .internal.int)
signature "<init>" ordinal 0 constructor returns .internal.void ()
method pick ordinal 18
  summon_by_name ".internal.string"
  push_catcher caught
  os_get32 0
  o2i
  switch -1 1 one two three @0
  sconst_bin "other"
  ret
one:  sconst_bin "one"
  ret
two:
  iconst_8bit 3
loop:
  debug 129 "tick"
  djnz loop
  is_drop
  iconst_64bit -9223372036854775808
  prefix_long
  i2o
  ret
three:
  const_pool 3
  pop_catcher
  ret
caught:
  sys_8bit 4
  static_invoke 0 0
  ret
method end
