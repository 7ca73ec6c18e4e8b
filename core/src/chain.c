/* ELA chain codecs: placeholder translation unit filled in by the chain step. */
#include "internal.h"
