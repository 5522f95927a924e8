// Gather (embedding lookup), Cast and integer graph inputs: the reference kernels
// against hand-computed values, sessions on hand-built graphs (f32 / s8 tables, s32 /
// s64 ids, cast chains) at the host's level and with threads, the run-time error for
// an id outside the table (through Session::run and the C API), the errors of the
// integer input setters, and the loader refusing integer tensors where an op computes
// in float or int8.
//
// GatherModel.CommittedFile checks test/data/gather_ids.edgeq, the model the CLI and
// Python tests run (two s64 inputs: token ids into a 10 x 4 table, a 0/1 mask cast to
// float); EDGEQ_WRITE_GATHER_MODEL=path writes it anew from gather_ids_graph().
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "edgeq/edgeq.h"
#include "edgeq/edgeq.hpp"
#include "graph/format.h"
#include "graph/write_file.h"
#include "kernels/ref/ref.h"
#include "runtime/session.h"
#include "test/model_helpers.h"
#include "test/test_graphs.h"

namespace edgeq {
namespace {

using testing_graphs::bytes_of;
using testing_graphs::make_node;
using testing_graphs::make_tensor;

constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
constexpr int32_t kI32Max = std::numeric_limits<int32_t>::max();
constexpr int32_t kI32Min = std::numeric_limits<int32_t>::min();

// ------------------------------------------------------------------ reference kernels

TEST(RefGather, RowsOfAnyDtype) {
  const std::vector<float> table = {0, 1, 10, 11, 20, 21};  // 3 rows of 2
  const std::vector<int64_t> ids = {2, 0, -1, 1, -3};  // negative: from the end (ONNX)
  std::vector<float> out(10, -1.f);
  ref::gather_rows(ids.size(), ids.data(), table.data(), 3, 2 * sizeof(float), out.data());
  EXPECT_EQ(out, (std::vector<float>{20, 21, 0, 1, 20, 21, 10, 11, 0, 1}));

  const std::vector<int8_t> t8 = {-128, 127, 5, -5, 0, 1};  // 2 rows of 3
  const std::vector<int32_t> ids32 = {1, 1, 0};
  std::vector<int8_t> out8(9, 99);
  ref::gather_rows(ids32.size(), ids32.data(), t8.data(), 2, 3, out8.data());
  EXPECT_EQ(out8, (std::vector<int8_t>{-5, 0, 1, -5, 0, 1, -128, 127, 5}));
}

TEST(RefGather, FirstIndexOutOfRange) {
  const std::vector<int64_t> ok = {0, 9, 5};
  EXPECT_EQ(ref::first_index_out_of_range(ok.size(), ok.data(), 10), ok.size());
  const std::vector<int64_t> from_end = {-1, -10};  // ONNX: counted from the end
  EXPECT_EQ(ref::first_index_out_of_range(from_end.size(), from_end.data(), 10), from_end.size());
  for (int64_t bad : {int64_t{-11}, int64_t{10}, int64_t{1} << 40, kI64Min, kI64Max}) {
    const std::vector<int64_t> v = {3, 4, bad, -7};
    EXPECT_EQ(ref::first_index_out_of_range(v.size(), v.data(), 10), 2u) << bad;
  }
  const std::vector<int32_t> v32 = {0, kI32Min};
  EXPECT_EQ(ref::first_index_out_of_range(v32.size(), v32.data(), 10), 1u);
  EXPECT_EQ(ref::first_index_out_of_range(0, v32.data(), 10), 0u);
}

TEST(RefScatter, ElementsAlongAnAxisWithEachReduction) {
  // data 2 x 3, indices / updates 2 x 2 along axis 1; row 1 repeats column 2.
  const std::vector<int32_t> shape = {2, 3}, ishape = {2, 2};
  const std::vector<float> data = {1, 2, 3, 4, 5, 6}, upd = {10, 20, 30, 40};
  const std::vector<int64_t> idx = {2, -3, 2, 2};  // -3: column 0
  auto run = [&](ref::ScatterReduction r) {
    std::vector<float> out(6, -1.f);
    ref::scatter_elements(2, shape.data(), ishape.data(), 1, ref::ScatterType::kF32, r, sizeof(float), data.data(),
                          idx.data(), upd.data(), out.data());
    return out;
  };
  EXPECT_EQ(run(ref::ScatterReduction::kNone), (std::vector<float>{20, 2, 10, 4, 5, 40}));  // the last write wins
  EXPECT_EQ(run(ref::ScatterReduction::kAdd), (std::vector<float>{21, 2, 13, 4, 5, 76}));
  EXPECT_EQ(run(ref::ScatterReduction::kMul), (std::vector<float>{20, 2, 30, 4, 5, 7200}));
  EXPECT_EQ(run(ref::ScatterReduction::kMax), (std::vector<float>{20, 2, 10, 4, 5, 40}));
  EXPECT_EQ(run(ref::ScatterReduction::kMin), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  // Integers wrap instead of overflowing.
  const std::vector<int32_t> d32 = {kI32Max, 0, 0, 0, 0, 0}, u32 = {1, 0, 0, 0};
  const std::vector<int32_t> i32 = {0, 1, 1, 1};
  std::vector<int32_t> o32(6);
  ref::scatter_elements(2, shape.data(), ishape.data(), 1, ref::ScatterType::kS32, ref::ScatterReduction::kAdd, 4,
                        d32.data(), i32.data(), u32.data(), o32.data());
  EXPECT_EQ(o32[0], kI32Min);
}

TEST(RefScatter, NdSlicesAndTheirRangeCheck) {
  // data 3 x 2 x 2; tuples of depth 1 write 2 x 2 slices, of depth 3 single elements.
  const std::vector<int32_t> shape = {3, 2, 2};
  std::vector<int8_t> data(12);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<int8_t>(i);
  const std::vector<int64_t> rows = {2, -3};  // slices 2 and 0
  const std::vector<int8_t> upd = {-1, -2, -3, -4, -5, -6, -7, -8};
  std::vector<int8_t> out(12);
  ref::scatter_nd(3, shape.data(), 2, 1, ref::ScatterType::kBytes, ref::ScatterReduction::kNone, 1, data.data(),
                  rows.data(), upd.data(), out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{-5, -6, -7, -8, 4, 5, 6, 7, -1, -2, -3, -4}));
  const std::vector<float> fdata(12, 1.f), fupd = {2.f, 3.f};
  const std::vector<int32_t> cells = {1, 0, 1, 1, 0, 1};  // (1, 0, 1) twice: multiplied twice
  std::vector<float> fout(12);
  ref::scatter_nd(3, shape.data(), 2, 3, ref::ScatterType::kF32, ref::ScatterReduction::kMul, 4, fdata.data(),
                  cells.data(), fupd.data(), fout.data());
  EXPECT_EQ(fout[5], 6.f);
  EXPECT_EQ(std::count(fout.begin(), fout.end(), 1.f), 11);
  EXPECT_EQ(ref::first_tuple_out_of_range(2, 3, shape.data(), cells.data()), 6u);
  const std::vector<int64_t> bad = {0, 1, 1, 2, -3, 0};  // entry 4 (-3) is outside [-2, 2)
  EXPECT_EQ(ref::first_tuple_out_of_range(2, 3, shape.data(), bad.data()), 4u);
}

TEST(RefCast, FloatToIntegerTruncatesAndSaturates) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {1.9f, -1.9f, 0.5f, -0.5f, nan, inf, -inf, 3e9f, -3e9f, 2147483520.f, -2147483648.f};
  std::vector<int32_t> y32(x.size());
  ref::cast(x.size(), x.data(), y32.data());
  EXPECT_EQ(y32, (std::vector<int32_t>{1, -1, 0, 0, 0, kI32Max, kI32Min, kI32Max, kI32Min, 2147483520, kI32Min}));

