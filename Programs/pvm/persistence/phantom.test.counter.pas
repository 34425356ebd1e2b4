// A counter thread: counts to 200000 in an integer-stack local and prints
// "count N" every 20000, so that a resumed run continues the sequence.
class .phantom.test.counter
objects 1                         // 0: the boot object
methods 16

method run ordinal 8
  arg_count 1
  os_get32 0
  os_save8 0
  stack_reserve 0 1               // integer local 0: the count
loop:
  is_get32 0
  iconst_32bit 20000
  iremlu
  log_not
  jz skip
  os_load8 0
  sconst_bin "count "
  is_get32 0
  i2o
  call 5 0                        // toString
  call 10 1                       // concat
  sconst_bin "\n"
  call 10 1
  call 16 1                       // boot.print
  os_drop
skip:
  is_get32 0
  iconst_1
  isum
  is_dup
  is_set32 0
  iconst_32bit 200000
  ilt
  jz done
  jmp loop
done:
  os_load8 0
  sconst_bin "counter done\n"
  call 16 1
  os_drop
  summon_null
  ret
method end
