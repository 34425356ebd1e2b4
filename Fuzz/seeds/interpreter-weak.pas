// A seed of the interpreter fuzzer (Fuzz/run.sh interpreter), and the
// reproducer of the collector's weak-reference bugs: weak references used
// across many slices, so that the small and frequent cycles of the fuzz
// target begin while their targets are only weakly reachable. Each time
// round, what the weak reference W gives is kept on the stack, a weak
// reference V is copied (the copy kept too), both are set to fresh strings,
// and a loop making garbage follows (where slices mostly end). A target got
// or copied while a cycle marks must survive it: the heap check after every
// round sees a freed one. Built by build-interpreter.sh.
class .test.boot
objects 4
methods 16

method startup ordinal 8
  arg_count 1
  summon_by_name ".internal.weakref"
  new
  os_save8 0                      // field 0: W
  summon_by_name ".internal.weakref"
  new
  os_save8 1                      // field 1: V
  iconst_32bit 400
again:
  os_load8 0
  call 8 0                        // W.get: last time's string, or null, kept on the stack
  os_load8 1
  copy                            // a copy of V, kept on the stack too
  os_dup
  os_save8 2                      // and in field 2
  os_load8 0
  sconst_bin "w "
  is_dup
  i2o
  call 5 0
  call 10 1                       // a fresh "w N"
  call 9 1                        // W.set
  os_drop
  os_load8 1
  sconst_bin "v "
  is_dup
  i2o
  call 5 0
  call 10 1                       // a fresh "v N"
  call 9 1                        // V.set
  os_drop
  iconst_32bit 100
idle:
  iconst_1
  i2o                             // garbage, so that cycles come often
  os_drop
  djnz idle
  is_drop
  djnz again
  is_drop
  os_load8 2
  call 8 0
  call 5 0
  os_get32 0
  os_pull32 1
  call 16 1
  summon_null
  ret
method end