  const float below_2_63 = std::nextafter(9.2233720368547758e18f, 0.f);  // 2^63 - 2^39
  const std::vector<float> x64 = {1e19f, -1e19f, below_2_63, -9.2233720368547758e18f, 3e9f, nan, -inf, -7.99f};
  std::vector<int64_t> y64(x64.size());
  ref::cast(x64.size(), x64.data(), y64.data());
  EXPECT_EQ(y64, (std::vector<int64_t>{kI64Max, kI64Min, kI64Max - (int64_t{1} << 39) + 1, kI64Min, 3000000000, 0,
                                       kI64Min, -7}));
}

TEST(RefCast, BetweenIntegersAndToFloat) {
  const std::vector<int64_t> a = {0, -1, int64_t{1} << 40, -(int64_t{1} << 40), kI32Max, kI32Min, kI64Max};
  std::vector<int32_t> b(a.size());
  ref::cast(a.size(), a.data(), b.data());
  EXPECT_EQ(b, (std::vector<int32_t>{0, -1, kI32Max, kI32Min, kI32Max, kI32Min, kI32Max}));
  std::vector<int64_t> back(b.size());
  ref::cast(b.size(), b.data(), back.data());
  EXPECT_EQ(back, (std::vector<int64_t>{0, -1, kI32Max, kI32Min, kI32Max, kI32Min, kI32Max}));

  // To float: round to nearest, ties to even (2^24 + 1 is a tie between 2^24 and 2^24 + 2).
  const std::vector<int64_t> c = {16777217, 16777219, -3, kI64Max};
  std::vector<float> f(c.size());
  ref::cast(c.size(), c.data(), f.data());
  EXPECT_EQ(f, (std::vector<float>{16777216.f, 16777220.f, -3.f, 9.2233720368547758e18f}));
  const std::vector<int32_t> c32 = {kI32Max, 7};
  std::vector<float> f32(2);
  ref::cast(2, c32.data(), f32.data());
  EXPECT_EQ(f32, (std::vector<float>{2147483648.f, 7.f}));
}

// ------------------------------------------------------------------ graphs

// table[V, row...] (f32, or s8 with scale 0.5 / zero point 3) gathered by ids of
// `ids_shape` (s32 / s64, a graph input): y[ids_shape..., row...].
Graph gather_graph(DType table_type, DType id_type, int32_t rows, std::vector<int32_t> row_shape,
                   std::vector<int32_t> ids_shape) {
  Graph g;
  g.producer = "test";
  std::vector<int32_t> tshape = {rows};
  tshape.insert(tshape.end(), row_shape.begin(), row_shape.end());
  const bool q = table_type == DType::kS8;
  Tensor t = make_tensor("table", table_type, tshape, q ? 0.5f : 0.f, 3);
  int64_t n = 1;
  for (int32_t d : tshape) n *= d;
  if (q) {
    std::vector<int8_t> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[i] = static_cast<int8_t>(i * 37 % 256 - 128);
    t.set_data(bytes_of(v));
  } else {
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[i] = 0.25f * static_cast<float>(i) - 3.f;
    t.set_data(bytes_of(v));
  }
  const int32_t ti = g.add_tensor(t);
  const int32_t ii = g.add_tensor(make_tensor("ids", id_type, ids_shape));
  std::vector<int32_t> yshape = ids_shape;
  yshape.insert(yshape.end(), row_shape.begin(), row_shape.end());
  const int32_t yi = g.add_tensor(make_tensor("y", table_type, yshape, q ? 0.5f : 0.f, 3));
  g.nodes.push_back(make_node("embed", OpType::kGather, {ti, ii}, {yi}));
  g.inputs = {ii};
  g.outputs = {yi};
  return g;
}

std::shared_ptr<const Model> load(const Graph& g) { return test_models::load_in_memory(g); }

// Load status of a graph that may be invalid.
Status load_status(const Graph& g) {
  std::vector<uint8_t> bytes;
  const Status st = serialize_graph(g, &bytes);
  if (!st.ok()) return st;
  std::shared_ptr<const Model> m;
  return Model::load_memory(bytes.data(), bytes.size(), &m);
}

std::unique_ptr<Session> session(const std::shared_ptr<const Model>& m, int32_t threads = 1) {
  SessionOptions o;
  o.num_threads = threads;
  std::unique_ptr<Session> s;
  const Status st = Session::create(m, o, &s);
  EXPECT_TRUE(st.ok()) << st.message();
  return s;
}

// The expected output bytes: row ids[i] of the table, copied by hand.
std::vector<uint8_t> expected_rows(const Graph& g, const std::vector<int64_t>& ids) {
  const Tensor& t = g.tensors[g.nodes[0].inputs[0]];
  const size_t row = t.byte_size() / static_cast<size_t>(t.shape[0]);
  std::vector<uint8_t> out;
  for (int64_t id : ids) out.insert(out.end(), t.data + id * row, t.data + (id + 1) * row);
  return out;
}

std::vector<int64_t> some_ids(size_t n, int64_t rows) {
  std::vector<int64_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<int64_t>((i * 7 + i / 3) % static_cast<size_t>(rows));
  if (n > 1) v[0] = 0, v[n - 1] = rows - 1;  // both ends of the table
  return v;
}

Status set_ids(Session& s, DType id_type, const std::vector<int64_t>& ids) {
  if (id_type == DType::kS64) return s.set_input_raw(0, ids.data(), ids.size() * 8);
  std::vector<int32_t> v(ids.begin(), ids.end());
  return s.set_input_raw(0, v.data(), v.size() * 4);
}

TEST(GatherSession, TablesAndIdTypesAtEveryThreadCount) {
  struct Case {
    DType table, ids;
    int32_t rows;
    std::vector<int32_t> row_shape, ids_shape;
  };
  const std::vector<Case> cases = {
      {DType::kF32, DType::kS64, 10, {4}, {2, 5}},
      {DType::kF32, DType::kS32, 7, {3}, {1}},
      {DType::kS8, DType::kS64, 5, {2, 3}, {3, 1, 2}},
      {DType::kS8, DType::kS32, 1, {1}, {4}},
      {DType::kF32, DType::kS64, 50, {64}, {4, 128}},  // 32768 elements: the pool splits it
      {DType::kS8, DType::kS32, 300, {97}, {2, 171}},
  };
  for (const Case& c : cases) {
    const Graph g = gather_graph(c.table, c.ids, c.rows, c.row_shape, c.ids_shape);
    const auto m = load(g);
    ASSERT_TRUE(m);
    size_t count = 1;
    for (int32_t d : c.ids_shape) count *= static_cast<size_t>(d);
    const std::vector<int64_t> ids = some_ids(count, c.rows);
    const std::vector<uint8_t> want = expected_rows(g, ids);
    for (int32_t threads : {1, 3}) {
      auto s = session(m, threads);
      ASSERT_TRUE(s);
      ASSERT_TRUE(set_ids(*s, c.ids, ids).ok());
      const Status st = s->run();
      ASSERT_TRUE(st.ok()) << st.message();
      std::vector<uint8_t> got(want.size());
      ASSERT_TRUE(s->get_output_raw(0, got.data(), got.size()).ok());
      EXPECT_EQ(got, want) << "rows " << c.rows << " threads " << threads;
      EXPECT_STREQ(s->op(0).kernel_name(), "ref");
    }
  }
}

TEST(GatherSession, QuantizedTableKeepsItsParameters) {
  const Graph g = gather_graph(DType::kS8, DType::kS64, 4, {2}, {1, 3});
  auto s = session(load(g));
  ASSERT_TRUE(s);
  const std::vector<int64_t> ids = {3, 0, 3};
  ASSERT_TRUE(s->set_input_s64(0, ids.data(), ids.size()).ok());
  ASSERT_TRUE(s->run().ok());
  std::vector<float> y(6);
  ASSERT_TRUE(s->get_output_f32(0, y.data(), y.size()).ok());
  const int8_t* t = reinterpret_cast<const int8_t*>(g.tensors[0].data);
  for (size_t i = 0; i < 3; ++i)
    for (size_t k = 0; k < 2; ++k) EXPECT_EQ(y[i * 2 + k], 0.5f * (t[ids[i] * 2 + k] - 3)) << i << "," << k;
}

TEST(GatherSession, OutOfRangeIdIsAnErrorNamingTheTensor) {
  for (DType id_type : {DType::kS32, DType::kS64}) {
    const Graph g = gather_graph(DType::kF32, id_type, 10, {4}, {2, 5});
    auto s = session(load(g), 2);
    ASSERT_TRUE(s);
    std::vector<int64_t> bad_values = {-11, 10, kI32Max, kI32Min};  // -1 .. -10 count from the end
    if (id_type == DType::kS64) bad_values.insert(bad_values.end(), {int64_t{1} << 40, kI64Max, kI64Min, 10 + (int64_t{1} << 32)});
    for (int64_t bad : bad_values) {
      std::vector<int64_t> ids = some_ids(10, 10);
      ids[7] = bad;
      ASSERT_TRUE(set_ids(*s, id_type, ids).ok());
      const Status st = s->run();
      EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << bad;
      EXPECT_NE(st.message().find("'ids'"), std::string::npos) << st.message();
      EXPECT_NE(st.message().find("embed"), std::string::npos) << st.message();
      EXPECT_NE(st.message().find(std::to_string(bad)), std::string::npos) << st.message();
      EXPECT_NE(st.message().find("position 7"), std::string::npos) << st.message();
      // The profiled and observed runs check the same way.
      std::vector<double> seconds;
      EXPECT_FALSE(s->run_profiled(&seconds).ok());
      EXPECT_FALSE(s->run_observed([](size_t) {}).ok());
    }
    // Valid ids again: the session runs as before.
    const std::vector<int64_t> ids = some_ids(10, 10);
    ASSERT_TRUE(set_ids(*s, id_type, ids).ok());
    EXPECT_TRUE(s->run().ok());
  }
}

TEST(ScatterSession, OutOfRangeIndexIsAnErrorNamingTheTensor) {
  // y = ScatterND(x[4, 3], rows[2, 1], u[2, 3]): rows is a graph input.
  for (OpType op : {OpType::kScatterND, OpType::kScatterElements}) {
    Graph g;
    g.producer = "test";
    const bool nd = op == OpType::kScatterND;
    const int32_t x = g.add_tensor(make_tensor("x", DType::kF32, {4, 3}));
    const int32_t i = g.add_tensor(make_tensor("rows", DType::kS64, nd ? std::vector<int32_t>{2, 1} : std::vector<int32_t>{2, 3}));
    const int32_t u = g.add_tensor(make_tensor("u", DType::kF32, {2, 3}));
    const int32_t y = g.add_tensor(make_tensor("y", DType::kF32, {4, 3}));
    Node node = make_node("put", op, {x, i, u}, {y});
    node.attrs.axis = 0;
    g.nodes.push_back(node);
    g.inputs = {x, i, u};
    g.outputs = {y};
    auto s = session(load(g), 2);
    ASSERT_TRUE(s);
    const std::vector<float> xv(12, 0.f), uv = {1, 2, 3, 4, 5, 6};
    ASSERT_TRUE(s->set_input_raw(0, xv.data(), xv.size() * 4).ok());
    ASSERT_TRUE(s->set_input_raw(2, uv.data(), uv.size() * 4).ok());
    std::vector<int64_t> rows = nd ? std::vector<int64_t>{3, -4} : std::vector<int64_t>{3, 3, 3, -4, -4, -4};
    ASSERT_TRUE(s->set_input_raw(1, rows.data(), rows.size() * 8).ok());
    ASSERT_TRUE(s->run().ok());
    std::vector<float> out(12);
    ASSERT_TRUE(s->get_output_raw(0, out.data(), out.size() * 4).ok());
    EXPECT_EQ(out, (std::vector<float>{4, 5, 6, 0, 0, 0, 0, 0, 0, 1, 2, 3}));
    rows[1] = 4;
    ASSERT_TRUE(s->set_input_raw(1, rows.data(), rows.size() * 8).ok());
    const Status st = s->run();
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(st.message().find("'rows'"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("put"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("[-4, 4)"), std::string::npos) << st.message();
  }
}

// x (f32) -Cast-> s64 -Cast-> s32 -Cast-> f32 (y), and the s32 as a second output.
Graph cast_chain() {
  Graph g;
  g.producer = "test";
  const int32_t x = g.add_tensor(make_tensor("x", DType::kF32, {2, 4}));
  const int32_t a = g.add_tensor(make_tensor("a64", DType::kS64, {2, 4}));
  const int32_t b = g.add_tensor(make_tensor("b32", DType::kS32, {2, 4}));
  const int32_t y = g.add_tensor(make_tensor("y", DType::kF32, {2, 4}));
  g.nodes.push_back(make_node("to_s64", OpType::kCast, {x}, {a}));
  g.nodes.push_back(make_node("to_s32", OpType::kCast, {a}, {b}));
  g.nodes.push_back(make_node("to_f32", OpType::kCast, {b}, {y}));
  g.inputs = {x};
  g.outputs = {y, b};
  return g;
}

TEST(CastSession, ChainTruncatesAndSaturates) {
  auto s = session(load(cast_chain()));
  ASSERT_TRUE(s);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {2.7f, -2.7f, 1e10f, -1e10f, nan, 0.f, 1e30f, -0.9f};
  ASSERT_TRUE(s->set_input_f32(0, x.data(), x.size()).ok());
  ASSERT_TRUE(s->run().ok());
  std::vector<float> y(8);
  ASSERT_TRUE(s->get_output_f32(0, y.data(), y.size()).ok());
  EXPECT_EQ(y, (std::vector<float>{2.f, -2.f, 2147483648.f, -2147483648.f, 0.f, 0.f, 2147483648.f, 0.f}));
  std::vector<int64_t> b(8);
  ASSERT_TRUE(s->get_output_s64(1, b.data(), b.size()).ok());
  EXPECT_EQ(b, (std::vector<int64_t>{2, -2, kI32Max, kI32Min, 0, 0, kI32Max, 0}));
  // Integer outputs are not readable as float, nor float ones as integers.
  EXPECT_FALSE(s->get_output_f32(1, y.data(), y.size()).ok());
  EXPECT_EQ(s->get_output_s64(0, b.data(), b.size()).code(), StatusCode::kInvalidArgument);
}

// ids (f32 input) -Cast-> s64 -Gather-> y: ids computed inside the model are checked too.
TEST(GatherSession, IdsFromACastAreChecked) {
  Graph g = gather_graph(DType::kF32, DType::kS64, 6, {2}, {3});
  const int32_t xf = g.add_tensor(make_tensor("ids_f", DType::kF32, {3}));
  g.nodes.insert(g.nodes.begin(), make_node("ids_cast", OpType::kCast, {xf}, {1}));
  g.tensors[1].name = "ids_i64";
  g.inputs = {xf};
  auto s = session(load(g));
  ASSERT_TRUE(s);
  std::vector<float> x = {5.9f, 0.f, -0.5f};  // truncated: 5, 0, 0
  ASSERT_TRUE(s->set_input_f32(0, x.data(), x.size()).ok());
  ASSERT_TRUE(s->run().ok());
  std::vector<float> y(6);
  ASSERT_TRUE(s->get_output_f32(0, y.data(), y.size()).ok());
  const float* t = reinterpret_cast<const float*>(g.tensors[0].data);
  EXPECT_EQ(y, (std::vector<float>{t[10], t[11], t[0], t[1], t[0], t[1]}));
  x[1] = 6.f;
  ASSERT_TRUE(s->set_input_f32(0, x.data(), x.size()).ok());
  const Status st = s->run();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("'ids_i64'"), std::string::npos) << st.message();
}

// Pad of integer ids fills with the pad value truncated to the ids' type.
TEST(CastSession, PadOfIdsFillsIntegers) {
  for (DType t : {DType::kS32, DType::kS64}) {
    Graph g;
    g.producer = "test";
    const int32_t x = g.add_tensor(make_tensor("x", t, {1, 3}));
    const int32_t y = g.add_tensor(make_tensor("y", t, {1, 5}));
    Node pad = make_node("pad", OpType::kPad, {x}, {y});
    pad.attrs.pads = {0, 1, 0, 1};
    pad.attrs.pad_value = 7.9f;
    g.nodes.push_back(pad);
    g.inputs = {x};
    g.outputs = {y};
    auto s = session(load(g));
    ASSERT_TRUE(s);
    const std::vector<int64_t> v = {-5, kI32Max, 4};
    ASSERT_TRUE(s->set_input_s64(0, v.data(), v.size()).ok());
    ASSERT_TRUE(s->run().ok());
    std::vector<int64_t> out(5);
    ASSERT_TRUE(s->get_output_s64(0, out.data(), out.size()).ok());
    EXPECT_EQ(out, (std::vector<int64_t>{7, -5, kI32Max, 4, 7}));
  }
}

// ------------------------------------------------------------------ integer inputs

TEST(IntegerInputs, SettersCheckDtypeCountAndRange) {
  const Graph g = gather_graph(DType::kF32, DType::kS64, 10, {4}, {2, 5});
  auto s = session(load(g));
  ASSERT_TRUE(s);
  const std::vector<float> f(10, 1.f);
  Status st = s->set_input_f32(0, f.data(), f.size());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("'ids'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("s64"), std::string::npos) << st.message();
  const std::vector<int64_t> nine(9, 1);
  st = s->set_input_s64(0, nine.data(), nine.size());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("'ids'"), std::string::npos) << st.message();
  EXPECT_FALSE(s->set_input_raw(0, nine.data(), nine.size() * 8).ok());
  const std::vector<int32_t> ten32(10, 9);
  EXPECT_TRUE(s->set_input_s32(0, ten32.data(), ten32.size()).ok());  // widened
  ASSERT_TRUE(s->run().ok());
  std::vector<float> y(40);
  ASSERT_TRUE(s->get_output_f32(0, y.data(), y.size()).ok());
  EXPECT_EQ(y[0], 0.25f * 36 - 3.f);

  // An s32 input takes int64 values that fit, and names the one that does not.
  auto s32 = session(load(gather_graph(DType::kF32, DType::kS32, 10, {4}, {2, 5})));
  ASSERT_TRUE(s32);
  std::vector<int64_t> ids(10, 3);
  EXPECT_TRUE(s32->set_input_s64(0, ids.data(), ids.size()).ok());
  ids[4] = int64_t{1} << 33;
  st = s32->set_input_s64(0, ids.data(), ids.size());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("8589934592"), std::string::npos) << st.message();

  // Float inputs do not take integer values.
  auto sf = session(load(cast_chain()));
  ASSERT_TRUE(sf);
  const std::vector<int64_t> eight(8, 1);
  st = sf->set_input_s64(0, eight.data(), eight.size());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("'x'"), std::string::npos) << st.message();
}

