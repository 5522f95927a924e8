// Kernel-level benchmarks of the int8 convolution / fully-connected engine.
//
//   edgeq_kernels_bench [--benchmark_filter=...] [--benchmark_repetitions=5 --benchmark_report_aggregates_only=true]
//
//  * peak/<isa>: the machine's int8 multiply-accumulate peak per ISA level, from
//    independent accumulator chains in inline assembly (bench/peak.h; x86: AVX512-VNNI
//    zmm vpdpbusd, 64 MACs each; AVX-VNNI ymm vpdpbusd, 32; exact AVX2 vpmaddwd +
//    vpaddd, 16. ARM: i8mm smmla, 32; dotprod sdot, 16; NEON smull + sadalp, 8).
//  * <net>/<layer>/<isa>: QConvOp (kernels/qconv.h) on the real layer shapes of
//    ResNet-18, MobileNetV2 and ResNet-50 at 224x224 (uint8 activations, per-channel fp32
//    requantization, one thread), for every level the CPU runs, labelled with the
//    level's kernel (its registered name, the u8 function's symbol: kernels/kernels.h).
//    Counters: GMAC/s and %peak of that level's peak (measured once in this binary).
//  * <net>/<layer>/xnnpack: XNNPACK's qc8 convolution / qs8 fully-connected operator on
//    the same shape, one thread (when the build found XNNPACK), so ratios come from
//    one run.
//    <net>/<layer>/<level>_blocked (the two best levels): the same with the driver's cache blocking for the
//    host's caches (kernels/gemm_blocking.h, opt-in in sessions), to compare in one run.
//  * resnet18_all_layers/<best isa>/threads:N: all of ResNet-18's GEMM layers of one
//    inference on N threads, wall time (the 1 / 2 thread ratio is the scaling; needs
//    otherwise idle cores to mean anything).
//  * matmul/<shape>/<variant>/<isa>: kern::QMatMulOp (kernels/qmatmul.h) on attention's
//    products (BERT-mini: 4 heads, S 128, d 64; DeiT-tiny: 3 heads, S 197, d 64; QK^T
//    and scores x V), one thread, B packed every run as a session does: quantized u8
//    with zb 128 (the kernel's own epilogue) and zb 0 over full-range values (int32
//    tiles), dynamic modes 1 and 2 (float in and out); matmul/<shape>/f32/ref is the
//    float reference loop, matmul/<shape>/f32/<isa> kern::FMatMulOp (kernels/fmatmul.h)
//    on the level's float GEMM kernel (GFLOP/s, 2 per multiply-add; %peak of the level's
//    float multiply-add peak, bench/peak_f32.cc, also shown as peak_f32/<isa>). dynamic_fc/128x256x1024/<mode>/<isa>: the dynamically
//    quantized fully connected layer. GMAC/s and %peak as above.
// Every level the CPU runs is registered (the same code on x86 and ARM); a level the
// CPU lacks is not. Under an emulator the figures mean nothing.
#include <benchmark/benchmark.h>
#include <pthreadpool.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/peak.h"
#include "kernels/kernels.h"
#include "kernels/qconv.h"
#include "kernels/fmatmul.h"
#include "kernels/qmatmul.h"
#include "runtime/schedule.h"

#ifdef EDGEQ_BENCH_XNNPACK
#include <xnnpack.h>
#endif

