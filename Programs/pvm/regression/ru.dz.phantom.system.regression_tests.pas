// Our mirror of Phantom's compiler regression test class
// (plib/sys/src/ru.dz/ru.dz.phantom.system.regression_tests.ph and its 2019
// listing): the same checks, texts and failure strings, written in our
// assembly in the code shapes Phantom's compiler emits.
class .ru.dz.phantom.system.regression_tests
objects 9
methods 30
field boot_object ordinal 0 .internal.object
field boot_success ordinal 1 .internal.int
field i ordinal 2 .internal.int
field j ordinal 3 .internal.int
field int_array ordinal 4 .internal.container.array[.internal.int]
field str_array ordinal 5 .internal.container.array[.internal.string]
field ctor_called ordinal 6 .internal.int
field called_string_one ordinal 7 .internal.int
field called_int_one ordinal 8 .internal.int

method "<init>" ordinal 16
  arg_count 0
  iconst_32bit 3456
  i2o
  os_save8 6
  summon_null
  ret
method end

method print ordinal 17
  arg_count 1
  os_load8 0
  os_get32 0
  call 16 1
  ret
method end

method run ordinal 19
  arg_count 1
  stack_reserve 1 0
  os_get32 0
  os_save8 0
  iconst_0
  i2o
  os_save8 1
  summon_this
  sconst_bin "Phantom language regression tests are running\n"
  call 17 1
  os_drop
  summon_this
  call 21 0
  os_drop
  summon_this
  call 23 0
  os_drop
  summon_this
  call 24 0
  os_drop
  summon_this
  call 26 0
  os_drop
  summon_this
  sconst_bin "ctor_called ="
  call 17 1
  os_drop
  summon_this
  os_load8 6
  call 5 0
  call 17 1
  os_drop
  summon_this
  sconst_bin "\n"
  call 17 1
  os_drop
  os_load8 6
  o2i
  iconst_32bit 3456
  isublu
  jz ok_1
  sconst_bin "constructor failed"
  throw
ok_1:
  summon_this
  call 18 0
  os_drop
  summon_this
  call 25 0
  os_drop
  summon_this
  call 27 0
  os_drop
  summon_this
  call 28 0
  os_drop
  summon_by_name ".phantom.util.map"
  new
  os_pull32 0
  summon_by_name ".phantom.util.map"
  static_invoke 16 0
  os_drop
  os_set32 1
  summon_null
  ret
method end

method flow_test ordinal 21
  arg_count 0
  summon_this
  sconst_bin "Checking flow control operators... "
  call 17 1
  os_drop
  iconst_0
  jz ok_2
  sconst_bin "if(0) error"
  throw
ok_2:
  iconst_0
  iconst_1
  isublu
  log_not
  jz ok_3
  sconst_bin "if or == error"
  throw
ok_3:
  iconst_0
  iconst_0
  isublu
  jz ok_4
  sconst_bin "if or != error"
  throw
ok_4:
  iconst_0
  i2o
  os_save8 3
  iconst_1
  jz flow_j_set
  iconst_1
  i2o
  os_save8 3
flow_j_set:
  os_load8 3
  iconst_1
  i2o
  call 4 1
  o2i
  jz flow_if1_error
  jmp flow_if1_ok
flow_if1_error:
  sconst_bin "if(1) error"
  throw
flow_if1_ok:
  summon_this
  call 29 0
  os_drop
  iconst_8bit 2
  i2o
  os_save8 2
  os_load8 2
  o2i
  is_dup
  iconst_1
  isublu
  jz case_1
  is_dup
  iconst_8bit 2
  isublu
  jz case_2
  is_dup
  iconst_8bit 3
  isublu
  jz case_3
  jmp case_default
case_1:
  is_drop
  sconst_bin "switch fall in error"
  throw
case_2:
  is_drop
  jmp switch_end
case_3:
  is_drop
  sconst_bin "switch fall out error"
  throw
case_default:
  is_drop
  sconst_bin "switch default error"
  throw
switch_end:
  summon_this
  sconst_bin "passed\n"
  call 17 1
  os_drop
  summon_null
  ret
method end

method test_do_while ordinal 29
  arg_count 0
  iconst_8bit 3
  i2o
  os_save8 2
  iconst_0
  i2o
  os_save8 3
do_body:
  os_load8 3
  o2i
  iconst_1
  isum
  i2o
  os_save8 3
  os_load8 2
  o2i
  jz do_end
  os_load8 2
  o2i
  iconst_1
  isublu
  i2o
  os_save8 2
  jmp do_body
do_end:
  os_load8 3
  o2i
  iconst_8bit 4
  isublu
  jz ok_5
  sconst_bin "do/while error"
  throw
ok_5:
  summon_null
  ret
method end

method math_test ordinal 23
  arg_count 0
  summon_this
  sconst_bin "Checking int math... "
  call 17 1
  os_drop
  iconst_8bit 12
  iconst_8bit 2
  idivlu
  iconst_8bit 6
  isublu
  jz ok_6
  sconst_bin "int error"
  throw
ok_6:
  iconst_8bit 2
  iconst_8bit 2
  isum
  iconst_8bit 4
  isublu
  jz ok_7
  sconst_bin "int + math error"
  throw
ok_7:
  iconst_8bit 2
  iconst_8bit 2
  isublu
  iconst_0
  isublu
  jz ok_8
  sconst_bin "int - math error"
  throw
ok_8:
  iconst_8bit 2
  iconst_8bit 2
  idivlu
  iconst_1
  isublu
  jz ok_9
  sconst_bin "int / math error"
  throw
ok_9:
  iconst_8bit 3
  iconst_8bit 3
  imul
  iconst_8bit 9
  isublu
  jz ok_10
  sconst_bin "int * math error"
  throw
ok_10:
  iconst_8bit 3
  iconst_8bit 2
  ilt
  jz ok_11
  sconst_bin "int < error"
  throw
ok_11:
  iconst_8bit 5
  iconst_8bit 6
  igt
  jz ok_12
  sconst_bin "int > error"
  throw
ok_12:
  iconst_8bit 3
  iconst_8bit 2
  ile
  jz ok_13
  sconst_bin "int <= error"
  throw
ok_13:
  iconst_8bit 5
  iconst_8bit 6
  ige
  jz ok_14
  sconst_bin "int >= error"
  throw
ok_14:
  iconst_8bit 3
  iconst_8bit 3
  ile
  log_not
  jz ok_15
  sconst_bin "int <= error"
  throw
ok_15:
  iconst_8bit 5
  iconst_8bit 5
  ige
  log_not
  jz ok_16
  sconst_bin "int >= error"
  throw
ok_16:
  iconst_0
  iconst_0
  log_or
  jz ok_17
  sconst_bin "int || math error"
  throw
ok_17:
  iconst_1
  iconst_0
  log_or
  log_not
  jz ok_18
  sconst_bin "int || math error"
  throw
ok_18:
  iconst_0
  iconst_1
  log_or
  log_not
  jz ok_19
  sconst_bin "int || math error"
  throw
ok_19:
  iconst_1
  iconst_1
  log_or
  log_not
  jz ok_20
  sconst_bin "int || math error"
  throw
ok_20:
  iconst_0
  iconst_0
  log_and
  jz ok_21
  sconst_bin "int && math error"
  throw
ok_21:
  iconst_1
  iconst_0
  log_and
  jz ok_22
  sconst_bin "int && math error"
  throw
ok_22:
  iconst_0
  iconst_1
  log_and
  jz ok_23
  sconst_bin "int && math error"
  throw
ok_23:
  iconst_1
  iconst_1
  log_and
  log_not
  jz ok_24
  sconst_bin "int && math error"
  throw
ok_24:
  iconst_0
  iconst_0
  ior
  jz ok_25
  sconst_bin "int | math error"
  throw
ok_25:
  iconst_1
  iconst_0
  ior
  log_not
  jz ok_26
  sconst_bin "int | math error"
  throw
ok_26:
  iconst_0
  iconst_1
  ior
  log_not
  jz ok_27
  sconst_bin "int | math error"
  throw
ok_27:
  iconst_1
  iconst_1
  ior
  log_not
  jz ok_28
  sconst_bin "int | math error"
  throw
ok_28:
  iconst_0
  iconst_0
  iand
  jz ok_29
  sconst_bin "int & math error"
  throw
ok_29:
  iconst_1
  iconst_0
  iand
  jz ok_30
  sconst_bin "int & math error"
  throw
ok_30:
  iconst_0
  iconst_1
  iand
  jz ok_31
  sconst_bin "int & math error"
  throw
