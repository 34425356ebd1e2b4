// PhantomDispatch.h is all static inline: its handlers are compiled into the one
// Swift file that imports it (PhantomWasm/Execution/Dispatch.swift). This file
// only checks that the header compiles on its own.
#include "PhantomDispatch.h"
