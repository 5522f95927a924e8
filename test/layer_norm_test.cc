// Row normalizations: layer norm (float and int8/uint8) and quantized softmax.
//
// The references (kernels/ref/norm.cc) against hand-computed values and against the
// float operation in double on the dequantized input (within one output step); then
// every optimized level the host runs (kernels/misc.h) against the references byte for
// byte: channel counts 1..70 and transformer widths, rows of 1..300, zero points at the
// ends of their range, constant rows (variance 0, with and without epsilon), huge and
// tiny scales, masked softmax rows (most elements far below the maximum), equal rows;
// and sessions running LayerNorm -> Softmax chains (int8, uint8, float) at every level and
// thread count, equal to the reference level, naming their kernels.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "graph/format.h"
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "runtime/session.h"
#include "test/ref_test_util.h"
#include "test/test_graphs.h"

namespace edgeq {
namespace {

using kern::Isa;
using ref::testing_util::random_floats;
using ref::testing_util::random_ints;
using ref::testing_util::tmax;
using ref::testing_util::tmin;

std::vector<Isa> host_levels() {
  std::vector<Isa> v;
  for (Isa isa : {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot, Isa::kNeonI8mm}) {
    if (kern::isa_supported(isa)) v.push_back(isa);
  }
  return v;
}

// A quantized layer norm case: parameters and folded gamma / beta.
struct QLnCase {
  int32_t channels;
  float s_x, s_y, eps;
  int32_t z_x, z_y;
  std::vector<float> gamma, beta;  // beta empty: none
  std::vector<float> g, b;
  ref::QLayerNormParams p;

