#include "CPhantomSupport.h"
#include <stdio.h>

void phantom_line_buffer_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

int phantom_stdout_failed(void) {
    fflush(stdout);
    return ferror(stdout) != 0;
}
