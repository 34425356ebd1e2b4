// Just enough of .phantom.util.map for the regression test's constructor call.
class .phantom.util.map
objects 1
methods 17

method "<init>" ordinal 16
  arg_count 0
  summon_by_name ".internal.directory"
  new
  os_save8 0
  summon_null
  ret
method end
