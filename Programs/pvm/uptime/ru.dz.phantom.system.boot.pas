// The default system's Phantom VM component (system/default.config, start
// "uptime"): boot prints once and starts the uptime thread. After a restart
// boot never runs again; the thread continues where the snapshot left it.
class .ru.dz.phantom.system.boot
methods 16

method startup ordinal 8
  arg_count 1
  os_get32 0
  sconst_bin "uptime: booted once; every restart continues the count\n"
  call 16 1                       // boot.print
  os_drop
  os_get32 0
  summon_by_name ".phantom.uptime"
  new
  call 18 1                       // boot.startThread(uptime)
  os_drop
  summon_null
  ret
method end
