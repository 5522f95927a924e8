// ModelBuilder: ONNX models built in memory with the protobuf API for the importer's
// tests (test/importer_test.cc, test/transformer_import_test.cc), and small queries on
// the imported IR graph.
#pragma once

#include <onnx/onnx_pb.h>  // onnx-ml.pb.h with ONNX_ML

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "graph/ir.h"
#include "graph/onnx/importer.h"
#include "graph/shape.h"

namespace edgeq {
namespace test_onnx {

using onnx::TensorProto;

// ------------------------------------------------------------------ model building

class ModelBuilder {
 public:
  explicit ModelBuilder(int opset = 13) {
    model_.set_ir_version(7);
    model_.set_producer_name("importer_test");
    auto* o = model_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
  }

  // A dimension of -1 becomes a symbolic one.
  void input(const std::string& name, const std::vector<int64_t>& dims,
             int elem = TensorProto::FLOAT) {
    auto* v = model_.mutable_graph()->add_input();
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem);
    auto* shape = tt->mutable_shape();
    for (int64_t d : dims) {
      auto* dim = shape->add_dim();
      if (d < 0)
        dim->set_dim_param("N");
      else
        dim->set_dim_value(d);
    }
  }
  void output(const std::string& name) {
    auto* v = model_.mutable_graph()->add_output();
    v->set_name(name);
    v->mutable_type()->mutable_tensor_type()->set_elem_type(TensorProto::FLOAT);
  }

  static void fill(TensorProto* t, const std::string& name, const std::vector<int64_t>& dims,
                   int type) {
    t->set_name(name);
    t->set_data_type(type);
    for (int64_t d : dims) t->add_dims(d);
  }
  // Float initializer stored as raw_data.
  void init_f(const std::string& name, const std::vector<int64_t>& dims,
              const std::vector<float>& v) {
    auto* t = model_.mutable_graph()->add_initializer();
    fill(t, name, dims, TensorProto::FLOAT);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4));
  }
  // Integer initializers stored in the typed fields.
  void init_i64(const std::string& name, const std::vector<int64_t>& dims,
                const std::vector<int64_t>& v) {
    auto* t = model_.mutable_graph()->add_initializer();
    fill(t, name, dims, TensorProto::INT64);
    for (int64_t x : v) t->add_int64_data(x);
  }
  void init_int(const std::string& name, int type, const std::vector<int64_t>& dims,
                const std::vector<int32_t>& v) {
    auto* t = model_.mutable_graph()->add_initializer();
    fill(t, name, dims, type);
    for (int32_t x : v) t->add_int32_data(x);
  }
  void scalar_f(const std::string& name, float v) { init_f(name, {}, {v}); }
  void scalar_u8(const std::string& name, int v) { init_int(name, TensorProto::UINT8, {}, {v}); }
  void scalar_i8(const std::string& name, int v) { init_int(name, TensorProto::INT8, {}, {v}); }

  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& ins,
                        const std::vector<std::string>& outs, const std::string& name = "") {
    auto* n = model_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? outs[0] + "_node" : name);
    for (const auto& i : ins) n->add_input(i);
    for (const auto& o : outs) n->add_output(o);
    return n;
  }
  static void ints(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  static void int_attr(onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void float_attr(onnx::NodeProto* n, const std::string& name, float v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void string_attr(onnx::NodeProto* n, const std::string& name, const std::string& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  // A Constant node holding an int64 vector.
  void const_i64(const std::string& out, const std::vector<int64_t>& v) {
    auto* n = node("Constant", {}, {out});
    auto* a = n->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    fill(a->mutable_t(), "", {static_cast<int64_t>(v.size())}, TensorProto::INT64);
    for (int64_t x : v) a->mutable_t()->add_int64_data(x);
  }

  onnx::ModelProto& proto() { return model_; }
  std::string bytes() const { return model_.SerializeAsString(); }
  Status import(Graph* g, const ImportOptions& opts = ImportOptions()) const {
    const std::string b = bytes();
    return import_onnx_bytes(b.data(), b.size(), opts, g);
  }

 private:
  onnx::ModelProto model_;
};

// ------------------------------------------------------------------ graph queries

inline int count_ops(const Graph& g, OpType op) {
  int n = 0;
  for (const Node& x : g.nodes) n += x.op == op;
  return n;
}

inline const Node* find_op(const Graph& g, OpType op) {
  for (const Node& x : g.nodes)
    if (x.op == op) return &x;
  return nullptr;
}

inline const Tensor& tensor(const Graph& g, int32_t i) { return g.tensors[i]; }

inline std::vector<float> floats(const Tensor& t) {
  std::vector<float> v(t.num_elements());
  std::memcpy(v.data(), t.data, v.size() * 4);
  return v;
}

inline std::vector<float> iota_f(size_t n, float scale = 1.f, float offset = 0.f) {
  std::vector<float> v(n);
  for (size_t k = 0; k < n; ++k) v[k] = offset + scale * static_cast<float>(k);
  return v;
}

inline void expect_valid(const Graph& g) {
  Status s = validate_graph(g);
  EXPECT_TRUE(s.ok()) << s.message();
}

// Imports `b` with float graph inputs and outputs (quantized_io off): a fatal failure
// when the import fails, a failure when the graph is not valid. Call it inside
// ASSERT_NO_FATAL_FAILURE.
inline void import_float_io(const ModelBuilder& b, Graph* g) {
  ImportOptions opts;
  opts.quantized_io = false;
  const Status s = b.import(g, opts);
  ASSERT_TRUE(s.ok()) << s.message();
  expect_valid(*g);
}

}  // namespace test_onnx
}  // namespace edgeq
