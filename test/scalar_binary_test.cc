// Quantized Add / Sub / Mul / Div with a one-element constant operand (an attention
// score divided by sqrt(d), a scalar offset) run as a 256-entry table built from the
// reference binary op: at every level and thread count the session's output equals
// ref::qbinary over the whole tensor, for both operand orders, both 8-bit dtypes and
// random parameters, and the node runs the level's lookup kernel. A constant with more
// than one element keeps the binary kernel.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "graph/format.h"
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "runtime/session.h"
#include "test/test_graphs.h"

namespace edgeq {
namespace {

using kern::Isa;
using testing_graphs::make_node;
using testing_graphs::make_tensor;

const std::vector<int32_t> kShape = {2, 3, 47};

struct Case {
  OpType op;
  DType dtype;
  int constant_input;  // 0 or 1
  std::vector<int32_t> constant_shape;
  float x_scale, k_scale, y_scale;
  int32_t x_zp, k_zp, y_zp;
  uint8_t k_byte;
};

Graph scalar_net(const Case& c) {
  Graph g;
  g.producer = "test";
  const int32_t x = g.add_tensor(make_tensor("x", c.dtype, kShape, c.x_scale, c.x_zp));
  Tensor k = make_tensor("k", c.dtype, c.constant_shape, c.k_scale, c.k_zp);
  size_t count = 1;
  for (int32_t d : c.constant_shape) count *= static_cast<size_t>(d);
  std::vector<uint8_t> kb(count);
  for (size_t i = 0; i < count; ++i) kb[i] = static_cast<uint8_t>(c.k_byte + 37 * i);
  k.set_data(kb);
  const int32_t kt = g.add_tensor(k);
  const int32_t y = g.add_tensor(make_tensor("y", c.dtype, kShape, c.y_scale, c.y_zp));
  g.nodes.push_back(make_node("binary", c.op, c.constant_input == 0 ? std::vector<int32_t>{kt, x}
                                                                    : std::vector<int32_t>{x, kt},
                              {y}));
  g.inputs = {x};
  g.outputs = {y};
  return g;
}

template <typename T>
std::vector<uint8_t> reference(const Graph& g, const std::vector<uint8_t>& xb) {
  const Node& n = g.nodes[0];
  const Tensor &a = g.tensors[n.inputs[0]], &b = g.tensors[n.inputs[1]], &y = g.tensors[n.outputs[0]];
  ref::Broadcast bc;
  EXPECT_TRUE(ref::make_broadcast(a.shape.data(), static_cast<int>(a.shape.size()), b.shape.data(),
                                  static_cast<int>(b.shape.size()), y.shape.data(), static_cast<int>(y.shape.size()),
                                  &bc));
  ref::BinaryQParams p;
  p.a_scale = a.quant.scale[0];
  p.b_scale = b.quant.scale[0];
  p.out_scale = y.quant.scale[0];
  p.a_zero_point = a.quant.zero_point[0];
  p.b_zero_point = b.quant.zero_point[0];
  p.out_zero_point = y.quant.zero_point[0];
  p.scheme = ref::Scheme::kFp32;
  p.qmin = dtype_min(y.dtype);
  p.qmax = dtype_max(y.dtype);
  const ref::BinaryOp kind = n.op == OpType::kAdd   ? ref::BinaryOp::kAdd
                             : n.op == OpType::kSub ? ref::BinaryOp::kSub
                             : n.op == OpType::kMul ? ref::BinaryOp::kMul
                                                    : ref::BinaryOp::kDiv;
  const T* xa = reinterpret_cast<const T*>(xb.data());
  const T* ka = b.is_constant() ? b.as<T>() : a.as<T>();
  std::vector<T> out(xb.size());
  ref::qbinary<T>(kind, bc, a.is_constant() ? ka : xa, a.is_constant() ? xa : ka, p, out.data());
  const auto* o = reinterpret_cast<const uint8_t*>(out.data());
  return std::vector<uint8_t>(o, o + out.size());
}

TEST(ScalarBinary, EveryLevelEqualsTheBinaryReference) {
  std::mt19937 rng(7);
  auto uni = [&](int32_t lo, int32_t hi) { return std::uniform_int_distribution<int32_t>(lo, hi)(rng); };
  auto scale = [&] { return std::exp2(std::uniform_real_distribution<float>(-9.f, 3.f)(rng)); };
  std::vector<Isa> levels{Isa::kRef};
  for (Isa isa : {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot, Isa::kNeonI8mm})
    if (kern::isa_supported(isa)) levels.push_back(isa);
  int tables = 0;
  for (OpType op : {OpType::kAdd, OpType::kSub, OpType::kMul, OpType::kDiv}) {
    for (DType dt : {DType::kS8, DType::kU8}) {
      for (int ci : {0, 1}) {
        for (const std::vector<int32_t>& cs : {std::vector<int32_t>{1}, std::vector<int32_t>{1, 1, 1},
                                              std::vector<int32_t>{47}}) {
          const int32_t lo = dtype_min(dt), hi = dtype_max(dt);
          const Case c{op, dt, ci, cs, scale(), scale(), scale(), uni(lo, hi), uni(lo, hi), uni(lo, hi),
                       static_cast<uint8_t>(uni(0, 255))};
          const Graph g = scalar_net(c);
          std::vector<uint8_t> bytes;
          ASSERT_TRUE(serialize_graph(g, &bytes).ok());
          std::shared_ptr<const Model> m;
          ASSERT_TRUE(Model::load_memory(bytes.data(), bytes.size(), &m).ok());
          std::vector<uint8_t> x(2 * 3 * 47);
          for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<uint8_t>(i < 256 ? i : uni(0, 255));
          const std::vector<uint8_t> want =
              dt == DType::kS8 ? reference<int8_t>(g, x) : reference<uint8_t>(g, x);
          const bool scalar = cs.back() == 1;
          for (Isa isa : levels) {
            for (int threads : {1, 3}) {
              SessionOptions opts;
              opts.isa = kern::isa_name(isa);
              opts.num_threads = threads;
              std::unique_ptr<Session> s;
              ASSERT_TRUE(Session::create(m, opts, &s).ok());
              ASSERT_TRUE(s->set_input_raw(0, x.data(), x.size()).ok());
              ASSERT_TRUE(s->run().ok());
              std::vector<uint8_t> y(x.size());
              ASSERT_TRUE(s->get_output_raw(0, y.data(), y.size()).ok());
              EXPECT_EQ(y, want) << op_name(op) << " dtype " << dtype_name(dt) << " constant input " << ci
                                 << " shape " << shape_string(cs) << " at " << opts.isa << ", " << threads
                                 << " threads";
              if (isa == Isa::kRef) continue;
              const kern::MiscKernels& k = kern::kernel_set(isa).misc;
              EXPECT_STREQ(s->op(0).kernel_name(), scalar ? k.names.lookup : k.names.qbinary) << opts.isa;
              tables += scalar;
            }
          }
        }
      }
    }
  }
  if (levels.size() > 1) {
    EXPECT_GT(tables, 0);
  }
}

}  // namespace
}  // namespace edgeq
