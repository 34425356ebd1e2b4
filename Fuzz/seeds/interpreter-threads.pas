// A seed of the interpreter fuzzer (Fuzz/run.sh interpreter): threads that
// wait for each other. Boot makes a mutex, a condition and a semaphore in
// the fields of its object and starts two threads on that same object
// (method 8 again, the boot object as argument); the first to take the
// mutex waits on the condition, the second signals it, sleeps, and releases
// the semaphore the first then acquires. Built by build-interpreter.sh.
class .test.boot
objects 4
methods 16

method startup ordinal 8
  arg_count 1
  os_load8 1                      // the mutex: made by boot, there for the workers
  os_isnull
  jz worker
  summon_by_name ".internal.mutex"
  new
  os_save8 1
  summon_by_name ".internal.cond"
  new
  os_save8 2
  summon_by_name ".internal.sema"
  new
  os_save8 3
  os_get32 0
  summon_this
  call 18 1                       // boot.startThread(this)
  os_drop
  os_get32 0
  summon_this
  call 18 1
  os_drop
  summon_null
  ret
worker:
  os_load8 1
  call 8 0                        // mutex.lock
  os_drop
  os_load8 0
  os_isnull
  jz second
  sconst_bin "first"
  os_save8 0
  os_load8 2
  os_load8 1
  call 8 1                        // cond.wait(mutex)
  os_drop
  os_load8 1
  call 9 0                        // mutex.unlock
  os_drop
  os_load8 3
  call 8 0                        // sema.acquire
  os_drop
  os_get32 0
  sconst_bin "first done\n"
  call 16 1
  os_drop
  summon_null
  ret
second:
  os_load8 2
  call 11 0                       // cond.signal
  os_drop
  os_load8 2
  call 10 0                       // cond.broadcast
  os_drop
  os_load8 1
  call 9 0                        // mutex.unlock
  os_drop
  os_get32 0
  iconst_8bit 5
  i2o
  call 21 1                       // boot.sleep(5)
  os_drop
  os_load8 3
  call 11 0                       // sema.release
  os_drop
  os_load8 1
  call 10 0                       // mutex.trylock
  os_drop
  os_load8 3
  call 10 0                       // sema.zero
  os_drop
  os_get32 0
  sconst_bin "second done\n"
  call 16 1
  os_drop
  summon_null
  ret
method end
