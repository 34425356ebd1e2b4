// The persistence test's boot class: prints once, starts the three workers
// (each gets the boot object as the argument of its method 8) and ends.
class .ru.dz.phantom.system.boot
methods 16

method startup ordinal 8
  arg_count 1
  os_get32 0
  sconst_bin "boot\n"
  call 16 1                       // boot.print
  os_drop
  os_get32 0
  summon_by_name ".phantom.test.counter"
  new
  call 18 1                       // boot.startThread(counter)
  os_drop
  os_get32 0
  summon_by_name ".phantom.test.recursion"
  new
  call 18 1
  os_drop
  os_get32 0
  summon_by_name ".phantom.test.rings"
  new
  call 18 1
  os_drop
  summon_null
  ret
method end