TEST(IntegerInputs, ThroughTheCApiAndWrapper) {
  const Graph g = gather_graph(DType::kF32, DType::kS64, 10, {4}, {2, 5});
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(serialize_graph(g, &bytes).ok());
  api::Model model;
  ASSERT_EQ(model.load(bytes.data(), bytes.size()), EDGEQ_OK);
  api::Session s;
  ASSERT_EQ(s.create(model), EDGEQ_OK);
  EXPECT_EQ(s.input_info(0).dtype, EDGEQ_S64);
  EXPECT_EQ(s.input_info(0).byte_size, 80u);

  std::vector<int64_t> ids = some_ids(10, 10);
  ASSERT_EQ(s.set_input(0, ids), EDGEQ_OK);
  ASSERT_EQ(s.run(), EDGEQ_OK);
  const std::vector<float> y = s.output_f32(0);
  ASSERT_EQ(y.size(), 40u);
  const std::vector<uint8_t> want = expected_rows(g, ids);
  EXPECT_EQ(std::memcmp(y.data(), want.data(), want.size()), 0);

  ids[3] = -12;  // -10 .. -1 count from the end
  ASSERT_EQ(s.set_input(0, ids), EDGEQ_OK);
  EXPECT_EQ(s.run(), EDGEQ_INVALID_ARGUMENT);
  EXPECT_NE(api::error().find("'ids'"), std::string::npos) << api::error();
  EXPECT_NE(api::error().find("-12"), std::string::npos) << api::error();
  ids[3] = kI64Max;
  ASSERT_EQ(edgeq_session_set_input_s64(s.get(), 0, ids.data(), ids.size()), EDGEQ_OK);
  EXPECT_EQ(edgeq_session_run(s.get()), EDGEQ_INVALID_ARGUMENT);

  const std::vector<float> f(10, 0.f);
  EXPECT_EQ(edgeq_session_set_input_f32(s.get(), 0, f.data(), f.size()), EDGEQ_INVALID_ARGUMENT);
  EXPECT_NE(api::error().find("'ids'"), std::string::npos) << api::error();
  EXPECT_EQ(edgeq_session_set_input_s64(s.get(), 0, ids.data(), 3), EDGEQ_INVALID_ARGUMENT);
  EXPECT_EQ(edgeq_session_set_input_s64(s.get(), 0, nullptr, 10), EDGEQ_INVALID_ARGUMENT);
  EXPECT_EQ(edgeq_session_set_input_s64(s.get(), 1, ids.data(), 10), EDGEQ_INVALID_ARGUMENT);
  EXPECT_EQ(edgeq_session_set_input_s64(nullptr, 0, ids.data(), 10), EDGEQ_INVALID_ARGUMENT);
  const std::vector<int32_t> ids32(10, 9);
  ASSERT_EQ(s.set_input(0, ids32), EDGEQ_OK);
  EXPECT_EQ(s.run(), EDGEQ_OK);
  int64_t out[40];
  EXPECT_EQ(edgeq_session_get_output_s64(s.get(), 0, out, 40), EDGEQ_INVALID_ARGUMENT);  // a float output
}

