// Softmax kernels at every level the host runs (kernels/misc.h), beyond the sweeps of
// test/layer_norm_test.cc:
//  * int8 / uint8 (MiscKernels::qsoftmax_*): equal to ref::qsoftmax_rows byte for byte on
//    row sizes around the vector widths (8, 32, 64 bytes) and their multiples, rows that
//    hold every step 0..255, rows of only the type's two ends, all-equal rows, one row
//    and many, tables from tiny to huge input scales; nothing written past the rows.
//  * float (MiscKernels::softmax_f32, kernels/softmax_f32_rows.h): within
//    |y - ref| <= kAbsTol + kRelTol * |ref| of ref::softmax_f32 (the measured maximum is
//    printed) on every row size 1..70 and longer rows, random and masked rows (additive
//    -10000, -inf, -FLT_MAX), all-equal rows, huge spreads; NaN exactly where the
//    reference has NaN (a NaN or +inf in the row, a row all -inf); nothing written past
//    the rows; and sessions whose float Softmax runs the kernel at 1 and 3 threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "graph/format.h"
#include "kernels/kernels.h"
#include "kernels/misc.h"
#include "kernels/ref/ref.h"
#include "runtime/session.h"
#include "test/ref_test_util.h"
#include "test/test_graphs.h"

namespace edgeq {
namespace {

using kern::Isa;
using ref::testing_util::random_ints;
using testing_graphs::make_node;
using testing_graphs::make_tensor;
using ref::testing_util::tmax;
using ref::testing_util::tmin;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<Isa> optimized_levels() {
  std::vector<Isa> v;
  for (Isa isa : {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot, Isa::kNeonI8mm}) {
    if (kern::isa_supported(isa)) v.push_back(isa);
  }
  return v;
}

// ------------------------------------------------------------------ int8 / uint8

template <typename T>
kern::QSoftmaxRowsFn<T> qsoftmax_of(const kern::MiscKernels& m) {
  if constexpr (std::is_same<T, int8_t>::value) {
    return m.qsoftmax_s8;
  } else {
    return m.qsoftmax_u8;
  }
}

class QSoftmaxLevels : public ::testing::Test {
 public:
  void SetUp() override {
    levels_ = optimized_levels();
    if (levels_.empty()) GTEST_SKIP() << "no optimized level on this host";
  }

  // Every level equals the reference on `rows` rows of n in `q`; 64 guard bytes after
  // the output stay untouched.
  template <typename T>
  void check(int64_t rows, int32_t n, const std::vector<T>& q, float s_in, float s_out, int32_t z_out) {
    uint32_t table[256];
    ref::qsoftmax_table(s_in, table);
    const size_t size = static_cast<size_t>(rows) * n;
    std::vector<T> want(size), got(size + 64);
    ref::qsoftmax_rows<T>(rows, n, q.data(), table, s_out, z_out, want.data());
    for (Isa isa : levels_) {
      const kern::MiscKernels& m = kern::kernel_set(isa).misc;
      const kern::QSoftmaxRowsFn<T> fn = qsoftmax_of<T>(m);
      ASSERT_NE(fn, nullptr) << kern::isa_name(isa);
      std::fill(got.begin(), got.end(), T(0x5A));
      fn(rows, n, q.data(), table, s_out, z_out, got.data());
      ASSERT_EQ(0, std::memcmp(want.data(), got.data(), size))
          << kern::isa_name(isa) << " (" << m.names.qsoftmax << ") rows " << rows << " n " << n << " s_in " << s_in
          << " s_out " << s_out << " z_out " << z_out;
      for (size_t i = size; i < got.size(); ++i) ASSERT_EQ(got[i], T(0x5A)) << kern::isa_name(isa) << " wrote past n " << n;
    }
  }

  template <typename T>
  void sweep() {
    const int32_t sizes[] = {1,   2,   7,   8,   9,   15,  16,  17,  31,  32,  33,  63,  64,  65,  95,
                             127, 128, 129, 191, 192, 193, 197, 255, 256, 257, 320, 511, 513, 1000};
    const float in_scales[] = {1e-6f, 0.004f, 0.06f, 0.3f, 2.f, 1e4f};
    int trial = 0;
    for (int32_t n : sizes) {
      for (float s_in : in_scales) {
        ++trial;
        const int32_t ends[] = {tmin<T>(), tmax<T>(), tmin<T>() + 128};
        const int32_t z_out = ends[trial % 3];
        const float s_out = trial % 4 == 0 ? 1.f / 65536 : 1.f / 256;
        const int rows = 6;
        std::vector<T> q = random_ints<T>(&rng_, rows * n, tmin<T>(), tmax<T>());
        for (int32_t j = 0; j < n; ++j) {
          q[n + j] = static_cast<T>(j % 2 ? tmax<T>() : tmin<T>());  // steps 0 and 255 only
          q[2 * n + j] = static_cast<T>(tmin<T>() + (j * 97) % 256);  // every step once per 256
          q[3 * n + j] = static_cast<T>(tmin<T>());                   // all equal at the bottom
          q[4 * n + j] = static_cast<T>(tmax<T>());                   // ... and at the top
        }
        q[6 * n - 1] = static_cast<T>(tmax<T>());  // row 5: the maximum last
        check<T>(rows, n, q, s_in, s_out, z_out);
        check<T>(1, n, q, s_in, s_out, z_out);  // one row
      }
    }
  }

