// A deep recursion in progress: depth(300) recurses 300 frames down, spins
// at the bottom, and must come back as 300 every time, also when a snapshot
// (and a kill) fell in the middle of it.
class .phantom.test.recursion
objects 1                         // 0: the boot object
methods 17

method run ordinal 8
  arg_count 1
  os_get32 0
  os_save8 0
  stack_reserve 0 1               // integer local 0: the round
again:
  summon_this
  iconst_32bit 300
  i2o
  call 16 1                       // this.depth(300)
  o2i
  iconst_32bit 300
  isublu
  jz ok
  sconst_bin "recursion broken"
  throw
ok:
  os_load8 0
  sconst_bin "recursion ok "
  is_get32 0
  i2o
  call 5 0
  call 10 1
  sconst_bin "\n"
  call 10 1
  call 16 1
  os_drop
  is_get32 0
  iconst_1
  isum
  is_dup
  is_set32 0
  iconst_8bit 12
  ilt
  jz finished
  jmp again
finished:
  os_load8 0
  sconst_bin "recursion done\n"
  call 16 1
  os_drop
  summon_null
  ret
method end

method depth ordinal 16
  arg_count 1
  os_get32 0
  o2i
  jz bottom
  summon_this
  os_get32 0
  o2i
  iconst_1
  isublu
  i2o
  call 16 1                       // depth(n - 1)
  o2i
  iconst_1
  isum
  i2o
  ret
bottom:
  iconst_32bit 3000
spin:
  djnz spin
  is_drop
  iconst_0
  i2o
  ret
method end