  template <typename T>
  void fold() {
    g.resize(channels);
    b.resize(channels);
    ref::qlayer_norm_fold(channels, gamma.data(), beta.empty() ? nullptr : beta.data(), s_y, g.data(), b.data());
    p.in_scale = s_x;
    p.epsilon = eps;
    p.gamma = g.data();
    p.beta = b.data();
    p.out_zero_point = z_y;
    p.qmin = tmin<T>();
    p.qmax = tmax<T>();
  }
};

// The float operation on the dequantized row, in double, quantized.
template <typename T>
std::vector<int32_t> expected_qln(const QLnCase& c, const T* q) {
  double mean = 0, var = 0;
  std::vector<double> x(c.channels);
  for (int32_t i = 0; i < c.channels; ++i) mean += x[i] = double{c.s_x} * (q[i] - c.z_x);
  mean /= c.channels;
  for (double v : x) var += (v - mean) * (v - mean);
  var /= c.channels;
  std::vector<int32_t> y(c.channels);
  for (int32_t i = 0; i < c.channels; ++i) {
    const double n = var + c.eps > 0 ? (x[i] - mean) / std::sqrt(var + c.eps) : 0.0;
    const double real = n * c.gamma[i] + (c.beta.empty() ? 0.0 : c.beta[i]);
    y[i] = static_cast<int32_t>(std::min<double>(tmax<T>(), std::max<double>(tmin<T>(), std::nearbyint(real / c.s_y) + c.z_y)));
  }
  return y;
}

TEST(RefLayerNorm, QuantizedHandComputed) {
  // q = 0 1 2 3: mean 1.5, variance 1.25; (q - 1.5) / sqrt(1.25) * 64 = -85.9 -28.6 28.6 85.9.
  QLnCase c{4, 1.f, 1.f / 64, 0.f, 7, 3, {1, 1, 1, 1}, {}, {}, {}, {}};
  c.fold<int8_t>();
  const int8_t q[4] = {0, 1, 2, 3};
  int8_t y[4];
  ref::qlayer_norm<int8_t>(1, 4, q, c.p, y);
  EXPECT_EQ(y[0], -86 + 3);
  EXPECT_EQ(y[1], -29 + 3);
  EXPECT_EQ(y[2], 29 + 3);
  EXPECT_EQ(y[3], 86 + 3);
  // gamma 2 and beta 0.5 on channel 3: 2 * 1.3416 + 0.5 = 3.18 -> 204 steps, clamped to 127.
  c.gamma = {1, 1, 1, 2};
  c.beta = {0, 0, 0, 0.5f};
  c.fold<int8_t>();
  ref::qlayer_norm<int8_t>(1, 4, q, c.p, y);
  EXPECT_EQ(y[3], 127);
  // A constant row with epsilon 0 is all beta.
  const int8_t flat[4] = {-5, -5, -5, -5};
  ref::qlayer_norm<int8_t>(1, 4, flat, c.p, y);
  EXPECT_EQ(y[0], 3);
  EXPECT_EQ(y[3], 32 + 3);
}

template <typename T>
void check_qln_accuracy(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  int64_t checked = 0;
  for (int32_t channels : {1, 2, 3, 7, 16, 33, 64, 192, 256, 768}) {
    for (int trial = 0; trial < 6; ++trial) {
      QLnCase c;
      c.channels = channels;
      c.s_x = 0.01f + 0.2f * u(rng);
      c.s_y = 0.02f + 0.05f * u(rng);
      c.eps = trial % 2 ? 1e-5f : 1e-12f;
      c.z_x = tmin<T>() + static_cast<int32_t>(255 * u(rng));
      c.z_y = tmin<T>() + 100 + static_cast<int32_t>(50 * u(rng));
      c.gamma = random_floats(&rng, channels, -2.f, 2.f);
      if (trial % 3) c.beta = random_floats(&rng, channels, -1.f, 1.f);
      c.fold<T>();
      const int rows = 5;
      const std::vector<T> q = random_ints<T>(&rng, rows * channels, tmin<T>(), tmax<T>());
      std::vector<T> y(q.size());
      ref::qlayer_norm<T>(rows, channels, q.data(), c.p, y.data());
      for (int r = 0; r < rows; ++r) {
        const std::vector<int32_t> want = expected_qln(c, q.data() + r * channels);
        for (int32_t i = 0; i < channels; ++i, ++checked) {
          ASSERT_LE(std::abs(static_cast<int32_t>(y[r * channels + i]) - want[i]), 1)
              << "channels " << channels << " row " << r << " channel " << i;
        }
      }
    }
  }
  EXPECT_GT(checked, 5000);
}

TEST(RefLayerNorm, QuantizedWithinOneStepOfFloatInt8) { check_qln_accuracy<int8_t>(301); }
TEST(RefLayerNorm, QuantizedWithinOneStepOfFloatUint8) { check_qln_accuracy<uint8_t>(302); }

TEST(RefLayerNorm, FloatMatchesDouble) {
  std::mt19937 rng(303);
  for (int32_t channels : {1, 5, 16, 17, 100, 768}) {
    const std::vector<float> x = random_floats(&rng, 3 * channels, -4.f, 6.f);
    const std::vector<float> gamma = random_floats(&rng, channels, -2.f, 2.f);
    const std::vector<float> beta = random_floats(&rng, channels, -1.f, 1.f);
    std::vector<float> y(x.size());
    ref::layer_norm_f32(3, channels, x.data(), gamma.data(), beta.data(), 1e-5f, y.data());
    for (int r = 0; r < 3; ++r) {
      const float* xr = x.data() + r * channels;
      double mean = 0, var = 0;
      for (int32_t i = 0; i < channels; ++i) mean += xr[i];
      mean /= channels;
      for (int32_t i = 0; i < channels; ++i) var += (xr[i] - mean) * (xr[i] - mean);
      var /= channels;
      for (int32_t i = 0; i < channels; ++i) {
        const double want = (xr[i] - mean) / std::sqrt(var + 1e-5) * gamma[i] + beta[i];
        ASSERT_NEAR(y[r * channels + i], want, 2e-5 * (1 + std::fabs(want))) << channels << " " << i;
      }
    }
  }
  // A constant row gives beta; without beta, 0.
  const float flat[3] = {2.5f, 2.5f, 2.5f}, gamma[3] = {1, 2, 3}, beta[3] = {0.25f, -1, 4};
  float y[3];
  ref::layer_norm_f32(1, 3, flat, gamma, beta, 1e-5f, y);
  EXPECT_EQ(y[0], 0.25f);
  EXPECT_EQ(y[2], 4.f);
  ref::layer_norm_f32(1, 3, flat, gamma, nullptr, 1e-5f, y);
  EXPECT_EQ(y[1], 0.f);
}

template <typename T>
void check_qsoftmax_accuracy(uint32_t seed) {
  std::mt19937 rng(seed);
  for (int32_t n : {1, 2, 5, 31, 128, 197}) {
    for (float s_in : {0.01f, 0.08f, 0.5f}) {
      const int32_t z_out = tmin<T>();
      const float s_out = 1.f / 256;
      const std::vector<T> q = random_ints<T>(&rng, 4 * n, tmin<T>(), tmax<T>());
      std::vector<T> y(q.size());
      uint32_t table[256];
      ref::qsoftmax_table(s_in, table);
      ref::qsoftmax_rows<T>(4, n, q.data(), table, s_out, z_out, y.data());
      for (int r = 0; r < 4; ++r) {
        const T* x = q.data() + r * n;
        int32_t m = tmin<T>();
        for (int32_t j = 0; j < n; ++j) m = std::max<int32_t>(m, x[j]);
        double sum = 0;
        for (int32_t j = 0; j < n; ++j) sum += std::exp(double{s_in} * (x[j] - m));
        for (int32_t j = 0; j < n; ++j) {
          const double p = std::exp(double{s_in} * (x[j] - m)) / sum;
          const double want = std::min<double>(tmax<T>(), std::nearbyint(p / s_out) + z_out);
          ASSERT_LE(std::fabs(y[r * n + j] - want), 1.0) << n << " " << s_in << " " << j;
        }
      }
    }
  }
  // Four equal values: 0.25 each = 64 steps above z_out, whatever the layout.
  const T same[4] = {T(5), T(5), T(5), T(5)};
  T four[4];
  ref::qsoftmax<T>(1, 4, 1, same, 0.3f, 0, 1.f / 256, tmin<T>(), four);
  for (T v : four) EXPECT_EQ(static_cast<int32_t>(v), tmin<T>() + 64);
  ref::qsoftmax<T>(2, 1, 2, same, 0.3f, 0, 1.f / 256, tmin<T>(), four);  // one element: p = 1
  EXPECT_EQ(static_cast<int32_t>(four[0]), std::min(tmax<T>(), tmin<T>() + 256));
}

TEST(RefQSoftmaxTable, WithinOneStepInt8) { check_qsoftmax_accuracy<int8_t>(304); }
TEST(RefQSoftmaxTable, WithinOneStepUint8) { check_qsoftmax_accuracy<uint8_t>(305); }

TEST(RefQSoftmaxTable, Table) {
  uint32_t t[256];
  ref::qsoftmax_table(std::log(2.f), t);  // halves each step
  EXPECT_EQ(t[0], 1u << 23);
  EXPECT_EQ(t[1], 1u << 22);
  EXPECT_EQ(t[23], 1u);
  EXPECT_EQ(t[25], 0u);
}

// ------------------------------------------------------------------ every level

class NormLevels : public ::testing::Test {
 public:
  void SetUp() override {
    levels_ = host_levels();
    if (levels_.empty()) GTEST_SKIP() << "no optimized level on this host";
  }
  std::vector<Isa> levels_;
  std::mt19937 rng_{310};
  float log_uniform(float lo_exp, float hi_exp) {
    return std::exp2(std::uniform_real_distribution<float>(lo_exp, hi_exp)(rng_));
  }
  int32_t uni(int32_t lo, int32_t hi) { return std::uniform_int_distribution<int32_t>(lo, hi)(rng_); }

