// Soak benchmark: many inferences through the C API with the process's resident set
// sampled, to show that memory stays flat (docs/reliability.md). Not a test: it takes
// minutes, and its figure is read, not asserted.
//
//   edgeq_soak MODEL.edgeq [RUNS (1000000)] [THREADS (1)]
//
// One session runs RUNS inferences (set the inputs from float, run, read the outputs
// as float); every 10,000 runs the session is destroyed and created again, so session
// creation is soaked too. The resident set (VmRSS) is printed at the start, after the
// first 10,000 runs (warm: every page the model touches is in) and at every tenth of
// the runs, then its growth since the warm sample.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "edgeq/edgeq.h"

namespace {

long rss_kib() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kib = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, "VmRSS:", 6) == 0) kib = std::strtol(line + 6, nullptr, 10);
  std::fclose(f);
  return kib;
}

int fail(const char* what) {
  std::fprintf(stderr, "edgeq_soak: %s: %s\n", what, edgeq_last_error());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: edgeq_soak MODEL.edgeq [RUNS] [THREADS]\n");
    return 2;
  }
  const long long runs = argc > 2 ? std::atoll(argv[2]) : 1000000;
  edgeq_session_options options;
  edgeq_session_options_init(&options);
  options.num_threads = argc > 3 ? std::atoi(argv[3]) : 1;
  const long start_rss = rss_kib();
  edgeq_model* model = nullptr;
  if (edgeq_model_load_file(argv[1], &model) != EDGEQ_OK) return fail("load");
  edgeq_session* session = nullptr;
  if (edgeq_session_create(model, &options, &session) != EDGEQ_OK) return fail("session");
  std::vector<std::vector<float>> inputs(edgeq_session_input_count(session));
  std::vector<std::vector<float>> outputs(edgeq_session_output_count(session));
  for (size_t i = 0; i < inputs.size(); ++i) {
    edgeq_tensor_info info;
    edgeq_session_input_info(session, i, &info);
    inputs[i].resize(info.num_elements);
    for (size_t k = 0; k < info.num_elements; ++k) inputs[i][k] = static_cast<float>((k * 7919) % 255) / 127.f - 1.f;
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    edgeq_tensor_info info;
    edgeq_session_output_info(session, i, &info);
    outputs[i].resize(info.num_elements);
  }
  std::printf("%12s %10s %12s\n", "runs", "rss_kib", "us_per_run");
  std::printf("%12d %10ld %12s\n", 0, start_rss, "-");
  long warm_rss = -1, max_rss = 0;
  auto t0 = std::chrono::steady_clock::now();
  long long last = 0;
  for (long long r = 1; r <= runs; ++r) {
    for (size_t i = 0; i < inputs.size(); ++i)
      if (edgeq_session_set_input_f32(session, i, inputs[i].data(), inputs[i].size()) != EDGEQ_OK) return fail("input");
    if (edgeq_session_run(session) != EDGEQ_OK) return fail("run");
    for (size_t i = 0; i < outputs.size(); ++i)
      if (edgeq_session_get_output_f32(session, i, outputs[i].data(), outputs[i].size()) != EDGEQ_OK)
        return fail("output");
    if (r % 10000 == 0) {
      edgeq_session_destroy(session);
      session = nullptr;
      if (edgeq_session_create(model, &options, &session) != EDGEQ_OK) return fail("session");
    }
    if (r == 10000 || r % (runs / 10 > 0 ? runs / 10 : 1) == 0 || r == runs) {
      const auto t1 = std::chrono::steady_clock::now();
      const double us = std::chrono::duration<double, std::micro>(t1 - t0).count() / static_cast<double>(r - last);
      t0 = t1;
      last = r;
      const long rss = rss_kib();
      if (r == 10000) warm_rss = rss;
      if (r >= 10000 && rss > max_rss) max_rss = rss;
      std::printf("%12lld %10ld %12.1f\n", r, rss, us);
      std::fflush(stdout);
    }
  }
  edgeq_session_destroy(session);
  edgeq_model_release(model);
  if (warm_rss > 0)
    std::printf("resident set after 10,000 runs: %ld KiB; largest after: %ld KiB (growth %ld KiB)\n", warm_rss,
                max_rss, max_rss - warm_rss);
  return 0;
}