  std::vector<Isa> levels_;
  std::mt19937 rng_{711};
};

TEST_F(QSoftmaxLevels, EqualsReferenceInt8) { sweep<int8_t>(); }
TEST_F(QSoftmaxLevels, EqualsReferenceUint8) { sweep<uint8_t>(); }

// Many short rows in one call (the per-row state must not leak between rows).
TEST_F(QSoftmaxLevels, ManyShortRows) {
  for (int32_t n : {1, 3, 5, 12, 40}) {
    std::vector<int8_t> q = random_ints<int8_t>(&rng_, 1000 * n, -128, 127);
    check<int8_t>(1000, n, q, 0.1f, 1.f / 256, -128);
    std::vector<uint8_t> u = random_ints<uint8_t>(&rng_, 1000 * n, 0, 255);
    check<uint8_t>(1000, n, u, 0.1f, 1.f / 256, 0);
  }
}

// ------------------------------------------------------------------ float

// Stated tolerance of the float kernels against the reference (double): t = x - max
// rounded to float (a relative error of |t| 2^-24 <= 5.2e-6 in e^t, |t| <= 87.3 where
// the result is not 0), the exp polynomial's ~2e-7, the float sum's and the final
// product's roundings. The measured maximum is printed. Absolute: the kernels give 0
// where the reference's result is below FLT_MIN.
constexpr double kRelTol = 8e-6;
constexpr double kAbsTol = FLT_MIN;

class SoftmaxF32Levels : public ::testing::Test {
 public:
  void SetUp() override {
    for (Isa isa : optimized_levels()) {
      if (kern::kernel_set(isa).misc.softmax_f32 != nullptr) levels_.push_back(isa);
    }
    if (levels_.empty()) GTEST_SKIP() << "no float softmax kernel on this host";
  }
  void TearDown() override {
    if (!levels_.empty()) std::printf("float softmax: max relative error %.3g over %zu checks\n", worst_, checks_);
  }

  // Every level against the reference on `rows` rows of n in x.
  void check(int64_t rows, int32_t n, const std::vector<float>& x) {
    const size_t size = static_cast<size_t>(rows) * n;
    std::vector<float> want(size), got(size + 16);
    ref::softmax_f32(rows, n, 1, x.data(), want.data());
    for (Isa isa : levels_) {
      const kern::MiscKernels& m = kern::kernel_set(isa).misc;
      std::fill(got.begin(), got.end(), 12345.f);
      m.softmax_f32(rows, n, x.data(), got.data());
      for (size_t i = 0; i < size; ++i) {
        const double w = want[i], g = got[i];
        ASSERT_EQ(std::isnan(w), std::isnan(g))
            << kern::isa_name(isa) << " n " << n << " element " << i << ": " << g << " vs " << w << " (x " << x[i] << ")";
        if (std::isnan(w)) continue;
        const double err = std::fabs(g - w);
        ASSERT_LE(err, kAbsTol + kRelTol * std::fabs(w))
            << kern::isa_name(isa) << " n " << n << " element " << i << ": " << g << " vs " << w << " (x " << x[i] << ")";
        if (w >= FLT_MIN) worst_ = std::max(worst_, err / w);
        ++checks_;
      }
      for (size_t i = size; i < got.size(); ++i) ASSERT_EQ(got[i], 12345.f) << kern::isa_name(isa) << " wrote past n " << n;
    }
  }
  // Every level's column kernel against the reference on x [outer][count][inner]: all
  // columns at once, and columns [c0, c0 + c) of each slice (a thread's range).
  void check_columns(int64_t outer, int32_t count, int32_t inner, const std::vector<float>& x) {
    const size_t size = static_cast<size_t>(outer) * count * inner;
    std::vector<float> want(size), got(size);
    ref::softmax_f32(outer, count, inner, x.data(), want.data());
    const int32_t c0 = inner / 3, c = std::max(1, inner / 2);
    for (Isa isa : levels_) {
      const kern::SoftmaxF32ColumnsFn fn = kern::kernel_set(isa).misc.softmax_f32_columns;
      ASSERT_NE(fn, nullptr) << kern::isa_name(isa);
      for (bool part : {false, true}) {
        std::fill(got.begin(), got.end(), 12345.f);
        if (part) {
          for (int64_t o = 0; o < outer; ++o)
            fn(1, count, c, inner, x.data() + o * count * inner + c0, got.data() + o * count * inner + c0);
        } else {
          fn(outer, count, inner, inner, x.data(), got.data());
        }
        for (size_t i = 0; i < size; ++i) {
          const int32_t col = static_cast<int32_t>(i % static_cast<size_t>(inner));
          if (part && (col < c0 || col >= c0 + c)) {
            ASSERT_EQ(got[i], 12345.f) << kern::isa_name(isa) << " wrote outside its columns, element " << i;
            continue;
          }
          const double w = want[i], g = got[i];
          ASSERT_EQ(std::isnan(w), std::isnan(g)) << kern::isa_name(isa) << " element " << i << ": " << g << " vs " << w;
          if (std::isnan(w)) continue;
          ASSERT_LE(std::fabs(g - w), kAbsTol + kRelTol * std::fabs(w))
              << kern::isa_name(isa) << " count " << count << " inner " << inner << " element " << i << ": " << g
              << " vs " << w << " (x " << x[i] << ")";
          if (w >= FLT_MIN) worst_ = std::max(worst_, std::fabs(g - w) / w);
          ++checks_;
        }
      }
    }
  }
  std::vector<float> normal(size_t count, float sigma) {
    std::normal_distribution<float> g(0.f, sigma);
    std::vector<float> v(count);
    for (auto& e : v) e = g(rng_);
    return v;
  }

