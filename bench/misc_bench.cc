// Kernel benchmarks of the depthwise convolution and the misc kernels (float unary ops
// included), single thread.
//   edgeq_misc_bench [--benchmark_filter=dw/...] [--benchmark_* flags]
// Depthwise: MobileNetV2's depthwise layers (3x3, pad 1, int8 activations, per-channel
// weights, fp32 requantization, ReLU6-like clamp) on every depthwise kernel the host
// runs (every kernel of every level, named after the kernel), the reference, and XNNPACK's qc8 convolution with groups
// = channels (when built with XNNPACK), side by side. Counter GMAC/s: 9 * out_h * out_w * C per run. Misc: same-shape
// and per-channel int8 add, global average pool, lookup, quantize, dequantize and the
// input's channels-last transpose, against the reference, labelled
// with the kernel family's name (kern::MiscKernels::names); the int8 embedding lookup
// (Gather: the reference at every level).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/qdwconv.h"
#include "kernels/ref/ref.h"
#if defined(__x86_64__) || defined(__i386__)
#include "kernels/x86/misc_x86.h"
#endif

#ifdef EDGEQ_HAVE_XNNPACK
#include <xnnpack.h>
#endif

namespace {

using edgeq::kern::Isa;
namespace ref = edgeq::ref;
namespace kern = edgeq::kern;

struct Layer {
  int32_t hw, c, stride;
};
constexpr Layer kLayers[] = {{112, 32, 1}, {112, 96, 2}, {56, 144, 1}, {56, 144, 2}, {28, 192, 1},
                             {28, 192, 2}, {14, 384, 1}, {14, 576, 1}, {14, 576, 2}, {7, 960, 1}};

// One depthwise layer's data: input, weights, bias and requantization.
struct DwData {
  ref::ConvShape s;
  std::vector<int8_t> x, w, y;
  std::vector<int32_t> bias;
  std::vector<float> w_scale, scale;
  float x_scale = 0.02f, y_scale = 0.05f;
  int32_t x_zp = -3, y_zp = -128;
  ref::Requant rq;

