#include "CPhantomSupport.h"
#include <stdio.h>

void phantom_line_buffer_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }
