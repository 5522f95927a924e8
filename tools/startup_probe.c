/* The start-up of a model through the C API, stopped after a chosen step: what
 * tools/arm_startup_count.sh runs under an emulator that logs every executed
 * instruction, so that the difference between two steps counts the instructions of
 * what lies between them (load + session creation), the process start and exit being
 * the same in both.
 *
 *   edgeq_startup_probe MODEL STEP [ISA]
 *
 * STEP: "none"    exits before loading (the baseline: process start, dynamic linking);
 *       "load"    exits after edgeq_model_load_file;
 *       "session" exits after edgeq_session_create too (one thread, level ISA or the
 *                 best the CPU has);
 *       "loop"    runs a loop of exactly 2 * kLoop + 1 instructions instead (AArch64;
 *                 the counting's calibration), then exits.
 * Each step ends in _exit(), so no destructor or exit handler runs after it. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "edgeq/edgeq.h"

enum { kLoop = 1000000 };

static void fail(const char* what) {
  fprintf(stderr, "edgeq_startup_probe: %s: %s\n", what, edgeq_last_error());
  _exit(1);
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: edgeq_startup_probe MODEL none|load|session|loop [ISA]\n");
    return 2;
  }
  const char* step = argv[2];
  if (strcmp(step, "none") == 0) _exit(0);
  if (strcmp(step, "loop") == 0) {
#if defined(__aarch64__)
    unsigned long n = kLoop;
    __asm__ volatile("1: subs %0, %0, #1\n\tb.ne 1b" : "+r"(n) : : "cc");
    _exit(0);
#else
    fprintf(stderr, "edgeq_startup_probe: the calibration loop is AArch64 only\n");
    _exit(2);
#endif
  }
  edgeq_model* model = NULL;
  if (edgeq_model_load_file(argv[1], &model) != EDGEQ_OK) fail("load");
  if (strcmp(step, "load") == 0) _exit(0);
  edgeq_session_options options;
  edgeq_session_options_init(&options);
  options.num_threads = 1;
  if (argc > 3) options.isa = argv[3];
  edgeq_session* session = NULL;
  if (edgeq_session_create(model, &options, &session) != EDGEQ_OK) fail("session");
  if (strcmp(step, "session") == 0) _exit(0);
  fprintf(stderr, "edgeq_startup_probe: unknown step '%s'\n", step);
  _exit(2);
}
