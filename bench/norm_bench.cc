// Kernel benchmarks of the row normalizations of transformer encoders, single thread,
// per level the host runs and the reference (labelled with the kernel's name):
//   layer_norm_s8/RxC    int8 layer norm of R rows of C channels (BERT-small 128x256,
//                        ViT-tiny 197x192), layer_norm_f32/RxC the float one;
//   softmax_s8/HxNxN     int8 softmax over the last axis of H heads of NxN attention
//                        scores (rows of 128 and 197), a third of each row masked;
//                        softmax_u8/HxNxN the same in uint8;
//   softmax_f32/HxNxN    the float one (a third of each row masked by -10000, as BERT's
//                        additive mask), and with XNNPACK's operator (level "xnnpack")
//                        where the build has XNNPACK.
//   edgeq_norm_bench [--benchmark_filter=softmax] [--benchmark_* flags]
// Counter items/s: elements per second.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#ifdef EDGEQ_HAVE_XNNPACK
#include <xnnpack.h>
#endif

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

template <typename T>
void bench_qsoftmax(benchmark::State& state, Isa isa, int32_t heads, int32_t n) {
  std::mt19937 rng(7);
  const int64_t rows = static_cast<int64_t>(heads) * n;
  const T lowest = std::numeric_limits<T>::lowest();
  std::vector<T> x(static_cast<size_t>(rows) * n), y(x.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = (i % n) * 3 >= static_cast<size_t>(2 * n) ? lowest : static_cast<T>(rng());
  uint32_t table[256];
  ref::qsoftmax_table(0.06f, table);
  const kern::MiscKernels& m = kern::kernel_set(isa).misc;
  kern::QSoftmaxRowsFn<T> fn = ref::qsoftmax_rows<T>;
  if constexpr (std::is_same<T, int8_t>::value) {
    if (isa != Isa::kRef && m.qsoftmax_s8 != nullptr) fn = m.qsoftmax_s8;
  } else {
    if (isa != Isa::kRef && m.qsoftmax_u8 != nullptr) fn = m.qsoftmax_u8;
  }
  state.SetLabel(label(isa, m.names.qsoftmax));
  for (auto _ : state) {
    fn(rows, n, x.data(), table, 1.f / 256, lowest, y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * x.size()));
}

// Attention scores of H heads of N x N, a third of each row masked by -10000.
std::vector<float> attention_scores(int32_t heads, int32_t n) {
  std::mt19937 rng(8);
  std::normal_distribution<float> g(0.f, 3.f);
  std::vector<float> x(static_cast<size_t>(heads) * n * n);
  for (size_t i = 0; i < x.size(); ++i) x[i] = g(rng) + ((i % n) * 3 >= static_cast<size_t>(2 * n) ? -10000.f : 0.f);
  return x;
}

void bench_softmax_f32(benchmark::State& state, Isa isa, int32_t heads, int32_t n) {
  const std::vector<float> x = attention_scores(heads, n);
  std::vector<float> y(x.size());
  const int64_t rows = static_cast<int64_t>(heads) * n;
  const kern::MiscKernels& m = kern::kernel_set(isa).misc;
  const bool kernel = isa != Isa::kRef && m.softmax_f32 != nullptr;
  state.SetLabel(kernel ? m.names.softmax_f32 : "ref");
  for (auto _ : state) {
    if (kernel) {
      m.softmax_f32(rows, n, x.data(), y.data());
    } else {
      ref::softmax_f32(rows, n, 1, x.data(), y.data());
    }
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * x.size()));
}

#ifdef EDGEQ_HAVE_XNNPACK
void bench_softmax_f32_xnnpack(benchmark::State& state, int32_t heads, int32_t n) {
  const std::vector<float> x = attention_scores(heads, n);
  std::vector<float> y(x.size());
  xnn_operator_t op = nullptr;
  if (xnn_initialize(nullptr) != xnn_status_success ||
      xnn_create_softmax_nc_f32(n, n, n, 0, &op) != xnn_status_success ||
      xnn_setup_softmax_nc_f32(op, static_cast<size_t>(heads) * n, x.data(), y.data(), nullptr) != xnn_status_success) {
    if (op != nullptr) xnn_delete_operator(op);
    state.SkipWithError("XNNPACK softmax unavailable");
    return;
  }
  state.SetLabel("xnnpack_softmax_nc_f32");
  for (auto _ : state) {
    xnn_run_operator(op, nullptr);
    benchmark::ClobberMemory();
  }
  xnn_delete_operator(op);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * x.size()));
}
#endif

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
      benchmark::RegisterBenchmark(("softmax_s8/" + shape + "/" + level).c_str(), bench_qsoftmax<int8_t>, isa, s[0],
                                   s[1])
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("softmax_u8/" + shape + "/" + level).c_str(), bench_qsoftmax<uint8_t>, isa, s[0],
                                   s[1])
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("softmax_f32/" + shape + "/" + level).c_str(), bench_softmax_f32, isa, s[0], s[1])
          ->Unit(benchmark::kMicrosecond);
    }
  }
#ifdef EDGEQ_HAVE_XNNPACK
  for (const auto& s : sm_shapes) {
    const std::string shape = std::to_string(s[0]) + "x" + std::to_string(s[1]) + "x" + std::to_string(s[1]);
    benchmark::RegisterBenchmark(("softmax_f32/" + shape + "/xnnpack").c_str(), bench_softmax_f32_xnnpack, s[0], s[1])
        ->Unit(benchmark::kMicrosecond);
  }
#endif
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
