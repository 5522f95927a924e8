// Kernel benchmarks of the row normalizations of transformer encoders, single thread,
// per level the host runs and the reference (labelled with the kernel's name):
//   layer_norm_s8/RxC    int8 layer norm of R rows of C channels (BERT-small 128x256,
//                        ViT-tiny 197x192), layer_norm_f32/RxC the float one;
//   softmax_s8/HxNxN     int8 softmax over the last axis of H heads of NxN attention
//                        scores (rows of 128 and 197), a third of each row masked.
//   edgeq_norm_bench [--benchmark_filter=softmax] [--benchmark_* flags]
// Counter items/s: elements per second.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/ref/ref.h"

namespace {

using edgeq::kern::Isa;
namespace ref = edgeq::ref;
namespace kern = edgeq::kern;

const char* label(Isa isa, const char* name) { return isa == Isa::kRef || name == nullptr ? "ref" : name; }

void bench_qlayer_norm(benchmark::State& state, Isa isa, int32_t rows, int32_t channels) {
  std::mt19937 rng(5);
  std::vector<int8_t> x(static_cast<size_t>(rows) * channels), y(x.size());
  for (auto& v : x) v = static_cast<int8_t>(rng());
  std::vector<float> gamma(channels), beta(channels), g(channels), b(channels);
  for (int32_t c = 0; c < channels; ++c) gamma[c] = 0.5f + 0.01f * (c % 100), beta[c] = 0.02f * (c % 17) - 0.1f;
  ref::qlayer_norm_fold(channels, gamma.data(), beta.data(), 0.03f, g.data(), b.data());
  ref::QLayerNormParams p;
  p.in_scale = 0.05f;
  p.epsilon = 1e-5f;
  p.gamma = g.data();
  p.beta = b.data();
  p.out_zero_point = -3;
  const kern::MiscKernels& m = kern::kernel_set(isa).misc;
  auto fn = isa == Isa::kRef || m.qlayer_norm_s8 == nullptr ? ref::qlayer_norm<int8_t> : m.qlayer_norm_s8;
  state.SetLabel(label(isa, m.names.qlayer_norm));
  for (auto _ : state) {
    fn(rows, channels, x.data(), p, y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * x.size()));
}

void bench_layer_norm_f32(benchmark::State& state, Isa isa, int32_t rows, int32_t channels) {
  std::mt19937 rng(6);
  std::uniform_real_distribution<float> u(-2.f, 2.f);
  std::vector<float> x(static_cast<size_t>(rows) * channels), y(x.size()), gamma(channels), beta(channels);
  for (auto& v : x) v = u(rng);
  for (int32_t c = 0; c < channels; ++c) gamma[c] = u(rng), beta[c] = u(rng);
  const kern::MiscKernels& m = kern::kernel_set(isa).misc;
  auto fn = isa == Isa::kRef || m.layer_norm_f32 == nullptr ? ref::layer_norm_f32 : m.layer_norm_f32;
  state.SetLabel(label(isa, m.names.layer_norm_f32));
  for (auto _ : state) {
    fn(rows, channels, x.data(), gamma.data(), beta.data(), 1e-5f, y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * x.size()));
}

void bench_qsoftmax(benchmark::State& state, Isa isa, int32_t heads, int32_t n) {
  std::mt19937 rng(7);
  const int64_t rows = static_cast<int64_t>(heads) * n;
  std::vector<int8_t> x(static_cast<size_t>(rows) * n), y(x.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = (i % n) * 3 >= static_cast<size_t>(2 * n) ? -128 : static_cast<int8_t>(rng());
  uint32_t table[256];
  ref::qsoftmax_table(0.06f, table);
  const kern::MiscKernels& m = kern::kernel_set(isa).misc;
  auto fn = isa == Isa::kRef || m.qsoftmax_s8 == nullptr ? ref::qsoftmax_rows<int8_t> : m.qsoftmax_s8;
  state.SetLabel(label(isa, m.names.qsoftmax));
  for (auto _ : state) {
    fn(rows, n, x.data(), table, 1.f / 256, -128, y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * x.size()));
}

void register_all() {
  std::vector<Isa> levels{Isa::kRef};
  for (Isa isa : {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot, Isa::kNeonI8mm}) {
    if (kern::isa_supported(isa)) levels.push_back(isa);
  }
  const int32_t ln_shapes[][2] = {{128, 256}, {197, 192}};
  const int32_t sm_shapes[][2] = {{4, 128}, {3, 197}};
  for (Isa isa : levels) {
    const std::string level = kern::isa_name(isa);
    for (const auto& s : ln_shapes) {
      const std::string shape = std::to_string(s[0]) + "x" + std::to_string(s[1]) + "/" + level;
      benchmark::RegisterBenchmark(("layer_norm_s8/" + shape).c_str(), bench_qlayer_norm, isa, s[0], s[1])
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("layer_norm_f32/" + shape).c_str(), bench_layer_norm_f32, isa, s[0], s[1])
          ->Unit(benchmark::kMicrosecond);
    }
    for (const auto& s : sm_shapes) {
      const std::string shape = std::to_string(s[0]) + "x" + std::to_string(s[1]) + "x" + std::to_string(s[1]);
      benchmark::RegisterBenchmark(("softmax_s8/" + shape + "/" + level).c_str(), bench_qsoftmax, isa, s[0], s[1])
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