// ------------------------------------------------------------------ the loader

// Integer tensors where an op computes in float or int8, and the Gather / Cast rules:
// each file is refused at load (InvalidModel naming the node), never run.
TEST(IntegerInputs, LoaderRefusesIntegerTensorsInArithmetic) {
  auto one_op = [](OpType op, DType in, DType out, std::vector<int32_t> shape) {
    Graph g;
    g.producer = "test";
    const int32_t x = g.add_tensor(make_tensor("x", in, shape));
    const int32_t y = g.add_tensor(make_tensor("y", out, shape));
    g.nodes.push_back(make_node("n", op, {x}, {y}));
    if (op == OpType::kDiv || op == OpType::kMatMul) g.nodes[0].inputs.push_back(x);
    g.inputs = {x};
    g.outputs = {y};
    return g;
  };
  // (Integer Add, Sub, Mul and Div are allowed: position ids, a heatmap's argmax split.)
  for (OpType op : {OpType::kRelu, OpType::kSigmoid, OpType::kSoftmax, OpType::kMaxPool2D,
                    OpType::kGlobalAvgPool, OpType::kDequantize, OpType::kLookup, OpType::kMatMul,
                    OpType::kLayerNorm}) {
    for (DType t : {DType::kS64, DType::kS32}) {
      Graph g = one_op(op, t, t, {1, 2, 2, 3});
      g.nodes[0].attrs.kernel_h = g.nodes[0].attrs.kernel_w = 1;
      const Status st = load_status(g);
      EXPECT_EQ(st.code(), StatusCode::kInvalidModel) << op_name(op) << " " << dtype_name(t) << ": " << st.message();
    }
  }
  // s64 with quantization parameters.
  Graph q = one_op(OpType::kCast, DType::kS64, DType::kF32, {4});
  q.tensors[0].quant.scale = {0.5f};
  q.tensors[0].quant.zero_point = {0};
  EXPECT_EQ(load_status(q).code(), StatusCode::kInvalidModel);
  // Cast to its own dtype.
  EXPECT_EQ(load_status(one_op(OpType::kCast, DType::kS64, DType::kS64, {4})).code(), StatusCode::kInvalidModel);
  // Gather: float ids, an s64 table, constant ids, a non-constant table.
  Graph g = gather_graph(DType::kF32, DType::kS64, 4, {2}, {3});
  g.tensors[1].dtype = DType::kF32;
  EXPECT_EQ(load_status(g).code(), StatusCode::kInvalidModel);
  g = gather_graph(DType::kF32, DType::kS64, 4, {2}, {3});
  g.tensors[0].dtype = DType::kS64;
  g.tensors[0].set_data(std::vector<uint8_t>(4 * 2 * 8, 0));
  g.tensors[2].dtype = DType::kS64;
  EXPECT_EQ(load_status(g).code(), StatusCode::kInvalidModel);
  g = gather_graph(DType::kF32, DType::kS64, 4, {2}, {3});
  g.tensors[1].set_data(std::vector<uint8_t>(3 * 8, 0));
  g.inputs = {};
  EXPECT_EQ(load_status(g).code(), StatusCode::kInvalidModel);
}