namespace {

using edgeq::kern::Isa;

// ------------------------------------------------------------------ peak

using edgeq::bench::PeakLoop;

// The peak loop of `isa` in this build (bench/peak.h), or null.
PeakLoop peak_loop(Isa isa) {
  switch (isa) {
#if defined(__x86_64__)
    case Isa::kAvx2:
      return edgeq::bench::peak_loop_avx2;
    case Isa::kAvxVnni:
      return edgeq::bench::peak_loop_avxvnni;
    case Isa::kAvx512Vnni:
      return edgeq::bench::peak_loop_avx512vnni;
    case Isa::kAmx:
      return edgeq::bench::peak_loop_amx;
#elif defined(__aarch64__)
    case Isa::kNeon:
      return edgeq::bench::peak_loop_neon;
    case Isa::kNeonDot:
      return edgeq::bench::peak_loop_neondot;
    case Isa::kNeonI8mm:
      return edgeq::bench::peak_loop_neoni8mm;
#elif defined(__arm__)
    case Isa::kNeon:
      return edgeq::bench::peak_loop_neon;
#endif
    default:
      return nullptr;
  }
}

// Rates use the calling thread's CPU time: the benchmarks are single-threaded, and on a
// shared machine wall time would also count other processes' turns.
double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// GMAC/s of `isa`, measured once (best of 5 runs); 0 when this build has no peak
// loop for it.
// Multiply-accumulates of `loop` per second, in billions (best of 5 runs).
double measure_peak(PeakLoop loop) {
  constexpr uint64_t kIters = 2000000;
  double peak = 0.0;
  loop(kIters / 10);  // warm up
  for (int run = 0; run < 5; ++run) {
    const double t0 = thread_seconds();
    const double macs = loop(kIters) * kIters;
    peak = std::max(peak, macs / (thread_seconds() - t0) * 1e-9);
  }
  return peak;
}

double peak_gmacs(Isa isa) {
  static double cache[static_cast<size_t>(Isa::kCount)] = {};
  double& peak = cache[static_cast<size_t>(isa)];
  const PeakLoop loop = peak_loop(isa);
  if (peak == 0.0 && loop != nullptr) peak = measure_peak(loop);
  return peak;
}

// The float multiply-add loop of `isa`'s float GEMM kernel (bench/peak_f32.cc), or null
// (the unfused 256-bit kernel of CPUs without FMA3).
PeakLoop f32_peak_loop(Isa isa) {
  const char* name = edgeq::kern::kernel_set(isa).fgemm.name;
  if (name == nullptr) return nullptr;
  const std::string n(name);
#if defined(__x86_64__)
  if (n.find("__avx512f") != std::string::npos) return edgeq::bench::peak_loop_f32_avx512;
  if (n.find("__fma3") != std::string::npos) return edgeq::bench::peak_loop_f32_fma3;
#elif defined(__aarch64__) || defined(__arm__)
  if (n.find("__neon") != std::string::npos) return edgeq::bench::peak_loop_f32_neon;
#endif
  return nullptr;
}

// Float GFLOP/s peak of `isa` (2 per multiply-add), measured once; 0 without a loop.
double f32_peak_gflops(Isa isa) {
  static double cache[static_cast<size_t>(Isa::kCount)] = {};
  double& peak = cache[static_cast<size_t>(isa)];
  const PeakLoop loop = f32_peak_loop(isa);
  if (peak == 0.0 && loop != nullptr) peak = 2.0 * measure_peak(loop);
  return peak;
}

// GMAC/s of a peak loop (peak/<isa>: int8; peak_f32/<isa>: float multiply-adds).
void bench_peak(benchmark::State& state, PeakLoop loop) {
  constexpr uint64_t kIters = 100000;
  double macs = 0;
  const double t0 = thread_seconds();
  for (auto _ : state) macs += loop(kIters) * kIters;
  state.counters["GMAC/s"] = macs / (thread_seconds() - t0) * 1e-9;
}

// ------------------------------------------------------------------ layers

struct Layer {
  const char* net;
  const char* name;
  int32_t in_hw, in_c, out_c, kernel, stride, pad;
  bool fc;  // fully connected: in_c -> out_c, batch 1
};

// ResNet-18 and MobileNetV2 at 224 x 224 (each distinct shape once; MobileNetV2's
// depthwise convolutions are not GEMMs and not here).
const Layer kLayers[] = {
    {"resnet18", "conv1_7x7s2_3x64", 224, 3, 64, 7, 2, 3, false},
    {"resnet18", "l1_3x3_56x64x64", 56, 64, 64, 3, 1, 1, false},
    {"resnet18", "l2_3x3s2_56x64x128", 56, 64, 128, 3, 2, 1, false},
    {"resnet18", "l2_3x3_28x128x128", 28, 128, 128, 3, 1, 1, false},
    {"resnet18", "l2_ds_1x1s2_56x64x128", 56, 64, 128, 1, 2, 0, false},
    {"resnet18", "l3_3x3s2_28x128x256", 28, 128, 256, 3, 2, 1, false},
    {"resnet18", "l3_3x3_14x256x256", 14, 256, 256, 3, 1, 1, false},
    {"resnet18", "l3_ds_1x1s2_28x128x256", 28, 128, 256, 1, 2, 0, false},
    {"resnet18", "l4_3x3s2_14x256x512", 14, 256, 512, 3, 2, 1, false},
    {"resnet18", "l4_3x3_7x512x512", 7, 512, 512, 3, 1, 1, false},
    {"resnet18", "l4_ds_1x1s2_14x256x512", 14, 256, 512, 1, 2, 0, false},
    {"resnet18", "fc_512x1000", 1, 512, 1000, 1, 1, 0, true},
    {"mobilenetv2", "conv0_3x3s2_3x32", 224, 3, 32, 3, 2, 1, false},
    {"mobilenetv2", "b0_project_112x32x16", 112, 32, 16, 1, 1, 0, false},
    {"mobilenetv2", "b1_expand_112x16x96", 112, 16, 96, 1, 1, 0, false},
    {"mobilenetv2", "b1_project_56x96x24", 56, 96, 24, 1, 1, 0, false},
    {"mobilenetv2", "b2_expand_56x24x144", 56, 24, 144, 1, 1, 0, false},
    {"mobilenetv2", "b2_project_56x144x24", 56, 144, 24, 1, 1, 0, false},
    {"mobilenetv2", "b3_project_28x144x32", 28, 144, 32, 1, 1, 0, false},
    {"mobilenetv2", "b4_expand_28x32x192", 28, 32, 192, 1, 1, 0, false},
    {"mobilenetv2", "b4_project_28x192x32", 28, 192, 32, 1, 1, 0, false},
    {"mobilenetv2", "b6_project_14x192x64", 14, 192, 64, 1, 1, 0, false},
    {"mobilenetv2", "b7_expand_14x64x384", 14, 64, 384, 1, 1, 0, false},
    {"mobilenetv2", "b7_project_14x384x64", 14, 384, 64, 1, 1, 0, false},
    {"mobilenetv2", "b10_project_14x384x96", 14, 384, 96, 1, 1, 0, false},
    {"mobilenetv2", "b11_expand_14x96x576", 14, 96, 576, 1, 1, 0, false},
    {"mobilenetv2", "b11_project_14x576x96", 14, 576, 96, 1, 1, 0, false},
    {"mobilenetv2", "b13_project_7x576x160", 7, 576, 160, 1, 1, 0, false},
    {"mobilenetv2", "b14_expand_7x160x960", 7, 160, 960, 1, 1, 0, false},
    {"mobilenetv2", "b14_project_7x960x160", 7, 960, 160, 1, 1, 0, false},
    {"mobilenetv2", "b16_project_7x960x320", 7, 960, 320, 1, 1, 0, false},
    {"mobilenetv2", "conv_last_7x320x1280", 7, 320, 1280, 1, 1, 0, false},
    {"mobilenetv2", "fc_1280x1000", 1, 1280, 1000, 1, 1, 0, true},
    // ResNet-50 (torchvision: the stride on the 3x3): its 3x3 layers and the 1x1 layers
    // of the most input channels, whose blocks exceed an L1 (kernels/gemm_blocking.h).
    {"resnet50", "l1_3x3_56x64x64", 56, 64, 64, 3, 1, 1, false},
    {"resnet50", "l2_3x3s2_56x128x128", 56, 128, 128, 3, 2, 1, false},
    {"resnet50", "l2_3x3_28x128x128", 28, 128, 128, 3, 1, 1, false},
    {"resnet50", "l3_3x3s2_28x256x256", 28, 256, 256, 3, 2, 1, false},
    {"resnet50", "l3_3x3_14x256x256", 14, 256, 256, 3, 1, 1, false},
    {"resnet50", "l3_1x1_14x1024x256", 14, 1024, 256, 1, 1, 0, false},
    {"resnet50", "l4_1x1_14x1024x512", 14, 1024, 512, 1, 1, 0, false},
    {"resnet50", "l4_3x3s2_14x512x512", 14, 512, 512, 3, 2, 1, false},
    {"resnet50", "l4_3x3_7x512x512", 7, 512, 512, 3, 1, 1, false},
    {"resnet50", "l4_1x1_7x2048x512", 7, 2048, 512, 1, 1, 0, false},
    {"resnet50", "l4_1x1_7x512x2048", 7, 512, 2048, 1, 1, 0, false},
};

int32_t out_size(const Layer& l) { return l.fc ? 1 : (l.in_hw + 2 * l.pad - l.kernel) / l.stride + 1; }

double layer_macs(const Layer& l) {
  const double o = out_size(l);
  return o * o * l.out_c * l.in_c * l.kernel * l.kernel;
}

// Operands shared by both engines: random weights in OHWI order, bias, per-channel scales.
struct Operands {
  std::vector<uint8_t> x, y;
  std::vector<int8_t> w;
  std::vector<int32_t> bias;
  std::vector<float> scale;
  explicit Operands(const Layer& l) {
    std::mt19937 rng(1);
    const size_t in_hw = l.fc ? 1 : static_cast<size_t>(l.in_hw);
    x.resize(in_hw * in_hw * l.in_c + 256);
    for (uint8_t& v : x) v = static_cast<uint8_t>(rng());
    const size_t o = static_cast<size_t>(out_size(l));
    y.resize(o * o * l.out_c);
    w.resize(static_cast<size_t>(l.out_c) * l.kernel * l.kernel * l.in_c);
    for (int8_t& v : w) v = static_cast<int8_t>(rng());
    bias.resize(static_cast<size_t>(l.out_c));
    for (int32_t& v : bias) v = static_cast<int32_t>(rng() % 20001) - 10000;
    scale.resize(static_cast<size_t>(l.out_c));
    for (float& v : scale) v = 1e-4f * static_cast<float>(1 + rng() % 16);
  }
};

void report(benchmark::State& state, const Layer& l, double seconds, double peak) {
  const double gmacs = layer_macs(l) * static_cast<double>(state.iterations()) / seconds * 1e-9;
  state.counters["GMAC/s"] = gmacs;
  if (peak > 0) state.counters["%peak"] = 100.0 * gmacs / peak;
}

// QConvOp for layer `l` on `isa` over `d`'s operands (uint8, per-channel fp32), blocked
// for `caches` (kernels/gemm_blocking.h; null: as a session).
bool init_layer(edgeq::kern::QConvOp* op, Isa isa, const Layer& l, const Operands& d,
                const edgeq::kern::CacheSizes* caches = nullptr) {
  edgeq::kern::QConvParams p;
  edgeq::ref::ConvShape& s = p.shape;
  s.batch = 1;
  s.in_h = s.in_w = l.fc ? 1 : l.in_hw;
  s.in_c = l.in_c;
  s.out_h = s.out_w = out_size(l);
  s.out_c = l.out_c;
  s.kernel_h = s.kernel_w = l.kernel;
  s.stride_h = s.stride_w = l.stride;
  s.dilation_h = s.dilation_w = 1;
  s.pad_top = s.pad_left = l.pad;
  s.groups = 1;
  p.act_s8 = false;
  p.x_zero_point = 128;
  p.weight = d.w.data();
  p.bias = d.bias.data();
  p.rq.scheme = edgeq::ref::Scheme::kFp32;
  p.rq.per_channel = true;
  p.rq.scale = d.scale.data();
  p.rq.zero_point = 128;
  p.rq.qmin = 0;
  p.rq.qmax = 255;
  return static_cast<bool>(op->init(p, edgeq::kern::kernel_set(isa).gemm, caches));
}

// blocked: the driver's cache blocking for the host's caches (<level>_blocked), else
// as a session runs the layer.
void bench_qconv(benchmark::State& state, Isa isa, const Layer& l, bool blocked) {
  const double peak = peak_gmacs(isa);
  Operands d(l);
  edgeq::kern::QConvOp op;
  const edgeq::kern::CacheSizes host = edgeq::kern::host_cache_sizes();
  if (!init_layer(&op, isa, l, d, blocked ? &host : nullptr)) {
    state.SkipWithError("QConvOp::init refused the layer");
    return;
  }
  state.SetLabel(edgeq::kern::kernel_set(isa).gemm.name);
  op.run(d.x.data(), d.y.data());  // builds the indirection buffer
  const double t0 = thread_seconds();
  for (auto _ : state) op.run(d.x.data(), d.y.data());
  report(state, l, (thread_seconds() - t0), peak);
}

// Every ResNet-18 GEMM layer of one inference (each distinct shape once per use in the
// network) on a pool of `threads` threads, in wall time: the 1-thread / 2-thread
// ratio is the engine's scaling.
void bench_resnet18_threads(benchmark::State& state, Isa isa, size_t threads) {
  struct Use {
    const char* name;
    int count;  // times the shape occurs in ResNet-18
  };
  const Use uses[] = {{"conv1_7x7s2_3x64", 1},  {"l1_3x3_56x64x64", 4},        {"l2_3x3s2_56x64x128", 1},
                      {"l2_3x3_28x128x128", 3}, {"l2_ds_1x1s2_56x64x128", 1},  {"l3_3x3s2_28x128x256", 1},
                      {"l3_3x3_14x256x256", 3}, {"l3_ds_1x1s2_28x128x256", 1}, {"l4_3x3s2_14x256x512", 1},
                      {"l4_3x3_7x512x512", 3},  {"l4_ds_1x1s2_14x256x512", 1}, {"fc_512x1000", 1}};
  std::vector<std::unique_ptr<Operands>> data;
  std::vector<std::unique_ptr<edgeq::kern::QConvOp>> ops;
  std::vector<int> counts;
  for (const Use& u : uses) {
    for (const Layer& l : kLayers) {
      if (std::string(l.net) != "resnet18" || std::string(l.name) != u.name) continue;
      data.push_back(std::make_unique<Operands>(l));
      ops.push_back(std::make_unique<edgeq::kern::QConvOp>());
      counts.push_back(u.count);
      if (!init_layer(ops.back().get(), isa, l, *data.back())) {
        state.SkipWithError("QConvOp::init refused a layer");
        return;
      }
    }
  }
  pthreadpool_t pool = threads > 1 ? pthreadpool_create(threads) : nullptr;
  for (auto _ : state) {
    for (size_t i = 0; i < ops.size(); ++i)
      for (int c = 0; c < counts[i]; ++c) edgeq::Scheduler(pool).run(*ops[i], data[i]->x.data(), data[i]->y.data());
  }
  if (pool != nullptr) pthreadpool_destroy(pool);
}

#ifdef EDGEQ_BENCH_XNNPACK
void bench_xnnpack(benchmark::State& state, const Layer& l) {
  static const bool ready = xnn_initialize(nullptr) == xnn_status_success;
  if (!ready) {
    state.SkipWithError("xnn_initialize failed");
    return;
  }
  Operands d(l);
  xnn_operator_t op = nullptr;
  xnn_status st;
  const auto* x = reinterpret_cast<const int8_t*>(d.x.data());
  auto* y = reinterpret_cast<int8_t*>(d.y.data());
  if (l.fc) {
    st = xnn_create_fully_connected_nc_qs8(l.in_c, l.out_c, l.in_c, l.out_c, 0, 1.0f, d.scale[0], d.w.data(),
                                           d.bias.data(), 0, 1.0f, -128, 127, 0, &op);
    if (st == xnn_status_success) st = xnn_setup_fully_connected_nc_qs8(op, 1, x, y, nullptr);
  } else {
    const uint32_t pad = static_cast<uint32_t>(l.pad);
    st = xnn_create_convolution2d_nhwc_qc8(pad, pad, pad, pad, l.kernel, l.kernel, l.stride, l.stride, 1, 1, 1, l.in_c,
                                           l.out_c, l.in_c, l.out_c, 0, 1.0f, d.scale.data(), d.w.data(), d.bias.data(),
                                           0, 1.0f, -128, 127, 0, &op);
    if (st == xnn_status_success) st = xnn_setup_convolution2d_nhwc_qc8(op, 1, l.in_hw, l.in_hw, x, y, nullptr);
  }
  if (st != xnn_status_success) {
    state.SkipWithError("XNNPACK refused the layer");
    if (op != nullptr) xnn_delete_operator(op);
    return;
  }
  xnn_run_operator(op, nullptr);
  const double t0 = thread_seconds();
  for (auto _ : state) xnn_run_operator(op, nullptr);
  report(state, l, (thread_seconds() - t0), 0.0);
  xnn_delete_operator(op);
}
#endif

// ------------------------------------------------------------------ matmul

struct MatMulCase {
  const char* name;
  int32_t heads, m, k, n;
};
const MatMulCase kMatMuls[] = {
    {"bert_mini_qk_4x128x64x128", 4, 128, 64, 128},
    {"bert_mini_sv_4x128x128x64", 4, 128, 128, 64},
    {"deit_tiny_qk_3x197x64x197", 3, 197, 64, 197},
    {"deit_tiny_sv_3x197x197x64", 3, 197, 197, 64},
};

// variant: 0 quantized u8 zb 128, 1 quantized u8 zb 0 full range, 2 and 3 dynamic modes
// 1 and 2, 4 float reference.
void bench_matmul(benchmark::State& state, Isa isa, const MatMulCase& c, int variant) {
  const double peak = variant == 4 ? 0.0 : peak_gmacs(isa);
  const int32_t a_shape[3] = {c.heads, c.m, c.k}, b_shape[3] = {c.heads, c.k, c.n};
  edgeq::kern::QMatMulParams p;
  edgeq::ref::make_matmul_shape(a_shape, 3, b_shape, 3, &p.shape);
  const size_t na = static_cast<size_t>(c.heads) * c.m * c.k, nb = static_cast<size_t>(c.heads) * c.k * c.n;
  const size_t ny = static_cast<size_t>(c.heads) * c.m * c.n;
  std::mt19937 rng(1);
  std::vector<uint8_t> a8(na + 256), b8(nb), y8(ny);
  std::vector<float> af(na), bf(nb), yf(ny);
  for (uint8_t& v : a8) v = static_cast<uint8_t>(rng());
  for (uint8_t& v : b8) v = static_cast<uint8_t>(variant == 0 ? 128 + static_cast<int>(rng() % 201) - 100 : rng());
  std::normal_distribution<float> nd(0.f, 1.f);
  for (float& v : af) v = nd(rng);
  for (float& v : bf) v = nd(rng);
  const float scale = 1e-4f;
  p.rq.scale = &scale;
  p.rq.zero_point = 128;
  p.rq.qmin = 0;
  p.rq.qmax = 255;
  p.a_zero_point = 120;
  p.b_zero_point = variant == 0 ? 128 : 0;
  p.mode = variant == 2 ? 1 : (variant == 3 ? 2 : 0);
  p.quantize_u8 = edgeq::kern::kernel_set(isa).misc.quantize_u8;
  const double macs = static_cast<double>(ny) * c.k;
  if (variant == 4) {
    const double t0 = thread_seconds();
    for (auto _ : state) edgeq::ref::matmul_f32(p.shape, af.data(), bf.data(), yf.data());
    state.counters["GMAC/s"] = macs * static_cast<double>(state.iterations()) / (thread_seconds() - t0) * 1e-9;
    return;
  }
  edgeq::kern::QMatMulOp op;
  if (!op.init(p, edgeq::kern::kernel_set(isa).gemm)) {
    state.SkipWithError("QMatMulOp::init refused the product");
    return;
  }
  state.SetLabel(edgeq::kern::kernel_set(isa).gemm.name);
  const void* a = p.mode == 0 ? static_cast<const void*>(a8.data()) : af.data();
  const void* b = p.mode == 0 ? static_cast<const void*>(b8.data()) : bf.data();
  void* y = p.mode == 0 ? static_cast<void*>(y8.data()) : yf.data();
  const double t0 = thread_seconds();
  for (auto _ : state) op.run(a, b, y);
  const double gmacs = macs * static_cast<double>(state.iterations()) / (thread_seconds() - t0) * 1e-9;
  state.counters["GMAC/s"] = gmacs;
  if (peak > 0) state.counters["%peak"] = 100.0 * gmacs / peak;
}

// The float product on the level's float GEMM kernel, B packed every run as a session does.
void bench_fmatmul(benchmark::State& state, Isa isa, const MatMulCase& c) {
  const double peak = f32_peak_gflops(isa);
  const int32_t a_shape[3] = {c.heads, c.m, c.k}, b_shape[3] = {c.heads, c.k, c.n};
  edgeq::ref::MatMulShape s;
  edgeq::ref::make_matmul_shape(a_shape, 3, b_shape, 3, &s);
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::vector<float> a(static_cast<size_t>(c.heads) * c.m * c.k), b(static_cast<size_t>(c.heads) * c.k * c.n);
  std::vector<float> y(static_cast<size_t>(c.heads) * c.m * c.n);
  for (float& v : a) v = nd(rng);
  for (float& v : b) v = nd(rng);
  const edgeq::kern::FGemmKernel& kernel = edgeq::kern::kernel_set(isa).fgemm;
  edgeq::kern::FMatMulOp op;
  if (!op.init(s, kernel)) {
    state.SkipWithError("FMatMulOp::init refused the product");
    return;
  }
  const edgeq::kern::AlignedBuffer workspace = edgeq::kern::aligned_buffer(op.workspace_bytes());
  op.set_workspace(workspace.get());
  state.SetLabel(kernel.name);
  const double t0 = thread_seconds();
  for (auto _ : state) op.run(a.data(), b.data(), y.data());
  const double gflops =
      2.0 * static_cast<double>(y.size()) * c.k * static_cast<double>(state.iterations()) / (thread_seconds() - t0) * 1e-9;
  state.counters["GFLOP/s"] = gflops;
  if (peak > 0) state.counters["%peak"] = 100.0 * gflops / peak;
}

// The dynamically quantized fully connected layer: 128 rows, 256 -> 1024.
void bench_dynamic_fc(benchmark::State& state, Isa isa, int mode) {
  const double peak = peak_gmacs(isa);
  constexpr int32_t kM = 128, kK = 256, kN = 1024;
  std::mt19937 rng(2);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::vector<float> x(static_cast<size_t>(kM) * kK), y(static_cast<size_t>(kM) * kN), w_scale(kN, 0.01f), bias(kN);
  for (float& v : x) v = nd(rng);
  std::vector<int8_t> w(static_cast<size_t>(kN) * kK);
  for (int8_t& v : w) v = static_cast<int8_t>(rng());
  edgeq::kern::QMatMulParams p;
  const int32_t a_shape[2] = {kM, kK}, b_shape[2] = {kK, kN};
  edgeq::ref::make_matmul_shape(a_shape, 2, b_shape, 2, &p.shape);
  p.mode = mode;
  p.quantize_u8 = edgeq::kern::kernel_set(isa).misc.quantize_u8;
  p.weight = w.data();
  p.weight_scale = w_scale.data();
  p.per_channel = true;
  p.bias = bias.data();
  edgeq::kern::QMatMulOp op;
  if (!op.init(p, edgeq::kern::kernel_set(isa).gemm)) {
    state.SkipWithError("QMatMulOp::init refused the layer");
    return;
  }
  state.SetLabel(edgeq::kern::kernel_set(isa).gemm.name);
  const double t0 = thread_seconds();
  for (auto _ : state) op.run(x.data(), nullptr, y.data());
  const double gmacs = double{kM} * kK * kN * static_cast<double>(state.iterations()) / (thread_seconds() - t0) * 1e-9;
  state.counters["GMAC/s"] = gmacs;
  if (peak > 0) state.counters["%peak"] = 100.0 * gmacs / peak;
}

}  // namespace

