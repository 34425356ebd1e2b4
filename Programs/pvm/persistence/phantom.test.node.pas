// A node of a ring.
class .phantom.test.node
objects 1                         // 0: next
methods 18

method setNext ordinal 16
  arg_count 1
  os_get32 0
  os_save8 0
  summon_null
  ret
method end

method next ordinal 17
  arg_count 0
  os_load8 0
  ret
method end
