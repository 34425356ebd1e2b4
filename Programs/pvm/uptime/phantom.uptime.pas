// Counts the seconds it has been up, in an integer-stack local, sleeping ten
// seconds between lines. The count lives in the thread's frame in the object
// space: after kill -9 it continues from the last snapshot, and a sleep cut
// short by the restart sleeps out the rest of its time.
class .phantom.uptime
objects 1                         // 0: the boot object
methods 16

method run ordinal 8
  arg_count 1
  os_get32 0
  os_save8 0
  stack_reserve 0 1               // integer local 0: seconds up
loop:
  os_load8 0
  iconst_32bit 10000
  i2o
  call 21 1                       // boot.sleep(10000 ms)
  os_drop
  is_get32 0
  iconst_8bit 10
  isum
  is_set32 0
  os_load8 0
  sconst_bin "uptime: "
  is_get32 0
  i2o
  call 5 0                        // toString
  call 10 1                       // concat
  sconst_bin " s of Phantom bytecode\n"
  call 10 1
  call 16 1                       // boot.print
  os_drop
  jmp loop
method end