  template <typename T>
  void qln_case(int32_t channels, int rows, const QLnCase& c, const std::vector<T>& q) {
    std::vector<T> want(q.size()), got(q.size());
    ref::qlayer_norm<T>(rows, channels, q.data(), c.p, want.data());
    for (Isa isa : levels_) {
      const kern::MiscKernels& m = kern::kernel_set(isa).misc;
      kern::QLayerNormFn<T> fn;
      if constexpr (std::is_same<T, int8_t>::value) fn = m.qlayer_norm_s8;
      else fn = m.qlayer_norm_u8;
      ASSERT_NE(fn, nullptr) << kern::isa_name(isa);
      std::fill(got.begin(), got.end(), T(0));
      fn(rows, channels, q.data(), c.p, got.data());
      ASSERT_EQ(0, std::memcmp(want.data(), got.data(), got.size()))
          << kern::isa_name(isa) << " channels " << channels << " s_x " << c.s_x << " s_y " << c.s_y;
    }
  }

  template <typename T>
  void qln_sweep() {
    std::vector<int32_t> widths;
    for (int32_t c = 1; c <= 70; ++c) widths.push_back(c);
    for (int32_t c : {128, 192, 197, 256, 383, 768}) widths.push_back(c);
    for (int32_t channels : widths) {
      for (int trial = 0; trial < 4; ++trial) {
        QLnCase c;
        c.channels = channels;
        c.s_x = trial == 2 ? log_uniform(-120, 120) : log_uniform(-8, 0);
        c.s_y = trial == 3 ? log_uniform(-100, 100) : log_uniform(-6, -2);
        c.eps = trial == 1 ? 0.f : log_uniform(-40, 0);
        const int32_t ends[] = {tmin<T>(), tmax<T>(), 0};
        c.z_x = ends[uni(0, 2)];
        c.z_y = ends[uni(0, 2)];
        c.gamma = random_floats(&rng_, channels, -3.f, 3.f);
        if (trial != 0) c.beta = random_floats(&rng_, channels, -2.f, 2.f);
        c.fold<T>();
        const int rows = 3;
        std::vector<T> q = random_ints<T>(&rng_, rows * channels, tmin<T>(), tmax<T>());
        // Row 1 constant (variance 0); row 2 two values only at the type's ends.
        for (int32_t i = 0; i < channels; ++i) {
          q[channels + i] = static_cast<T>(c.z_x);
          q[2 * channels + i] = static_cast<T>(i % 3 ? tmax<T>() : tmin<T>());
        }
        qln_case<T>(channels, rows, c, q);
      }
    }
  }

