// The float MatMul engine (kernels/fmatmul.h) on every float GEMM microkernel the host
// runs, against ref::matmul_f32: sizes 0 / 1 / odd / a tile -1, +0, +1 in m, n and k, a
// long k, attention's shapes, broadcast batches, NaN and infinities; operands placed
// against an unmapped page so that a read or write past any of them faults; any split of
// the rows giving the same bytes; and sessions at every level with 1 and 2 threads.
//
// Tolerance. The kernels and the reference both add the k terms of an output in order,
// in float; they differ only where a kernel fuses the multiply and the add (one rounding
// per term instead of two). Each of the two sums is within gamma_k * S of the exact sum
// (S = sum_k |a||b|, gamma_k = k u / (1 - k u) with u = 2^-24: Higham, Accuracy and
// Stability, 3.1), so they are within 2 gamma_k S of each other; the test allows
//   |kernel - ref| <= 2 (k + 1) 2^-24 S + (k + 1) 2^-125
// the last term for ARMv7 NEON, which flushes subnormal products and sums to zero (each
// of the k + 1 roundings then errs by less than FLT_MIN = 2^-126). A kernel without FMA
// (AVX2 alone) must equal the reference bit for bit.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "graph/format.h"
#include "kernels/fmatmul.h"
#include "kernels/kernels.h"
#include "kernels/memory.h"
#include "kernels/ref/ref.h"
#include "runtime/session.h"
#include "test/model_helpers.h"
#include "test/test_graphs.h"
#if defined(__x86_64__) || defined(__i386__)
#include "kernels/x86/fgemm_x86.h"
#endif

namespace edgeq {
namespace {

using kern::Isa;
using testing_graphs::make_node;
using testing_graphs::make_tensor;

constexpr Isa kLevels[] = {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot, Isa::kNeonI8mm};

struct Labeled {
  std::string label;
  kern::FGemmKernel kernel;
  bool exact;  // multiply-then-add: equals the reference bit for bit
};

// Every float GEMM kernel the host runs: each level's, and on x86 the unfused 256-bit
// kernel too (the one CPUs with AVX2 but without FMA3 get).
std::vector<Labeled> host_kernels() {
  std::vector<Labeled> v;
  for (Isa isa : kLevels) {
    if (!kern::isa_supported(isa)) continue;
    const kern::FGemmKernel& k = kern::kernel_set(isa).fgemm;
    EXPECT_NE(k.fn, nullptr) << kern::isa_name(isa) << " has no float GEMM kernel";
    if (k.fn != nullptr) v.push_back({std::string(kern::isa_name(isa)) + ":" + k.name, k, false});
  }
#if defined(__x86_64__) || defined(__i386__)
  if (kern::isa_supported(Isa::kAvx2)) {
    const kern::FGemmKernel k = kern::fgemm_kernel_avx2(false);
    v.push_back({k.name, k, true});
  }
#endif
  return v;
}

// n floats ending exactly at an unmapped page: any access past the end faults.
class Guarded {
 public:
  explicit Guarded(size_t n) : n_(n) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    bytes_ = (n * sizeof(float) + page - 1) / page * page + page;
    void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(p, MAP_FAILED);
    base_ = static_cast<uint8_t*>(p);
    EXPECT_EQ(mprotect(base_ + bytes_ - page, page, PROT_NONE), 0);
    data_ = reinterpret_cast<float*>(base_ + bytes_ - page) - n;
  }
  ~Guarded() { munmap(base_, bytes_); }
  Guarded(const Guarded&) = delete;
  Guarded& operator=(const Guarded&) = delete;
  float* data() { return data_; }
  size_t size() const { return n_; }

