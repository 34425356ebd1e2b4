// Boot for the regression mirror: as Phantom's boot class does, it creates
// the regression test object, runs it, and prints a thrown string.
class .ru.dz.phantom.system.boot
methods 16

method startup ordinal 8
  arg_count 1
  summon_string_class
  push_catcher failed
  os_get32 0
  sconst_bin "Starting compiler regression tests\n"
  call 16 1
  os_drop
  summon_by_name ".ru.dz.phantom.system.regression_tests"
  new
  os_pull32 0
  summon_by_name ".ru.dz.phantom.system.regression_tests"
  static_invoke 16 0              // the constructor
  os_drop
  os_get32 0
  call 19 1                       // run(boot)
  os_drop
  os_get32 0
  sconst_bin "Finished compiler regression tests\n"
  call 16 1
  os_drop
  pop_catcher
  jmp out
failed:
  os_get32 0
  sconst_bin "\r\nException: '"
  call 16 1
  os_drop
  os_get32 0
  os_pull32 1
  call 16 1
  os_drop
  os_get32 0
  sconst_bin "'\n"
  call 16 1
  os_drop
  os_drop
out:
  summon_null
  ret
method end
