// Float fully connected layers with constant weights, single thread: edgeq's float GEMM
// microkernel (kernels/fgemm.h through kern::FFcOp, the weights packed into panels once
// before timing, as the model's packed copy is) beside XNNPACK's fully_connected_nc_f32
// (weights packed at creation, per operator, so per session), README's memory section.
//   fc_f32/MxKxN/<level>:<kernel>, fc_f32/MxKxN/xnnpack: Y[M][N] = X[M][K] * W^T
//                        (XNNPACK adds its bias and an unbounded clamp)
//   edgeq_float_fc_bench [--benchmark_filter=...] [--benchmark_repetitions=5]
// Counter flops: 2 * M * K * N per second.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#ifdef EDGEQ_HAVE_XNNPACK
#include <xnnpack.h>
#endif

#include "kernels/ffc.h"
#include "kernels/kernels.h"
#include "kernels/memory.h"

namespace {

namespace kern = edgeq::kern;
namespace ref = edgeq::ref;

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& e : v) e = d(rng);
  return v;
}

void set_flops(benchmark::State& state, int32_t m, int32_t k, int32_t n) {
  state.counters["flops"] =
      benchmark::Counter(2.0 * m * k * n * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// The float fully connected driver of a level (kern::FFcOp: its fgemm kernel, the bias
// and an unbounded clamp in the epilogue), W packed once, the rows timed.
void bench_fgemm(benchmark::State& state, kern::Isa isa, int32_t m, int32_t k, int32_t n) {
  const kern::FGemmKernel& kernel = kern::kernel_set(isa).fgemm;
  const std::vector<float> x = random_floats(static_cast<size_t>(m) * k, 1), w = random_floats(size_t(n) * k, 2);
  const std::vector<float> bias = random_floats(static_cast<size_t>(n), 3);
  std::vector<float> y(static_cast<size_t>(m) * n);
  std::shared_ptr<const kern::FFcPacked> packed;
  kern::FFcOp op;
  if (!kern::FFcPacked::pack(w.data(), n, k, kernel.nr, &packed) ||
      !op.init(m, packed, kernel, bias.data(), -INFINITY, INFINITY)) {
    state.SkipWithError("the kernel declines the shape");
    return;
  }
  for (auto _ : state) {
    op.run_rows(x.data(), y.data(), 0, op.row_blocks());
    benchmark::DoNotOptimize(y.data());
  }
  set_flops(state, m, k, n);
}

#ifdef EDGEQ_HAVE_XNNPACK
void bench_xnnpack(benchmark::State& state, int32_t m, int32_t k, int32_t n) {
  const std::vector<float> x = random_floats(static_cast<size_t>(m) * k, 1), w = random_floats(size_t(n) * k, 2);
  const std::vector<float> bias = random_floats(static_cast<size_t>(n), 3);
  std::vector<float> y(static_cast<size_t>(m) * n);
  xnn_operator_t op = nullptr;
  if (xnn_initialize(nullptr) != xnn_status_success ||
      xnn_create_fully_connected_nc_f32(k, n, k, n, w.data(), bias.data(), -INFINITY, INFINITY, 0, &op) !=
          xnn_status_success ||
      xnn_setup_fully_connected_nc_f32(op, m, x.data(), y.data(), nullptr) != xnn_status_success) {
    if (op != nullptr) xnn_delete_operator(op);
    state.SkipWithError("XNNPACK refused the operator");
    return;
  }
  for (auto _ : state) {
    xnn_run_operator(op, nullptr);
    benchmark::DoNotOptimize(y.data());
  }
  xnn_delete_operator(op);
  set_flops(state, m, k, n);
}
#endif

void register_all() {
  // DeiT-tiny (197 tokens, width 192, MLP 768, qkv 576) and BERT-mini (128, 256, 1024).
  const int32_t shapes[][3] = {{197, 192, 576}, {197, 192, 192}, {197, 192, 768}, {197, 768, 192},
                               {128, 256, 768}, {128, 256, 256}, {128, 256, 1024}, {128, 1024, 256}};
  for (const auto& sh : shapes) {
    const std::string shape = std::to_string(sh[0]) + "x" + std::to_string(sh[1]) + "x" + std::to_string(sh[2]);
    for (int l = 1; l < static_cast<int>(kern::Isa::kCount); ++l) {
      const kern::Isa isa = static_cast<kern::Isa>(l);
      if (!kern::isa_supported(isa) || kern::kernel_set(isa).fgemm.fn == nullptr) continue;
      benchmark::RegisterBenchmark(("fc_f32/" + shape + "/" + kern::isa_name(isa) + ":" + kern::kernel_set(isa).fgemm.name).c_str(), bench_fgemm,
                                   isa, sh[0], sh[1], sh[2])
          ->Unit(benchmark::kMicrosecond);
    }
#ifdef EDGEQ_HAVE_XNNPACK
    benchmark::RegisterBenchmark(("fc_f32/" + shape + "/xnnpack").c_str(), bench_xnnpack, sh[0], sh[1], sh[2])
        ->Unit(benchmark::kMicrosecond);
#endif
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