  explicit DwData(const Layer& l) {
    s = ref::ConvShape{
        1, l.hw, l.hw, l.c, (l.hw - 1) / l.stride + 1, (l.hw - 1) / l.stride + 1, l.c, 3, 3, l.stride, l.stride, 1,
        1, 1,    1,    l.c};
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> byte(-128, 127);
    x.resize(static_cast<size_t>(l.hw) * l.hw * l.c);
    for (auto& v : x) v = static_cast<int8_t>(byte(rng));
    w.resize(static_cast<size_t>(l.c) * 9);
    for (auto& v : w) v = static_cast<int8_t>(byte(rng));
    bias.resize(static_cast<size_t>(l.c));
    for (auto& v : bias) v = byte(rng) * 50;
    for (int32_t c = 0; c < l.c; ++c) {
      w_scale.push_back(0.001f * static_cast<float>(1 + c % 7));
      scale.push_back(x_scale * w_scale.back() / y_scale);
    }
    y.resize(static_cast<size_t>(s.out_h) * s.out_w * l.c);
    rq.scheme = ref::Scheme::kFp32;
    rq.per_channel = true;
    rq.scale = scale.data();
    rq.zero_point = y_zp;
    rq.qmin = -128;
    rq.qmax = 0;  // a ReLU6-like clamp
  }
  double macs() const { return 9.0 * s.out_h * s.out_w * s.out_c; }
};

void set_gmacs(benchmark::State& state, double macs) {
  state.counters["GMAC/s"] =
      benchmark::Counter(macs * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void bench_dw(benchmark::State& state, Layer l, const kern::DwKernel* kernel) {
  DwData d(l);
  kern::QDwConvParams p;
  p.shape = d.s;
  p.act_s8 = true;
  p.x_zero_point = d.x_zp;
  p.weight = d.w.data();
  p.bias = d.bias.data();
  p.rq = d.rq;
  kern::QDwConvOp op;
  if (!op.init(p, *kernel)) {
    state.SkipWithError("init refused");
    return;
  }
  for (auto _ : state) {
    op.run(d.x.data(), d.y.data());
    benchmark::ClobberMemory();
  }
  set_gmacs(state, d.macs());
}

void bench_dw_ref(benchmark::State& state, Layer l) {
  DwData d(l);
  const int32_t wzp = 0;
  for (auto _ : state) {
    ref::qconv2d<int8_t>(d.s, d.x.data(), d.x_zp, d.w.data(), &wzp, false, d.bias.data(), d.rq, d.y.data());
    benchmark::ClobberMemory();
  }
  set_gmacs(state, d.macs());
}

#ifdef EDGEQ_HAVE_XNNPACK
void bench_dw_xnnpack(benchmark::State& state, Layer l) {
  DwData d(l);
  if (xnn_initialize(nullptr) != xnn_status_success) {
    state.SkipWithError("xnn_initialize failed");
    return;
  }
  const uint32_t pad_end = l.stride == 1 ? 1 : 0;  // the same output size as edgeq's shape
  xnn_operator_t op = nullptr;
  xnn_status st = xnn_create_convolution2d_nhwc_qc8(
      1, pad_end, pad_end, 1, 3, 3, l.stride, l.stride, 1, 1, l.c, 1, 1, l.c, l.c, static_cast<int8_t>(d.x_zp),
      d.x_scale, d.w_scale.data(), d.w.data(), d.bias.data(), static_cast<int8_t>(d.y_zp), d.y_scale, -128, 0, 0, &op);
  if (st == xnn_status_success) {
    st = xnn_setup_convolution2d_nhwc_qc8(op, 1, l.hw, l.hw, d.x.data(), d.y.data(), nullptr);
  }
  if (st != xnn_status_success) {
    state.SkipWithError("XNNPACK refused the layer");
    if (op) xnn_delete_operator(op);
    return;
  }
  for (auto _ : state) {
    xnn_run_operator(op, nullptr);
    benchmark::ClobberMemory();
  }
  xnn_delete_operator(op);
  set_gmacs(state, d.macs());
}
#endif

// ------------------------------------------------------------------ misc kernels

void bench_add(benchmark::State& state, Isa isa, bool per_channel) {
  const int32_t shape[4] = {1, 56, 56, 24};
  const int32_t channel_shape[1] = {24};
  ref::Broadcast bc;
  if (per_channel) {
    ref::make_broadcast(shape, 4, channel_shape, 1, shape, 4, &bc);
  } else {
    ref::make_broadcast(shape, 4, shape, 4, shape, 4, &bc);
  }
  const size_t n = 56 * 56 * 24;
  std::vector<int8_t> a(n), b(n), y(n);
  std::mt19937 rng(3);
  for (size_t i = 0; i < n; ++i) a[i] = static_cast<int8_t>(rng()), b[i] = static_cast<int8_t>(rng());
  const ref::BinaryQParams p{0.03f, 0.05f, 0.07f, 3, -5, 2, -128, 127, ref::Scheme::kFp32};
  auto fn = isa == Isa::kRef ? ref::qbinary<int8_t> : kern::kernel_set(isa).misc.qbinary_s8;
  state.SetLabel(isa == Isa::kRef ? "ref" : kern::kernel_set(isa).misc.names.qbinary);
  for (auto _ : state) {
    fn(ref::BinaryOp::kAdd, bc, a.data(), b.data(), p, y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
}

void bench_global_avgpool(benchmark::State& state, Isa isa) {
  const int32_t hw = 49, c = 1280;
  std::vector<int8_t> x(static_cast<size_t>(hw) * c), y(c);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int8_t>(i * 7);
  const ref::PoolQParams p{0.02f, 0.01f, 4, -2, -128, 127};
  auto fn = isa == Isa::kRef ? ref::qglobal_avgpool<int8_t> : kern::kernel_set(isa).misc.qglobal_avgpool_s8;
  state.SetLabel(isa == Isa::kRef ? "ref" : kern::kernel_set(isa).misc.names.qglobal_avgpool);
  for (auto _ : state) {
    fn(1, hw, c, x.data(), p, y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * x.size()));
}

void bench_lookup(benchmark::State& state, Isa isa) {
  const size_t n = 56 * 56 * 24;
  std::vector<uint8_t> x(n), y(n), table(256);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<uint8_t>(i * 13);
  for (int i = 0; i < 256; ++i) table[i] = static_cast<uint8_t>(255 - i);
  auto fn = isa == Isa::kRef ? ref::lookup<uint8_t> : kern::kernel_set(isa).misc.lookup_u8;
  state.SetLabel(isa == Isa::kRef ? "ref" : kern::kernel_set(isa).misc.names.lookup);
  for (auto _ : state) {
    fn(n, x.data(), table.data(), y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
}

// A float unary op on a DeiT-tiny activation (197 tokens x 768: its Gelu), inputs in
// [-8, 8]; items/s = elements/s. `fn` labelled `name`: a level's kernel, the reference,
// or (x86) one of the 256- / 512-bit variants, side by side.
void bench_unary_f32(benchmark::State& state, kern::UnaryF32Fn fn, const char* name, ref::UnaryOp op, float alpha) {
  const size_t n = 197 * 768;
  std::vector<float> x(n), y(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(static_cast<int>(i * 7919 % 4001) - 2000) / 250.f;
  state.SetLabel(name);
  for (auto _ : state) {
    fn(op, alpha, 0.f, n, x.data(), y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

// A 224x224 RGB image: quantized (float -> uint8), its NCHW -> NHWC transpose, and a
// 56x56x24 tensor dequantized (int8 -> float).
void bench_quantize(benchmark::State& state, Isa isa) {
  const size_t n = 3 * 224 * 224;
  std::vector<float> x(n);
  std::vector<uint8_t> y(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(static_cast<int>(i % 1001) - 500) / 211.f;
  auto fn = isa == Isa::kRef ? ref::quantize<uint8_t> : kern::kernel_set(isa).misc.quantize_u8;
  state.SetLabel(isa == Isa::kRef ? "ref" : kern::kernel_set(isa).misc.names.quantize);
  for (auto _ : state) {
    fn(n, x.data(), 0.0187f, 114, y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

void bench_dequantize(benchmark::State& state, Isa isa) {
  const size_t n = 56 * 56 * 24;
  std::vector<int8_t> x(n);
  std::vector<float> y(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<int8_t>(i * 7);
  auto fn = isa == Isa::kRef ? ref::dequantize<int8_t> : kern::kernel_set(isa).misc.dequantize_s8;
  state.SetLabel(isa == Isa::kRef ? "ref" : kern::kernel_set(isa).misc.names.dequantize);
  for (auto _ : state) {
    fn(n, x.data(), 0.0213f, -7, y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

void bench_transpose(benchmark::State& state, Isa isa) {
  const int32_t shape[4] = {1, 3, 224, 224}, perm[4] = {0, 2, 3, 1};
  const size_t n = 3 * 224 * 224;
  std::vector<uint8_t> x(n), y(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<uint8_t>(i * 13);
  auto fn = isa == Isa::kRef ? ref::transpose : kern::kernel_set(isa).misc.transpose;
  state.SetLabel(isa == Isa::kRef ? "ref" : kern::kernel_set(isa).misc.names.transpose);
  for (auto _ : state) {
    fn(4, shape, perm, 1, x.data(), y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
}

// BERT-base's word-embedding lookup: 128 token ids into an int8 30522 x 768 table,
// the session's index check included (the rows are copied with memcpy at every level).
void bench_gather(benchmark::State& state) {
  const int64_t rows = 30522, dim = 768, count = 128;
  std::vector<int8_t> table(static_cast<size_t>(rows * dim)), y(static_cast<size_t>(count * dim));
  for (size_t i = 0; i < table.size(); ++i) table[i] = static_cast<int8_t>(i * 13);
  std::vector<int64_t> ids(count);
  for (int64_t i = 0; i < count; ++i) ids[i] = (i * 7919) % rows;
  state.SetLabel("ref");
  for (auto _ : state) {
    if (ref::first_index_out_of_range(ids.size(), ids.data(), rows) != ids.size()) state.SkipWithError("bad id");
    ref::gather_rows(ids.size(), ids.data(), table.data(), rows, dim, y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * y.size()));
}

void register_all() {
  std::vector<Isa> levels;
  for (Isa isa : {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot, Isa::kNeonI8mm}) {
    if (kern::isa_supported(isa)) levels.push_back(isa);
  }
  for (const Layer& l : kLayers) {
    const std::string name = "dw/" + std::to_string(l.hw) + "x" + std::to_string(l.hw) + "x" + std::to_string(l.c) +
                             "_s" + std::to_string(l.stride);
    for (Isa isa : levels) {
      for (const kern::DwKernel& k : kern::kernel_set(isa).dw.kernel) {
        if (k.s8 == nullptr) continue;
        benchmark::RegisterBenchmark((name + "/" + k.name).c_str(), bench_dw, l, &k)->Unit(benchmark::kMicrosecond);
      }
    }
#ifdef EDGEQ_HAVE_XNNPACK
    benchmark::RegisterBenchmark((name + "/xnnpack").c_str(), bench_dw_xnnpack, l)->Unit(benchmark::kMicrosecond);
#endif
    benchmark::RegisterBenchmark((name + "/ref").c_str(), bench_dw_ref, l)->Unit(benchmark::kMicrosecond);
  }
  levels.insert(levels.begin(), Isa::kRef);
  for (Isa isa : levels) {
    if (isa != Isa::kRef && kern::kernel_set(isa).misc.qbinary_s8 == nullptr) continue;
    const std::string level = kern::isa_name(isa);
    benchmark::RegisterBenchmark(("add_s8/56x56x24/" + level).c_str(), bench_add, isa, false)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("add_s8/56x56x24+24/" + level).c_str(), bench_add, isa, true)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("global_avgpool_s8/7x7x1280/" + level).c_str(), bench_global_avgpool, isa)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("lookup_u8/75264/" + level).c_str(), bench_lookup, isa)
        ->Unit(benchmark::kMicrosecond);
    if (isa != Isa::kRef && kern::kernel_set(isa).misc.quantize_u8 == nullptr) continue;
    benchmark::RegisterBenchmark(("quantize_u8/3x224x224/" + level).c_str(), bench_quantize, isa)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("dequantize_s8/56x56x24/" + level).c_str(), bench_dequantize, isa)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("transpose_nchw_nhwc_u8/3x224x224/" + level).c_str(), bench_transpose, isa)
        ->Unit(benchmark::kMicrosecond);
  }
  const struct {
    const char* name;
    ref::UnaryOp op;
    float alpha;
  } unary[] = {{"gelu_erf", ref::UnaryOp::kGelu, 0.f},  {"gelu_tanh", ref::UnaryOp::kGelu, 1.f},
               {"tanh", ref::UnaryOp::kTanh, 0.f},      {"erf", ref::UnaryOp::kErf, 0.f},
               {"sigmoid", ref::UnaryOp::kSigmoid, 0.f}, {"softplus", ref::UnaryOp::kSoftplus, 0.f},
               {"mish", ref::UnaryOp::kMish, 0.f},      {"elu", ref::UnaryOp::kElu, 1.f}};
  struct UnaryKernel {
    std::string tag;
    kern::UnaryF32Fn fn;
    const char* name;
  };
  std::vector<UnaryKernel> unary_kernels;
  for (Isa isa : levels) {
    if (isa == Isa::kRef) {
      unary_kernels.push_back({"ref", ref::unary_f32, "ref"});
    } else if (kern::kernel_set(isa).misc.unary_f32 != nullptr) {
      const kern::MiscKernels& k = kern::kernel_set(isa).misc;
      unary_kernels.push_back({kern::isa_name(isa), k.unary_f32, k.names.unary_f32});
    }
  }
#if defined(__x86_64__) || defined(__i386__)
  // Each x86 variant the CPU runs, whichever the levels picked.
  auto add_variant = [&](void (*fill)(kern::MiscKernels*)) {
    kern::MiscKernels k;
    fill(&k);
    unary_kernels.push_back({k.names.unary_f32, k.unary_f32, k.names.unary_f32});
  };
  if (kern::isa_supported(Isa::kAvx2)) {
    add_variant(kern::add_unary_kernels_avx2);
    if (__builtin_cpu_supports("fma")) add_variant(kern::add_unary_kernels_fma3);
    if (__builtin_cpu_supports("avx512f")) add_variant(kern::add_unary_kernels_avx512);
  }
#endif
  for (const UnaryKernel& k : unary_kernels) {
    for (const auto& u : unary) {
      benchmark::RegisterBenchmark(("unary_f32/" + std::string(u.name) + "/197x768/" + k.tag).c_str(), bench_unary_f32,
                                   k.fn, k.name, u.op, u.alpha)
          ->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::RegisterBenchmark("gather_s8/30522x768/128ids/ref", bench_gather)->Unit(benchmark::kMicrosecond);
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
