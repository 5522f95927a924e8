// Whole-model latency benchmark on Google Benchmark.
//   edgeq_model_bench model.edgeq [more.edgeq ...] [--benchmark_* flags]
// Each model runs on zero inputs with the default kernels. Reported counters: arena
// bytes and constant (weight) bytes. Kernel-level benchmarks live beside this file.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/session.h"

namespace {

void bench_model(benchmark::State& state, const std::string& path) {
  std::shared_ptr<const edgeq::Model> model;
  edgeq::Status s = edgeq::Model::load_file(path, &model);
  std::unique_ptr<edgeq::Session> session;
  if (s.ok()) s = edgeq::Session::create(model, edgeq::SessionOptions(), &session);
  if (!s.ok()) {
    state.SkipWithError(s.message().c_str());
    return;
  }
  for (auto _ : state) session->run();
  size_t weights = 0;
  for (const edgeq::Tensor& t : model->graph().tensors) weights += t.nbytes;
  state.counters["arena_bytes"] = static_cast<double>(session->arena_bytes());
  state.counters["weight_bytes"] = static_cast<double>(weights);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  std::vector<std::string> models;
  for (int i = 0; i < argc; ++i) {
    if (i > 0 && std::strncmp(argv[i], "--", 2) != 0)
      models.push_back(argv[i]);
    else
      args.push_back(argv[i]);
  }
  if (models.empty()) {
    std::fprintf(stderr, "usage: %s model.edgeq [...] [--benchmark_* flags]\n", argv[0]);
    return 2;
  }
  for (const std::string& m : models)
    benchmark::RegisterBenchmark(("model/" + m).c_str(), bench_model, m)->Unit(benchmark::kMillisecond);
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