 private:
  size_t n_, bytes_;
  uint8_t* base_;
  float* data_;
};

// The engine with its workspace (a session's arena gives it one; here, the heap).
struct Engine {
  kern::FMatMulOp op;
  kern::AlignedBuffer workspace;
  bool init(const ref::MatMulShape& s, const kern::FGemmKernel& k) {
    if (!op.init(s, k)) return false;
    workspace = kern::aligned_buffer(std::max<size_t>(1, op.workspace_bytes()));
    op.set_workspace(workspace.get());
    return true;
  }
};

using test_models::shape_of;

size_t count(const std::vector<int32_t>& shape) {
  size_t c = 1;
  for (int32_t d : shape) c *= static_cast<size_t>(d);
  return c;
}

// S = sum_k |a||b| for every output, in double (the tolerance's scale).
std::vector<double> abs_sums(const ref::MatMulShape& s, const float* a, const float* b) {
  std::vector<double> out(static_cast<size_t>(s.batches) * s.m * s.n);
  for (int64_t t = 0; t < s.batches; ++t) {
    int64_t ai, bi;
    ref::matmul_operands(s, t, &ai, &bi);
    for (int32_t i = 0; i < s.m; ++i)
      for (int32_t j = 0; j < s.n; ++j) {
        double sum = 0;
        for (int32_t k = 0; k < s.k; ++k)
          sum += std::fabs(double{a[(ai * s.m + i) * s.k + k]}) * std::fabs(double{b[(bi * s.k + k) * s.n + j]});
        out[(t * s.m + i) * s.n + j] = sum;
      }
  }
  return out;
}

// The kernel's result against the reference: NaN where it has NaN, the same infinity
// where it has one, else within the tolerance above (exactly, for unfused kernels).
void expect_close(const Labeled& kl, const ref::MatMulShape& s, const float* a, const float* b, const float* got,
                  const float* want, const std::string& what) {
  const std::vector<double> sums = abs_sums(s, a, b);
  const double u = std::ldexp(1.0, -24);
  int failures = 0;
  for (size_t i = 0; i < sums.size() && failures < 5; ++i) {
    const float g = got[i], w = want[i];
    bool ok;
    if (std::isnan(w) || std::isinf(w) || kl.exact) {
      ok = std::memcmp(&g, &w, sizeof(float)) == 0 || (std::isnan(w) && std::isnan(g));
    } else {
      const double tol = 2.0 * (s.k + 1) * u * sums[i] + (s.k + 1) * std::ldexp(1.0, -125);
      ok = std::isfinite(g) && std::fabs(double{g} - double{w}) <= tol;
    }
    if (!ok) {
      ++failures;
      ADD_FAILURE() << kl.label << " " << what << " output " << i << ": " << g << " vs reference " << w
                    << " (sum |a||b| " << sums[i] << ")";
    }
  }
}

// Runs the engine on A and B (shapes a_shape, b_shape) filled from `fill`, all three
// operands against unmapped pages, and checks it against the reference. Returns Y.
template <typename Fill>
std::vector<float> check(const Labeled& kl, const std::vector<int32_t>& a_shape, const std::vector<int32_t>& b_shape,
                         Fill fill, const std::string& what) {
  const ref::MatMulShape s = shape_of(a_shape, b_shape);
  Guarded a(count(a_shape)), b(count(b_shape)), y(static_cast<size_t>(s.batches) * s.m * s.n);
  fill(a.data(), a.size(), b.data(), b.size());
  std::vector<float> want(y.size());
  ref::matmul_f32(s, a.data(), b.data(), want.data());
  Engine e;
  EXPECT_TRUE(e.init(s, kl.kernel));
  std::fill(y.data(), y.data() + y.size(), -7.f);
  e.op.run(a.data(), b.data(), y.data());
  expect_close(kl, s, a.data(), b.data(), y.data(), want.data(), what);
  return std::vector<float>(y.data(), y.data() + y.size());
}

void random_fill(float* a, size_t na, float* b, size_t nb, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-2.f, 2.f);
  for (size_t i = 0; i < na; ++i) a[i] = d(rng);
  for (size_t i = 0; i < nb; ++i) b[i] = d(rng);
}

std::string dims(int32_t m, int32_t n, int32_t k) {
  return "m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k);
}

TEST(FMatMul, HostHasKernels) {
  const std::vector<Labeled> ks = host_kernels();
  for (Isa isa : kLevels) {
    if (kern::isa_supported(isa)) {
      EXPECT_FALSE(ks.empty()) << kern::isa_name(isa);
    }
  }
  for (const Labeled& k : ks) {
    EXPECT_GT(k.kernel.mr, 0u);
    EXPECT_GT(k.kernel.nr, 0u);
  }
}

