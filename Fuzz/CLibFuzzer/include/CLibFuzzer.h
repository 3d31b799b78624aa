#ifndef CLIBFUZZER_H
#define CLIBFUZZER_H
// libFuzzer's driver, for fuzz targets that have a main of their own (SwiftPM gives every executable one).
// Defined in the fuzzer runtime that -sanitize=fuzzer links.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));

#endif