  std::vector<Isa> levels_;
  std::mt19937 rng_{712};
  double worst_ = 0.0;
  size_t checks_ = 0;
};

TEST_F(SoftmaxF32Levels, RandomAndMaskedRows) {
  std::vector<int32_t> sizes;
  for (int32_t n = 1; n <= 70; ++n) sizes.push_back(n);
  for (int32_t n : {127, 128, 129, 197, 255, 256, 1023, 1024, 1025, 2049, 5000}) sizes.push_back(n);
  for (int32_t n : sizes) {
    for (float sigma : {0.01f, 1.f, 5.f, 40.f}) {
      const int rows = 5;
      std::vector<float> x = normal(static_cast<size_t>(rows) * n, sigma);
      for (int32_t j = 0; j < n; ++j) {
        if (j % 3 == 2) x[n + j] -= 10000.f;  // row 1: BERT's additive mask
        if (j % 4 == 1) x[2 * n + j] = -kInf;  // row 2: masked with -inf (never all of it)
        if (j % 5 == 4) x[2 * n + j] = -FLT_MAX;
        x[3 * n + j] = 2.5f;  // row 3: all equal
      }
      x[4 * n + n / 2] = 80.f;  // row 4: one far above the rest
      check(rows, n, x);
    }
  }
}

TEST_F(SoftmaxF32Levels, ExtremeValues) {
  for (int32_t n : {1, 5, 8, 16, 17, 40}) {
    std::vector<float> x = normal(static_cast<size_t>(n) * 6, 3.f);
    for (int32_t j = 0; j < n; ++j) {
      x[j] = j % 2 ? FLT_MAX : -FLT_MAX;             // differences overflow to -inf: exp 0
      x[n + j] = j % 3 ? 1e-40f : -1e-40f;           // denormals: nearly uniform
      x[2 * n + j] = -87.f - 0.25f * j;               // exp near the smallest normal floats
      x[3 * n + j] = static_cast<float>(j) * -3.f;    // a geometric row, e^-3 apart
      x[4 * n + j] = 1e30f * static_cast<float>(j);   // only the maximum survives
      x[5 * n + j] = j == 0 ? 0.f : -100.f - j;       // results below FLT_MIN (denormal in the reference)
    }
    check(6, n, x);
  }
}

// Softmax along a middle axis (YOLOv8's distribution head: 16 bins of [1, 16, 4, A]):
// every column count around the vector widths, with masked, extreme and non-finite
// columns.
TEST_F(SoftmaxF32Levels, ColumnsAlongAMiddleAxis) {
  for (int32_t inner : {2, 3, 4, 7, 8, 15, 16, 17, 31, 33, 64, 100}) {
    for (int32_t count : {1, 2, 16, 37}) {
      const int64_t outer = 3;
      std::vector<float> x = normal(static_cast<size_t>(outer) * count * inner, 4.f);
      const auto at = [&](int64_t o, int32_t k, int32_t i) -> float& {
        return x[static_cast<size_t>((o * count + k) * inner + i)];
      };
      for (int32_t k = 0; k < count; ++k) {
        if (k % 3 == 2) at(1, k, 0) -= 10000.f;           // a masked column
        at(1, k, inner - 1) = 2.5f;                        // all equal
        if (k % 4 == 1) at(2, k, inner / 2) = -kInf;       // -inf entries (never the whole column)
      }
      at(2, 0, 0) = kNaN;        // a NaN: the column is NaN
      at(0, count - 1, 1 % inner) = 80.f;  // one far above the rest
      check_columns(outer, count, inner, x);
    }
  }
}

// NaN and infinities: NaN exactly where the reference gives it (check() compares), and
// the cases spelled out.
TEST_F(SoftmaxF32Levels, NonFinite) {
  for (int32_t n : {1, 3, 16, 19, 64}) {
    for (int pos : {0, 1, 2}) {
      const int32_t at = pos == 0 ? 0 : pos == 1 ? n / 2 : n - 1;
      std::vector<float> x = normal(static_cast<size_t>(n) * 5, 2.f);
      x[at] = kNaN;                                                  // row 0: a NaN: all NaN
      x[n + at] = kInf;                                              // row 1: +inf: all NaN (inf - inf)
      std::fill(x.begin() + 2 * n, x.begin() + 3 * n, -kInf);       // row 2: all -inf: all NaN
      x[3 * n + at] = -kInf;                                         // row 3: one -inf: 0 there
      std::fill(x.begin() + 4 * n, x.begin() + 5 * n, -kInf);        // row 4: all -inf but one
      x[4 * n + at] = -3.f;
      check(5, n, x);
      std::vector<float> y(x.size());
      kern::kernel_set(levels_.back()).misc.softmax_f32(5, n, x.data(), y.data());
      for (int32_t j = 0; j < n; ++j) {
        ASSERT_TRUE(std::isnan(y[j]) && std::isnan(y[n + j]) && std::isnan(y[2 * n + j])) << n << " " << j;
        if (j == at && n > 1) {
          ASSERT_EQ(y[3 * n + j], 0.f);
        }
        ASSERT_EQ(y[4 * n + j], j == at ? 1.f : 0.f);
      }
    }
  }
}

// A float Softmax node runs the level's kernel over the innermost axis (rows) and over
// a middle one (columns), at 1 and 3 threads (the work split between them), within the
// tolerance of the reference level.
TEST(SoftmaxF32Session, RunsTheKernelAtEveryLevel) {
  for (int32_t axis : {2, 1}) {
    Graph g;
    g.producer = "test";
    const int32_t x = g.add_tensor(make_tensor("x", DType::kF32, {3, 40, 37}));
    const int32_t y = g.add_tensor(make_tensor("y", DType::kF32, {3, 40, 37}));
    Node softmax = make_node("softmax", OpType::kSoftmax, {x}, {y});
    softmax.attrs.axis = axis;
    g.nodes.push_back(softmax);
    g.inputs = {x};
    g.outputs = {y};
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(serialize_graph(g, &bytes).ok());
    std::shared_ptr<const Model> m;
    ASSERT_TRUE(Model::load_memory(bytes.data(), bytes.size(), &m).ok());
    const std::vector<float> in = testing_graphs::random_floats(3 * 40 * 37, 44, -8.f, 8.f);
    std::vector<float> want;
    std::vector<Isa> levels{Isa::kRef};
    for (Isa isa : optimized_levels()) levels.push_back(isa);
    for (Isa isa : levels) {
      for (int32_t threads : {1, 3}) {
        SessionOptions opts;
        opts.isa = kern::isa_name(isa);
        opts.num_threads = threads;
        std::unique_ptr<Session> s;
        const Status st = Session::create(m, opts, &s);
        ASSERT_TRUE(st.ok()) << st.message();
        ASSERT_TRUE(s->set_input_f32(0, in.data(), in.size()).ok());
        s->run();
        std::vector<float> out(in.size());
        ASSERT_TRUE(s->get_output_raw(0, out.data(), out.size() * sizeof(float)).ok());
        if (want.empty()) want = out;
        for (size_t i = 0; i < out.size(); ++i) {
          ASSERT_NEAR(out[i], want[i], kAbsTol + kRelTol * want[i]) << opts.isa << " axis " << axis << " element " << i;
        }
        // Over the last axis the rows kernel, over the middle one the columns kernel; a
        // level without them keeps the reference along the middle axis (XNNPACK may take
        // the last one: ARMv7).
        const kern::MiscKernels& misc = kern::kernel_set(isa).misc;
        const bool has = axis == 2 ? misc.softmax_f32 != nullptr : misc.softmax_f32_columns != nullptr;
        if (isa != Isa::kRef && has && misc.names.softmax_f32 != nullptr) {
          EXPECT_STREQ(s->op(0).kernel_name(), misc.names.softmax_f32) << opts.isa;
        } else if (axis == 1) {
          EXPECT_STREQ(s->op(0).kernel_name(), "ref") << opts.isa;
        }
      }
    }
  }
}

}  // namespace
}  // namespace edgeq