ok_31:
  iconst_1
  iconst_1
  iand
  log_not
  jz ok_32
  sconst_bin "int & math error"
  throw
ok_32:
  summon_this
  sconst_bin "passed\n"
  call 17 1
  os_drop
  summon_null
  ret
method end

method array_test ordinal 24
  arg_count 0
  summon_this
  sconst_bin "Checking arrays... "
  call 17 1
  os_drop
  summon_array_class
  new
  os_save8 4
  summon_array_class
  new
  os_save8 5
  os_load8 5
  sconst_bin "zero"
  iconst_0
  i2o
  call 11 2
  os_drop
  os_load8 5
  sconst_bin "two"
  iconst_8bit 2
  i2o
  call 11 2
  os_drop
  os_load8 5
  sconst_bin "one"
  iconst_1
  i2o
  call 11 2
  os_drop
  summon_this
  sconst_bin "Beeping: "
  call 17 1
  os_drop
  iconst_8bit 3
  i2o
  os_save8 2
beep_loop:
  os_load8 2
  o2i
  jz beep_end
  os_load8 2
  o2i
  iconst_1
  isublu
  i2o
  os_save8 2
  summon_this
  sconst_bin "beep "
  call 17 1
  os_drop
  summon_this
  os_load8 5
  os_load8 2
  call 10 1
  call 17 1
  os_drop
  summon_this
  sconst_bin "! "
  call 17 1
  os_drop
  jmp beep_loop
beep_end:
  summon_this
  sconst_bin "\n"
  call 17 1
  os_drop
  os_load8 4
  iconst_0
  i2o
  iconst_0
  i2o
  call 11 2
  os_drop
  os_load8 4
  iconst_8bit 2
  i2o
  iconst_8bit 2
  i2o
  call 11 2
  os_drop
  os_load8 4
  iconst_1
  i2o
  iconst_1
  i2o
  call 11 2
  os_drop
  iconst_8bit 3
  i2o
  os_save8 2
check_loop:
  os_load8 2
  o2i
  jz check_end
  os_load8 2
  o2i
  iconst_1
  isublu
  i2o
  os_save8 2
  os_load8 4
  os_load8 2
  call 10 1
  os_load8 2
  call 4 1
  o2i
  jz array_error
  jmp check_loop
array_error:
  summon_this
  sconst_bin "array error: array["
  call 17 1
  os_drop
  summon_this
  os_load8 2
  call 5 0
  call 17 1
  os_drop
  summon_this
  sconst_bin "] == "
  call 17 1
  os_drop
  summon_this
  os_load8 4
  os_load8 2
  call 10 1
  call 5 0
  call 17 1
  os_drop
  sconst_bin "array error"
  throw
check_end:
  summon_this
  sconst_bin "passed\n"
  call 17 1
  os_drop
  summon_null
  ret
method end

method hashmap_directory_test ordinal 26
  arg_count 0
  stack_reserve 1 0
  summon_this
  sconst_bin "Checking .internal.directory class operations... "
  call 17 1
  os_drop
  summon_by_name ".internal.directory"
  new
  os_set32 0
  summon_this
  sconst_bin "new\n"
  call 17 1
  os_drop
  os_get32 0
  sconst_bin "Hello"
  sconst_bin "world"
  summon_by_name ".internal.object"
  cast
  call 8 2
  os_drop
  os_get32 0
  sconst_bin "Privet"
  sconst_bin "mir"
  summon_by_name ".internal.object"
  cast
  call 8 2
  os_drop
  os_get32 0
  sconst_bin "Hola"
  sconst_bin "mundo"
  summon_by_name ".internal.object"
  cast
  call 8 2
  os_drop
  os_get32 0
  sconst_bin "Privet"
  call 9 1
  sconst_bin "mir"
  call 4 1
  o2i
  log_not
  jz ok_33
  sconst_bin "dir error 1"
  throw
ok_33:
  os_get32 0
  sconst_bin "Hola"
  call 9 1
  sconst_bin "mundo"
  call 4 1
  o2i
  log_not
  jz ok_34
  sconst_bin "dir error 2"
  throw
ok_34:
  os_get32 0
  sconst_bin "Hello"
  call 9 1
  sconst_bin "world"
  call 4 1
  o2i
  log_not
  jz ok_35
  sconst_bin "dir error 3"
  throw
ok_35:
  summon_this
  sconst_bin "passed\n"
  call 17 1
  os_drop
  summon_null
  ret