// ------------------------------------------------------------------ the committed model

// ids[2, 5] (s64) -Gather table[10, 4] (f32)-> emb[2, 5, 4]; mask[2, 5] (s64) -Cast-> mask_f
// (f32). Table row r is (r, r + 0.25, r + 0.5, r + 0.75).
Graph gather_ids_graph() {
  Graph g;
  g.producer = "edgeq test/gather_test.cc";
  Tensor t = make_tensor("embedding", DType::kF32, {10, 4});
  std::vector<float> v(40);
  for (int r = 0; r < 10; ++r)
    for (int k = 0; k < 4; ++k) v[r * 4 + k] = static_cast<float>(r) + 0.25f * static_cast<float>(k);
  t.set_data(bytes_of(v));
  const int32_t ti = g.add_tensor(t);
  const int32_t ids = g.add_tensor(make_tensor("input_ids", DType::kS64, {2, 5}));
  const int32_t mask = g.add_tensor(make_tensor("attention_mask", DType::kS64, {2, 5}));
  const int32_t emb = g.add_tensor(make_tensor("embeddings", DType::kF32, {2, 5, 4}));
  const int32_t mf = g.add_tensor(make_tensor("mask_f", DType::kF32, {2, 5}));
  g.nodes.push_back(make_node("word_embeddings", OpType::kGather, {ti, ids}, {emb}));
  g.nodes.push_back(make_node("mask_cast", OpType::kCast, {mask}, {mf}));
  g.inputs = {ids, mask};
  g.outputs = {emb, mf};
  return g;
}

