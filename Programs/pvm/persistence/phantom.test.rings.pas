// An object graph with cycles being mutated: each round replaces the ring
// of 8 nodes this object holds with a new one, so the old ring becomes a
// garbage cycle for the collector, and checks that the ring closes after
// exactly 8 steps.
class .phantom.test.rings
objects 2                         // 0: the boot object, 1: the ring
methods 18

method run ordinal 8
  arg_count 1
  os_get32 0
  os_save8 0
  stack_reserve 0 1               // integer local 0: the round
again:
  summon_this
  call 16 0                       // this.build()
  os_drop
  summon_this
  call 17 0                       // this.check() → steps around the ring
  o2i
  iconst_8bit 8
  isublu
  jz ok
  sconst_bin "ring broken"
  throw
ok:
  is_get32 0
  iconst_32bit 500
  iremlu
  log_not
  jz next
  os_load8 0
  sconst_bin "rings ok "
  is_get32 0
  i2o
  call 5 0
  call 10 1
  sconst_bin "\n"
  call 10 1
  call 16 1
  os_drop
next:
  is_get32 0
  iconst_1
  isum
  is_dup
  is_set32 0
  iconst_32bit 2000
  ilt
  jz finished
  jmp again
finished:
  os_load8 0
  sconst_bin "rings done\n"
  call 16 1
  os_drop
  summon_null
  ret
method end

method build ordinal 16
  arg_count 0
  stack_reserve 2 0               // object locals 0: head, 1: current
  summon_by_name ".phantom.test.node"
  new
  os_dup
  os_set32 0
  os_set32 1
  iconst_8bit 7
loop:
  summon_by_name ".phantom.test.node"
  new                             // [head, current, node]
  os_get32 1
  os_pull32 1
  call 16 1                       // current.setNext(node)
  os_drop
  os_set32 1                      // current = node
  djnz loop
  is_drop
  os_get32 1
  os_get32 0
  call 16 1                       // last.setNext(head): the ring closes
  os_drop
  os_get32 0
  os_save8 1                      // this.ring = head
  summon_null
  ret
method end

method check ordinal 17
  arg_count 0
  stack_reserve 1 0               // object local 0: current
  os_load8 1
  os_set32 0
  iconst_0
loop:
  os_get32 0
  call 17 0                       // current.next()
  os_set32 0
  iconst_1
  isum
  os_get32 0
  os_load8 1
  os_eq
  jz loop
  i2o
  ret
method end