int main(int argc, char** argv) {
  // The levels this CPU runs that have a GEMM kernel in this build, best last.
  std::vector<Isa> levels;
  for (size_t i = 1; i < static_cast<size_t>(Isa::kCount); ++i) {
    const Isa isa = static_cast<Isa>(i);
    if (edgeq::kern::isa_supported(isa) && edgeq::kern::kernel_set(isa).gemm.u8 != nullptr) levels.push_back(isa);
  }
  for (Isa isa : levels) {
    if (peak_loop(isa) == nullptr) continue;
    benchmark::RegisterBenchmark((std::string("peak/") + edgeq::kern::isa_name(isa)).c_str(), bench_peak,
                                 peak_loop(isa))
        ->Unit(benchmark::kMicrosecond);
  }
  for (Isa isa : levels)
    if (f32_peak_loop(isa) != nullptr)
      benchmark::RegisterBenchmark((std::string("peak_f32/") + edgeq::kern::isa_name(isa)).c_str(), bench_peak,
                                   f32_peak_loop(isa))
          ->Unit(benchmark::kMicrosecond);
  for (const Layer& l : kLayers) {
    const std::string base = std::string(l.net) + "/" + l.name + "/";
    for (Isa isa : levels) {
      benchmark::RegisterBenchmark((base + edgeq::kern::isa_name(isa)).c_str(), bench_qconv, isa, l, false)
          ->Unit(benchmark::kMicrosecond);
    }
    // Blocked: the two best levels (on an AMX CPU, amx and avx512vnni).
    for (size_t b = levels.size() > 2 ? levels.size() - 2 : 0; b < levels.size(); ++b)
      benchmark::RegisterBenchmark((base + edgeq::kern::isa_name(levels[b]) + "_blocked").c_str(), bench_qconv,
                                   levels[b], l, true)
          ->Unit(benchmark::kMicrosecond);
#ifdef EDGEQ_BENCH_XNNPACK
    benchmark::RegisterBenchmark((base + "xnnpack").c_str(), bench_xnnpack, l)->Unit(benchmark::kMicrosecond);
#endif
  }
  if (!levels.empty()) {
    const Isa best = levels.back();
    for (size_t threads : {1, 2}) {
      const std::string name =
          std::string("resnet18_all_layers/") + edgeq::kern::isa_name(best) + "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(name.c_str(), bench_resnet18_threads, best, threads)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  }
  const char* const variants[] = {"q_u8_zb128", "q_u8_zb0", "dynamic1", "dynamic2"};
  for (const MatMulCase& c : kMatMuls) {
    for (int v = 0; v < 4; ++v)
      for (Isa isa : levels)
        benchmark::RegisterBenchmark((std::string("matmul/") + c.name + "/" + variants[v] + "/" +
                                      edgeq::kern::isa_name(isa)).c_str(),
                                     bench_matmul, isa, c, v)
            ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((std::string("matmul/") + c.name + "/f32/ref").c_str(), bench_matmul, Isa::kRef, c, 4)
        ->Unit(benchmark::kMicrosecond);
    for (Isa isa : levels)
      if (edgeq::kern::kernel_set(isa).fgemm.fn != nullptr)
        benchmark::RegisterBenchmark((std::string("matmul/") + c.name + "/f32/" + edgeq::kern::isa_name(isa)).c_str(),
                                     bench_fmatmul, isa, c)
            ->Unit(benchmark::kMicrosecond);
  }
  for (int mode : {1, 2})
    for (Isa isa : levels)
      benchmark::RegisterBenchmark(("dynamic_fc/128x256x1024/dynamic" + std::to_string(mode) + "/" +
                                    edgeq::kern::isa_name(isa)).c_str(),
                                   bench_dynamic_fc, isa, mode)
          ->Unit(benchmark::kMicrosecond);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
