// Nothing to compile: the header declares libFuzzer's driver. SwiftPM wants one source file per C target.
#include "CLibFuzzer.h"