  template <typename T>
  void softmax_sweep() {
    for (int32_t n = 1; n <= 300; n += (n < 70 ? 1 : 7)) {
      for (int trial = 0; trial < 4; ++trial) {
        const float s_in = trial == 1 ? log_uniform(-40, 40) : log_uniform(-7, 0);
        const float s_out = trial == 2 ? log_uniform(-60, 60) : 1.f / 256;
        const int32_t ends[] = {tmin<T>(), tmax<T>(), tmin<T>() + 128};
        const int32_t z_out = ends[uni(0, 2)];
        const int rows = 4;
        std::vector<T> q = random_ints<T>(&rng_, rows * n, tmin<T>(), tmax<T>());
        for (int32_t j = 0; j < n; ++j) {
          q[n + j] = j % 5 == 0 ? static_cast<T>(uni(tmin<T>() + 100, tmax<T>())) : static_cast<T>(tmin<T>());  // masked
          q[2 * n + j] = static_cast<T>(tmax<T>() - 3);  // all equal
        }
        uint32_t table[256];
        ref::qsoftmax_table(s_in, table);
        std::vector<T> want(q.size()), got(q.size());
        ref::qsoftmax_rows<T>(rows, n, q.data(), table, s_out, z_out, want.data());
        for (Isa isa : levels_) {
          const kern::MiscKernels& m = kern::kernel_set(isa).misc;
          kern::QSoftmaxRowsFn<T> fn;
          if constexpr (std::is_same<T, int8_t>::value) fn = m.qsoftmax_s8;
          else fn = m.qsoftmax_u8;
          ASSERT_NE(fn, nullptr) << kern::isa_name(isa);
          std::fill(got.begin(), got.end(), T(0));
          fn(rows, n, q.data(), table, s_out, z_out, got.data());
          ASSERT_EQ(0, std::memcmp(want.data(), got.data(), got.size()))
              << kern::isa_name(isa) << " n " << n << " s_in " << s_in << " s_out " << s_out;
        }
      }
    }
  }
};

TEST_F(NormLevels, QLayerNormInt8) { qln_sweep<int8_t>(); }
TEST_F(NormLevels, QLayerNormUint8) { qln_sweep<uint8_t>(); }
// Rows longer than the kernels keep table entries for (2048) and than one uint32 lane
// sum holds (256 entries of 2^23 a lane): all equal (the largest sum) and random.
TEST_F(NormLevels, QSoftmaxLongRows) {
  for (int32_t n : {2047, 2048, 2049, 2061, 4100, 20000}) {
    for (bool equal : {true, false}) {
      std::vector<int8_t> q = random_ints<int8_t>(&rng_, 2 * n, -128, 127);
      if (equal) std::fill(q.begin(), q.end(), int8_t{9});
      uint32_t table[256];
      ref::qsoftmax_table(0.05f, table);
      const float s_out = 1.f / 65536;  // small enough that the outputs are not all 0
      std::vector<int8_t> want(q.size()), got(q.size());
      ref::qsoftmax_rows<int8_t>(2, n, q.data(), table, s_out, -128, want.data());
      for (Isa isa : levels_) {
        std::fill(got.begin(), got.end(), int8_t{0});
        kern::kernel_set(isa).misc.qsoftmax_s8(2, n, q.data(), table, s_out, -128, got.data());
        ASSERT_EQ(0, std::memcmp(want.data(), got.data(), got.size())) << kern::isa_name(isa) << " n " << n;
      }
    }
  }
}

TEST_F(NormLevels, QSoftmaxInt8) { softmax_sweep<int8_t>(); }
TEST_F(NormLevels, QSoftmaxUint8) { softmax_sweep<uint8_t>(); }

// Channel counts where the int16 lane sums are largest: every element at the type's
// extreme, 65536 channels.
TEST_F(NormLevels, QLayerNormWidestRows) {
  for (int32_t channels : {4096, 65536 - 3, 65536}) {
    QLnCase c;
    c.channels = channels;
    c.s_x = 0.05f;
    c.s_y = 0.02f;
    c.eps = 1e-5f;
    c.z_x = c.z_y = 0;
    c.gamma.assign(channels, 1.5f);
    c.beta.assign(channels, 0.25f);
    c.fold<uint8_t>();
    std::vector<uint8_t> q(2 * channels, 255);
    for (int32_t i = 0; i < channels; i += 7) q[channels + i] = 0;
    qln_case<uint8_t>(channels, 2, c, q);
  }
}

TEST_F(NormLevels, LayerNormF32) {
  for (int32_t channels = 1; channels <= 70; ++channels) {
    for (bool with_beta : {false, true}) {
      const int rows = 3;
      std::vector<float> x = random_floats(&rng_, rows * channels, -3.f, 5.f);
      for (int32_t i = 0; i < channels; ++i) x[channels + i] = 1.25f;  // constant row
      const std::vector<float> gamma = random_floats(&rng_, channels, -2.f, 2.f);
      const std::vector<float> beta = random_floats(&rng_, channels, -1.f, 1.f);
      const float* b = with_beta ? beta.data() : nullptr;
      std::vector<float> want(x.size()), got(x.size());
      ref::layer_norm_f32(rows, channels, x.data(), gamma.data(), b, 1e-5f, want.data());
      for (Isa isa : levels_) {
        const kern::LayerNormF32Fn fn = kern::kernel_set(isa).misc.layer_norm_f32;
        ASSERT_NE(fn, nullptr) << kern::isa_name(isa);
        fn(rows, channels, x.data(), gamma.data(), b, 1e-5f, got.data());
        ASSERT_EQ(0, std::memcmp(want.data(), got.data(), got.size() * sizeof(float)))
            << kern::isa_name(isa) << " channels " << channels;
      }
    }
  }
}

// ------------------------------------------------------------------ sessions

// x[2,50,C] -LayerNorm-> [2,50,C] -Softmax(last axis)-> y, quantized with dtype `act`;
// float: x -LayerNorm-> y.
Graph norm_net(DType act, int32_t channels) {
  using testing_graphs::make_node;
  using testing_graphs::make_tensor;
  const bool q = act != DType::kF32;
  const int32_t zp = act == DType::kS8 ? -7 : 131;
  Graph g;
  g.producer = "test";
  const int32_t x = g.add_tensor(make_tensor("x", act, {2, 50, channels}, q ? 0.03f : 0.f, zp));
  Tensor gamma = make_tensor("gamma", DType::kF32, {channels}), beta = make_tensor("beta", DType::kF32, {channels});
  gamma.set_data(testing_graphs::bytes_of(testing_graphs::random_floats(channels, 41, 0.5f, 1.5f)));
  beta.set_data(testing_graphs::bytes_of(testing_graphs::random_floats(channels, 42, -0.5f, 0.5f)));
  const int32_t gi = g.add_tensor(gamma), bi = g.add_tensor(beta);
  const int32_t ln = g.add_tensor(make_tensor("ln", act, {2, 50, channels}, q ? 0.025f : 0.f, zp + 2));
  Node norm = make_node("norm", OpType::kLayerNorm, {x, gi, bi}, {ln});
  norm.attrs.epsilon = 1e-5f;
  g.nodes.push_back(norm);
  g.inputs = {x};
  g.outputs = {ln};
  if (!q) return g;  // float softmax runs on XNNPACK at the optimized levels: not the reference's numerics
  const int32_t y = g.add_tensor(make_tensor("y", act, {2, 50, channels}, 1.f / 256, act == DType::kS8 ? -128 : 0));
  Node softmax = make_node("softmax", OpType::kSoftmax, {ln}, {y});
  softmax.attrs.axis = 2;
  g.nodes.push_back(softmax);
  g.outputs = {y};
  return g;
}

TEST(NormSession, EveryLevelAndThreadCountEqualsTheReference) {
  for (DType act : {DType::kS8, DType::kU8, DType::kF32}) {
    for (int32_t channels : {37, 192}) {
      std::vector<uint8_t> bytes;
      ASSERT_TRUE(serialize_graph(norm_net(act, channels), &bytes).ok());
      std::shared_ptr<const Model> m;
      ASSERT_TRUE(Model::load_memory(bytes.data(), bytes.size(), &m).ok());
      const std::vector<float> x = testing_graphs::random_floats(100 * channels, 43, -3.f, 3.f);
      const size_t out_bytes = 100 * channels * (act == DType::kF32 ? 4 : 1);
      std::vector<uint8_t> want;
      std::vector<Isa> levels{Isa::kRef};
      for (Isa isa : host_levels()) levels.push_back(isa);
      for (Isa isa : levels) {
        const std::string level = kern::isa_name(isa);
        for (int32_t threads : {1, 3}) {
          SessionOptions opts;
          opts.isa = level;
          opts.num_threads = threads;
          std::unique_ptr<Session> s;
          const Status st = Session::create(m, opts, &s);
          ASSERT_TRUE(st.ok()) << st.message();
          ASSERT_TRUE(s->set_input_f32(0, x.data(), x.size()).ok());
          s->run();
          std::vector<uint8_t> y(out_bytes);
          ASSERT_TRUE(s->get_output_raw(0, y.data(), y.size()).ok());
          if (want.empty()) want = y;
          EXPECT_EQ(y, want) << level << ", " << threads << " threads, dtype " << static_cast<int>(act) << ", "
                             << channels << " channels";
          if (isa == Isa::kRef) continue;
          const kern::MiscKernels& k = kern::kernel_set(isa).misc;
          if (act == DType::kF32) {
            EXPECT_STREQ(s->op(0).kernel_name(), k.names.layer_norm_f32) << level;
            continue;
          }
          EXPECT_STREQ(s->op(0).kernel_name(), k.names.qlayer_norm) << level;
          EXPECT_STREQ(s->op(1).kernel_name(), k.names.qsoftmax) << level;
        }
      }
    }
  }
}

// A quantized LayerNorm is refused, naming the node, where its kernels cannot take it.
TEST(NormSession, RefusesWhatTheKernelsCannotTake) {
  Graph g = norm_net(DType::kS8, 8);
  g.tensors[g.nodes[0].inputs[1]].set_data(testing_graphs::bytes_of(std::vector<float>(8, 1e38f)));
  g.tensors[g.nodes[0].outputs[0]].quant.scale = {1e-3f};  // gamma / s_y overflows
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(serialize_graph(g, &bytes).ok());
  std::shared_ptr<const Model> m;
  ASSERT_TRUE(Model::load_memory(bytes.data(), bytes.size(), &m).ok());
  std::unique_ptr<Session> s;
  const Status st = Session::create(m, SessionOptions(), &s);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'norm'"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace edgeq
