// A seed of the interpreter fuzzer (Fuzz/run.sh interpreter): the boot
// class's startup calls the native methods of the internal classes once
// each, with the arguments they take, so that mutations start from calls
// that reach the methods' bodies. Built by build-interpreter.sh.
class .test.boot
objects 4
methods 18
const 0 ".internal.binary"
const 1 ".internal.directory"
const 2 ".internal.mutex"
const 3 ".internal.weakref"
const 4 ".internal.sema"
const 5 ".internal.cond"
const 6 ".internal.world"
const 7 ".internal.closure"
const 8 ".internal.time"

method startup ordinal 8
  arg_count 1
  os_get32 0
  os_save8 0                      // field 0: the boot object
  // strings: "hello, world".substring(7, 5), charAt 1, concat, length, strstr, toInt
  sconst_bin "hello, world"
  iconst_8bit 7
  i2o
  iconst_8bit 5
  i2o
  call 8 2
  iconst_1
  i2o
  call 9 1
  call 5 0
  sconst_bin "12345"
  call 10 1
  os_dup
  call 11 0
  os_drop
  os_dup
  sconst_bin "23"
  call 12 1
  os_drop
  call 16 0
  os_drop
  // arrays: set(value, 100), get(100), size
  summon_array_class
  new
  os_save8 1
  os_load8 1
  sconst_bin "x"
  iconst_8bit 100
  i2o
  call 11 2
  os_drop
  os_load8 1
  iconst_8bit 100
  i2o
  call 10 1
  os_drop
  os_load8 1
  call 12 0
  os_drop
  // binary: createBinary(16), setByte(3, 65), getByte(3), setRange(itself, 0, 2, 8)
  os_load8 0
  iconst_8bit 16
  i2o
  call 19 1
  os_save8 2
  os_load8 2
  iconst_8bit 3
  i2o
  iconst_8bit 65
  i2o
  call 9 2
  os_drop
  os_load8 2
  iconst_8bit 3
  i2o
  call 8 1
  os_drop
  os_load8 2
  os_load8 2
  iconst_0
  i2o
  iconst_8bit 2
  i2o
  iconst_8bit 8
  i2o
  call 10 4
  os_drop
  // directory: put("k", 1), get("k"), size, remove("k")
  const_pool 1
  summon_by_name ".internal.directory"
  new
  os_save8 3
  os_load8 3
  sconst_bin "k"
  iconst_1
  i2o
  call 8 2
  os_drop
  os_load8 3
  sconst_bin "k"
  call 9 1
  os_drop
  os_load8 3
  call 11 0
  os_drop
  os_load8 3
  sconst_bin "k"
  call 10 1
  os_drop
  os_drop
  // mutex: lock, trylock, unlock
  summon_by_name ".internal.mutex"
  new
  os_dup
  os_dup
  call 8 0
  os_drop
  call 10 0
  os_drop
  call 9 0
  os_drop
  // semaphore: release, acquire
  summon_by_name ".internal.sema"
  new
  os_dup
  call 11 0
  os_drop
  call 8 0
  os_drop
  // weakref: set(a string), get
  summon_by_name ".internal.weakref"
  new
  os_dup
  sconst_bin "weak"
  call 9 1
  os_drop
  call 8 0
  os_drop
  // closure: setObject(this), setOrdinal(16), getOrdinal
  summon_by_name ".internal.closure"
  new
  os_dup
  summon_this
  call 11 1
  os_drop
  os_dup
  iconst_8bit 16
  i2o
  call 10 1
  os_drop
  call 9 0
  os_drop
  // world: getMyThread, log(text), startThread(this, 3)
  summon_by_name ".internal.world"
  new
  os_dup
  call 8 0
  call 14 0                       // thread.getOsInterface
  os_drop
  os_dup
  sconst_bin "log"
  call 10 1
  os_drop
  summon_this
  iconst_8bit 3
  i2o
  call 9 2
  os_drop
  // stat(0, 1), idle(); class.instanceOf(this); getClass, hashCode, equals, clone of an int
  summon_by_name ".internal.stat"
  new
  os_dup
  iconst_0
  i2o
  iconst_1
  i2o
  call 16 2
  os_drop
  call 17 0
  os_drop
  summon_this
  call 2 0
  summon_this
  call 14 1
  os_drop
  summon_this
  call 15 0
  os_drop
  iconst_8bit 42
  i2o
  os_dup
  call 3 0
  call 4 1
  os_drop
  // strings to numbers
  sconst_bin " 123 "
  call 17 0
  call 5 0
  call 19 0
  call 5 0
  call 18 0
  call 6 0
  os_drop
  // the tty: putws, debug
  summon_by_name ".internal.io.tty"
  new
  os_dup
  sconst_bin "tty\n"
  call 17 1
  os_drop
  summon_this
  call 18 1
  os_drop
  // dynamic_invoke of again(0), static_invoke of toString, copy of an array
  iconst_0
  i2o
  summon_this
  iconst_1
  sconst_bin "again"
  dynamic_invoke
  os_drop
  summon_this
  summon_this
  call 2 0
  static_invoke 5 0
  os_drop
  summon_array_class
  new
  copy
  os_drop
  // a catcher of strings, a thrown string, then a thread and a sleep
  summon_string_class
  push_catcher caught
  sconst_bin "thrown"
  throw
caught:
  os_drop
  pop_catcher
  os_load8 0
  summon_this
  call 18 1                       // boot.startThread(this): method 8 of a new .test.boot
  os_drop
  os_load8 0
  iconst_8bit 10
  i2o
  call 21 1                       // boot.sleep(10)
  os_drop
  summon_by_name ".internal.time"
  new
  call 16 0
  os_drop
  os_load8 0
  sconst_bin "natives done\n"
  call 16 1                       // boot.print
  os_drop
  summon_this
  iconst_8bit 3
  i2o
  call 16 1
  ret
method end

// again(n): n - 1 until 0, by recursion through call and a tail call.
method again ordinal 16
  arg_count 1
  os_get32 0
  o2i
  jz done
  summon_this
  os_get32 0
  o2i
  iconst_1
  isublu
  i2o
  call 17 1
  ret
done:
  summon_null
  ret
method end

method again2 ordinal 17
  arg_count 1
  summon_this
  os_get32 0
  call 16 1
  ret
method end