method end

method long_test ordinal 18
  arg_count 0
  stack_reserve 0 6
  summon_this
  sconst_bin "start long tests\n"
  call 17 1
  os_drop
  iconst_8bit 12
  prefix_long
  fromi
  prefix_long
  is_set32 0
  iconst_8bit 2
  prefix_long
  fromi
  prefix_long
  is_set32 2
  iconst_0
  iconst_8bit 3
  isublu
  prefix_long
  fromi
  prefix_long
  is_set32 4
  summon_this
  sconst_bin "long tests 1\n"
  call 17 1
  os_drop
  prefix_long
  is_get32 0
  prefix_long
  is_get32 2
  prefix_long
  idivlu
  iconst_8bit 6
  prefix_long
  fromi
  prefix_long
  isublu
  froml
  jz ok_36
  sconst_bin "long error 1"
  throw
ok_36:
  prefix_long
  is_get32 2
  prefix_long
  is_get32 4
  prefix_long
  isublu
  iconst_8bit 5
  prefix_long
  fromi
  prefix_long
  isublu
  froml
  jz ok_37
  sconst_bin "long error 2"
  throw
ok_37:
  prefix_long
  is_get32 2
  prefix_long
  is_get32 4
  prefix_long
  imul
  iconst_0
  iconst_8bit 6
  isublu
  prefix_long
  fromi
  prefix_long
  isublu
  froml
  jz ok_38
  sconst_bin "long error 3"
  throw
ok_38:
  prefix_long
  is_get32 0
  prefix_long
  is_get32 4
  prefix_long
  isum
  iconst_8bit 9
  prefix_long
  fromi
  prefix_long
  isublu
  froml
  jz ok_39
  sconst_bin "long error 4"
  throw
ok_39:
  summon_this
  sconst_bin "long tests 2\n"
  call 17 1
  os_drop
  prefix_long
  is_get32 2
  prefix_long
  is_get32 4
  prefix_long
  ilt
  jz ok_40
  sconst_bin "long error 5"
  throw
ok_40:
  prefix_long
  is_get32 2
  prefix_long
  is_get32 0
  prefix_long
  igt
  jz ok_41
  sconst_bin "long error 6"
  throw
ok_41:
  prefix_long
  is_get32 2
  prefix_long
  is_get32 4
  prefix_long
  ile
  jz ok_42
  sconst_bin "long error 7"
  throw
ok_42:
  prefix_long
  is_get32 2
  prefix_long
  is_get32 0
  prefix_long
  ige
  jz ok_43
  sconst_bin "long error 8"
  throw
ok_43:
  summon_this
  sconst_bin "long tests passed\n"
  call 17 1
  os_drop
  summon_null
  ret
method end

method float_test ordinal 25
  arg_count 0
  stack_reserve 0 3
  iconst_8bit 12
  prefix_float
  fromi
  prefix_float
  is_set32 0
  iconst_8bit 2
  prefix_float
  fromi
  prefix_float
  is_set32 1
  iconst_0
  iconst_8bit 3
  isublu
  prefix_float
  fromi
  prefix_float
  is_set32 2
  prefix_float
  is_get32 0
  prefix_float
  is_get32 1
  prefix_float
  idivlu
  iconst_8bit 6
  prefix_float
  fromi
  prefix_float
  isublu
  fromf
  jz ok_44
  sconst_bin "float error 1"
  throw
ok_44:
  prefix_float
  is_get32 1
  prefix_float
  is_get32 2
  prefix_float
  isublu
  iconst_8bit 5
  prefix_float
  fromi
  prefix_float
  isublu
  fromf
  jz ok_45
  sconst_bin "float error 2"
  throw
ok_45:
  prefix_float
  is_get32 1
  prefix_float
  is_get32 2
  prefix_float
  imul
  iconst_0
  iconst_8bit 6
  isublu
  prefix_float
  fromi
  prefix_float
  isublu
  fromf
  jz ok_46
  sconst_bin "float error 3"
  throw
ok_46:
  prefix_float
  is_get32 0
  prefix_float
  is_get32 2
  prefix_float
  isum
  iconst_8bit 9
  prefix_float
  fromi
  prefix_float
  isublu
  fromf
  jz ok_47
  sconst_bin "float error 4"
  throw
ok_47:
  prefix_float
  is_get32 1
  prefix_float
  is_get32 2
  prefix_float
  ilt
  jz ok_48
  sconst_bin "float error 5"
  throw