TEST(GatherModel, CommittedFile) {
  if (const char* out = std::getenv("EDGEQ_WRITE_GATHER_MODEL")) {
    ASSERT_TRUE(write_graph_file(gather_ids_graph(), out).ok());
  }
  std::shared_ptr<const Model> m;
  const std::string path = std::string(EDGEQ_SOURCE_DIR) + "/test/data/gather_ids.edgeq";
  const Status st = Model::load_file(path, &m);
  ASSERT_TRUE(st.ok()) << st.message();
  auto s = session(m);
  ASSERT_TRUE(s);
  std::vector<int64_t> ids = {0, 9, 3, 3, 1, 2, 2, 8, 7, 0}, mask = {1, 1, 1, 0, 0, 1, 1, 1, 1, 1};
  ASSERT_TRUE(s->set_input_s64(0, ids.data(), 10).ok());
  ASSERT_TRUE(s->set_input_s64(1, mask.data(), 10).ok());
  ASSERT_TRUE(s->run().ok());
  std::vector<float> emb(40), mf(10);
  ASSERT_TRUE(s->get_output_f32(0, emb.data(), emb.size()).ok());
  ASSERT_TRUE(s->get_output_f32(1, mf.data(), mf.size()).ok());
  for (size_t i = 0; i < 10; ++i) {
    for (size_t k = 0; k < 4; ++k) EXPECT_EQ(emb[i * 4 + k], static_cast<float>(ids[i]) + 0.25f * k);
    EXPECT_EQ(mf[i], static_cast<float>(mask[i]));
  }
  ids[5] = 10;
  ASSERT_TRUE(s->set_input_s64(0, ids.data(), 10).ok());
  EXPECT_FALSE(s->run().ok());
}

}  // namespace
}  // namespace edgeq