TEST(FMatMul, SizesAroundTheTiles) {
  for (const Labeled& kl : host_kernels()) {
    const int32_t mr = static_cast<int32_t>(kl.kernel.mr), nr = static_cast<int32_t>(kl.kernel.nr);
    uint32_t seed = 1;
    for (int32_t m : {1, 2, mr - 1, mr, mr + 1, 2 * mr + 3, 37})
      for (int32_t n : {1, 3, nr - 1, nr, nr + 1, 2 * nr + 5})
        for (int32_t k : {0, 1, 3, 17, 64}) {
          if (m < 1 || n < 1) continue;
          check(
              kl, {m, k}, {k, n},
              [&](float* a, size_t na, float* b, size_t nb) { random_fill(a, na, b, nb, seed++); },
              dims(m, n, k));
        }
  }
}

// A narrow last panel runs the level's half-width kernel where it has one: the same
// sums as the full kernel, bit for bit, for every column count it takes, and nothing
// stored past nc.
TEST(FMatMul, HalfWidthKernelEqualsTheFullOne) {
  int checked = 0;
  for (const Labeled& kl : host_kernels()) {
    const kern::FGemmKernel& k = kl.kernel;
    if (k.fn_half == nullptr) continue;
    const size_t mr = k.mr, nr = k.nr, kc = 37;
    std::vector<float> a(mr * kc);
    const kern::AlignedBuffer panel = kern::aligned_buffer(kc * nr * sizeof(float));  // panels are 64-byte aligned
    float* w = reinterpret_cast<float*>(panel.get());
    random_fill(a.data(), a.size(), w, kc * nr, 5);
    for (size_t nc = 1; nc <= nr / 2; ++nc) {
      for (size_t kk = 0; kk < kc; ++kk) std::fill(w + kk * nr + nc, w + (kk + 1) * nr, 0.f);
      for (size_t rows = 1; rows <= mr; ++rows) {
        std::vector<float> full(mr * nr, 9.f), half(mr * nr, 9.f);
        k.fn(rows, nc, kc, a.data(), kc, w, full.data(), nr);
        k.fn_half(rows, nc, kc, a.data(), kc, w, half.data(), nr);
        ASSERT_EQ(std::memcmp(full.data(), half.data(), full.size() * sizeof(float)), 0)
            << kl.label << " nc " << nc << " rows " << rows;
        ++checked;
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no level here has a half-width float kernel";
}

TEST(FMatMul, LongKAndAttentionShapes) {
  for (const Labeled& kl : host_kernels()) {
    auto fill = [](float* a, size_t na, float* b, size_t nb) { random_fill(a, na, b, nb, 77); };
    check(kl, {13, 700}, {700, 21}, fill, "k=700");
    check(kl, {3, 197, 64}, {3, 64, 197}, fill, "QK^T");
    check(kl, {3, 197, 197}, {3, 197, 64}, fill, "scores x V");
  }
}

TEST(FMatMul, BroadcastBatches) {
  const std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>> cases = {
      {{2, 3, 7, 9}, {9, 11}},           {{1, 5, 9}, {4, 9, 11}},    {{2, 1, 7, 9}, {1, 3, 9, 19}},
      {{3, 7, 9}, {2, 1, 9, 33}},        {{4, 7, 9}, {4, 9, 11}},    {{1, 1, 7, 9}, {9, 2}},
      {{2, 3, 1, 1, 7, 9}, {3, 2, 9, 5}}};
  for (const Labeled& kl : host_kernels()) {
    uint32_t seed = 100;
    for (const auto& c : cases)
      check(
          kl, c.first, c.second, [&](float* a, size_t na, float* b, size_t nb) { random_fill(a, na, b, nb, seed++); },
          "broadcast case " + std::to_string(seed));
  }
}

TEST(FMatMul, NanAndInfinitiesPropagate) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (const Labeled& kl : host_kernels()) {
    const int32_t m = static_cast<int32_t>(kl.kernel.mr) + 2, n = static_cast<int32_t>(kl.kernel.nr) + 3, k = 20;
    const std::vector<float> y = check(
        kl, {2, m, k}, {k, n},
        [&](float* a, size_t na, float* b, size_t nb) {
          random_fill(a, na, b, nb, 5);
          a[1 * k + 4] = nan;         // row 1 of matrix 0: NaN everywhere
          a[(m + 2) * k + 7] = inf;   // row 2 of matrix 1: +inf times B's row 7,
          a[(m + 2) * k + 11] = 1.f;  //   plus B's row 11
          a[0 * k + 11] = 0.5f;       // row 0 of matrix 0: finite, times B's row 11
          b[7 * n + 2] = 0.f;         // inf * 0: NaN at (1, 2, 2)
          b[7 * n + 5] = 1.f;         // column 5: +inf from row 7 ...
          b[11 * n + 5] = -inf;       //   ... and -inf from row 11: NaN at (1, 2, 5), -inf at (0, 0, 5)
          b[13 * n + (n - 1)] = nan;  // last column (a partial tile): NaN
          a[(m - 1) * k + 0] = -inf;  // the last row (a partial tile)
        },
        "non-finite");
    auto at = [&](int t, int i, int j) { return y[(static_cast<size_t>(t) * m + i) * n + j]; };
    EXPECT_TRUE(std::isnan(at(0, 1, 0))) << kl.label;
    EXPECT_TRUE(std::isnan(at(1, 2, 2))) << kl.label;
    EXPECT_TRUE(std::isnan(at(1, 2, 5))) << kl.label;
    EXPECT_TRUE(std::isinf(at(0, 0, 5)) && at(0, 0, 5) < 0) << kl.label;
    EXPECT_TRUE(std::isnan(at(0, 0, n - 1))) << kl.label;
  }
}

// Rows split at every block boundary, in reverse order, give the bytes of one serial run.
TEST(FMatMul, AnySplitGivesTheSameBytes) {
  for (const Labeled& kl : host_kernels()) {
    const ref::MatMulShape s = shape_of({2, 3, 29, 45}, {3, 45, 37});
    std::vector<float> a(2 * 3 * 29 * 45), b(3 * 45 * 37);
    random_fill(a.data(), a.size(), b.data(), b.size(), 9);
    Engine e;
    ASSERT_TRUE(e.init(s, kl.kernel));
    kern::FMatMulOp& op = e.op;
    std::vector<float> whole(static_cast<size_t>(s.batches) * s.m * s.n), split(whole.size());
    op.run(a.data(), b.data(), whole.data());
    op.begin(a.data(), b.data(), split.data());
    for (size_t p = op.b_parts(); p-- > 0;) op.pack_b(p, p + 1);
    for (size_t r = op.row_blocks(); r-- > 0;) op.run_rows(r, r + 1);
    EXPECT_EQ(std::memcmp(whole.data(), split.data(), whole.size() * sizeof(float)), 0) << kl.label;
  }
}

TEST(FMatMul, DeclinesEmptyProductsAndMissingKernels) {
  kern::FMatMulOp op;
  EXPECT_EQ(op.init(shape_of({0, 4}, {4, 3}), kern::FGemmKernel{}).code(), kern::InitResult::kDeclined);
  for (const Labeled& kl : host_kernels()) {
    EXPECT_EQ(op.init(shape_of({0, 4}, {4, 3}), kl.kernel).code(), kern::InitResult::kDeclined);
    EXPECT_EQ(op.init(shape_of({2, 0, 4}, {4, 3}), kl.kernel).code(), kern::InitResult::kDeclined);
  }
}

// ------------------------------------------------------------------ sessions

// Two float MatMul nodes: y1 = a [2,3,64,40] x b [3,40,100] (38400 outputs: enough for
// the scheduler to split), y2 = a x c [40,7] (c shared by every batch).
Graph two_matmuls() {
  Graph g;
  g.producer = "test";
  const DType f = DType::kF32;
  const int32_t a = g.add_tensor(make_tensor("a", f, {2, 3, 64, 40}));
  const int32_t b = g.add_tensor(make_tensor("b", f, {3, 40, 100}));
  const int32_t c = g.add_tensor(make_tensor("c", f, {40, 7}));
  const int32_t y1 = g.add_tensor(make_tensor("y1", f, {2, 3, 64, 100}));
  const int32_t y2 = g.add_tensor(make_tensor("y2", f, {2, 3, 64, 7}));
  g.nodes.push_back(make_node("mm_b", OpType::kMatMul, {a, b}, {y1}));
  g.nodes.push_back(make_node("mm_c", OpType::kMatMul, {a, c}, {y2}));
  g.inputs = {a, b, c};
  g.outputs = {y1, y2};
  return g;
}

TEST(FMatMulSession, EveryLevelAndThreadCountNamesItsKernelAndAgrees) {
  const Graph g = two_matmuls();
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(serialize_graph(g, &bytes).ok());
  std::shared_ptr<const Model> model;
  const Status ls = Model::load_memory(bytes.data(), bytes.size(), &model);
  ASSERT_TRUE(ls.ok()) << ls.message();
  const std::vector<float> a = testing_graphs::random_floats(2 * 3 * 64 * 40, 1, -1.f, 1.f);
  const std::vector<float> b = testing_graphs::random_floats(3 * 40 * 100, 2, -1.f, 1.f);
  const std::vector<float> c = testing_graphs::random_floats(40 * 7, 3, -1.f, 1.f);
  const size_t sizes[2] = {2 * 3 * 64 * 100, 2 * 3 * 64 * 7};
  std::vector<std::vector<float>> want(2);
  want[0].resize(sizes[0]);
  want[1].resize(sizes[1]);
  ref::matmul_f32(shape_of({2, 3, 64, 40}, {3, 40, 100}), a.data(), b.data(), want[0].data());
  ref::matmul_f32(shape_of({2, 3, 64, 40}, {40, 7}), a.data(), c.data(), want[1].data());
  for (Isa isa : {Isa::kRef, Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot, Isa::kNeonI8mm}) {
    if (!kern::isa_supported(isa)) continue;
    const kern::FGemmKernel& k = kern::kernel_set(isa).fgemm;
    std::vector<std::vector<float>> first;
    for (int threads : {1, 2}) {
      SessionOptions o;
      o.isa = kern::isa_name(isa);
      o.num_threads = threads;
      std::unique_ptr<Session> s;
      const Status st = Session::create(model, o, &s);
      ASSERT_TRUE(st.ok()) << st.message();
      ASSERT_TRUE(s->set_input_f32(0, a.data(), a.size()).ok());
      ASSERT_TRUE(s->set_input_f32(1, b.data(), b.size()).ok());
      ASSERT_TRUE(s->set_input_f32(2, c.data(), c.size()).ok());
      s->run();
      std::vector<std::vector<float>> outs(2);
      for (size_t i = 0; i < 2; ++i) {
        outs[i].resize(sizes[i]);
        ASSERT_TRUE(s->get_output_f32(i, outs[i].data(), outs[i].size()).ok());
      }
      const std::string label = std::string(kern::isa_name(isa)) + " threads " + std::to_string(threads);
      for (size_t node = 0; node < 2; ++node)
        EXPECT_STREQ(s->op(node).kernel_name(), k.fn != nullptr ? k.name : "ref") << label;
      if (first.empty()) {
        first = outs;
        const Labeled kl{label, k, k.fn == nullptr};  // the reference level equals itself
        expect_close(kl, shape_of({2, 3, 64, 40}, {3, 40, 100}), a.data(), b.data(), outs[0].data(), want[0].data(),
                     "mm_b");
        expect_close(kl, shape_of({2, 3, 64, 40}, {40, 7}), a.data(), c.data(), outs[1].data(), want[1].data(), "mm_c");
        continue;
      }
      for (size_t i = 0; i < 2; ++i)
        EXPECT_EQ(std::memcmp(outs[i].data(), first[i].data(), sizes[i] * sizeof(float)), 0) << label;
    }
  }
}

}  // namespace
}  // namespace edgeq