ok_48:
  prefix_float
  is_get32 1
  prefix_float
  is_get32 0
  prefix_float
  igt
  jz ok_49
  sconst_bin "float error 6"
  throw
ok_49:
  prefix_float
  is_get32 1
  prefix_float
  is_get32 2
  prefix_float
  ile
  jz ok_50
  sconst_bin "float error 7"
  throw
ok_50:
  prefix_float
  is_get32 1
  prefix_float
  is_get32 0
  prefix_float
  ige
  jz ok_51
  sconst_bin "float error 8"
  throw
ok_51:
  summon_this
  sconst_bin "float tests passed\n"
  call 17 1
  os_drop
  summon_null
  ret
method end

method double_test ordinal 27
  arg_count 0
  stack_reserve 0 6
  iconst_8bit 12
  prefix_double
  fromi
  prefix_double
  is_set32 0
  iconst_8bit 2
  prefix_double
  fromi
  prefix_double
  is_set32 2
  iconst_32bit -3
  prefix_double
  fromi
  prefix_double
  is_set32 4
  prefix_double
  is_get32 0
  prefix_double
  is_get32 2
  prefix_double
  idivlu
  iconst_8bit 6
  prefix_double
  fromi
  prefix_double
  isublu
  fromd
  jz ok_52
  sconst_bin "double error 1"
  throw
ok_52:
  prefix_double
  is_get32 2
  prefix_double
  is_get32 4
  prefix_double
  isublu
  iconst_8bit 5
  prefix_double
  fromi
  prefix_double
  isublu
  fromd
  jz ok_53
  sconst_bin "double error 2"
  throw
ok_53:
  prefix_double
  is_get32 2
  prefix_double
  is_get32 4
  prefix_double
  imul
  iconst_0
  iconst_8bit 6
  isublu
  prefix_double
  fromi
  prefix_double
  isublu
  fromd
  jz ok_54
  sconst_bin "double error 3"
  throw
ok_54:
  prefix_double
  is_get32 0
  prefix_double
  is_get32 4
  prefix_double
  isum
  iconst_8bit 9
  prefix_double
  fromi
  prefix_double
  isublu
  fromd
  jz ok_55
  sconst_bin "double error 4"
  throw
ok_55:
  prefix_double
  is_get32 2
  prefix_double
  is_get32 4
  prefix_double
  ilt
  jz ok_56
  sconst_bin "double error 5"
  throw
ok_56:
  prefix_double
  is_get32 2
  prefix_double
  is_get32 0
  prefix_double
  igt
  jz ok_57
  sconst_bin "double error 6"
  throw
ok_57:
  prefix_double
  is_get32 2
  prefix_double
  is_get32 4
  prefix_double
  ile
  jz ok_58
  sconst_bin "double error 7"
  throw
ok_58:
  prefix_double
  is_get32 2
  prefix_double
  is_get32 0
  prefix_double
  ige
  jz ok_59
  sconst_bin "double error 8"
  throw
ok_59:
  summon_this
  sconst_bin "double tests passed\n"
  call 17 1
  os_drop
  summon_null
  ret
method end

method sig_func ordinal 20
  arg_count 1
  iconst_1
  i2o
  os_save8 7
  summon_null
  ret
method end

method sig_func ordinal 22
  arg_count 1
  iconst_1
  i2o
  os_save8 8
  summon_null
  ret
method end

method signature_test ordinal 28
  arg_count 0
  iconst_0
  i2o
  os_save8 7
  iconst_0
  i2o
  os_save8 8
  summon_this
  sconst_bin "hello"
  call 20 1
  os_drop
  os_load8 7
  o2i
  log_not
  jz ok_60
  sconst_bin "signature err 1"
  throw
ok_60:
  os_load8 8
  o2i
  jz ok_61
  sconst_bin "signature err 2"
  throw
ok_61:
  iconst_0
  i2o
  os_save8 7
  iconst_0
  i2o
  os_save8 8
  summon_this
  iconst_1
  i2o
  call 22 1
  os_drop
  os_load8 7
  o2i
  jz ok_62
  sconst_bin "signature err 3"
  throw
ok_62:
  os_load8 8
  o2i
  log_not
  jz ok_63
  sconst_bin "signature err 4"
  throw
ok_63:
  summon_null
  ret
method end
