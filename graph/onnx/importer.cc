// ONNX importer entry points and graph walk.
//
// import_onnx_*() parse the ModelProto and run an Importer:
//  1. initializers become constants; graph inputs become IR inputs (rank-4 inputs keep
//     NCHW and get a kTranspose to the NHWC tensor the rest of the graph uses);
//  2. nodes are visited once in topological order (only those the outputs need): a
//     node whose inputs are constant is evaluated (const_eval.cc), any other is lowered
//     to IR nodes in float form (lower_ops.cc);
//  3. graph outputs get their ONNX names back (rank-4 outputs through a kTranspose to
//     NCHW);
//  4. optimize_graph() (ir_passes.cc) fuses QDQ patterns into quantized ops, folds
//     activations and batch norms, absorbs quantize/dequantize at the graph boundary and
//     drops everything unused.
#include <algorithm>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <queue>
#include <sstream>

#include "graph/onnx/internal.h"
#include "graph/shape.h"

namespace edgeq {
namespace onnx_import {

using onnx::TensorProto;

Shape to_ir_shape(const Shape& s) {
  if (s.size() != 4) return s;
  return {s[0], s[2], s[3], s[1]};
}

Shape Importer::IrShape(const Shape& onnx_shape, bool nhwc) const {
  return nhwc ? to_ir_shape(onnx_shape) : onnx_shape;
}

int64_t to_ir_axis(int64_t axis, size_t rank) { return rank == 4 ? kNchwToNhwcAxis[axis] : axis; }

bool perm_is_view(const Shape& shape, const std::vector<int64_t>& perm) {
  int64_t last = -1;
  for (int64_t p : perm) {
    if (shape[p] == 1) continue;
    if (p < last) return false;
    last = p;
  }
  return true;
}

// ------------------------------------------------------------------ names and emission

std::string Importer::UniqueTensorName(const std::string& base) {
  std::string name = base.empty() ? "t" : base;
  if (!tensor_names_.count(name) && !reserved_names_.count(name)) return name;
  for (int k = 1;; ++k) {
    std::string c = name + "_" + std::to_string(k);
    if (!tensor_names_.count(c) && !reserved_names_.count(c)) return c;
  }
}

std::string Importer::UniqueNodeName(const std::string& base) {
  if (!node_names_.count(base)) return base;
  for (int k = 1;; ++k) {
    std::string c = base + "_" + std::to_string(k);
    if (!node_names_.count(c)) return c;
  }
}

Status Importer::Fail(const onnx::NodeProto& n, StatusCode code, const std::string& msg) const {
  return Status(code, node_label(n) + ": " + msg);
}

Status Importer::NewTensor(const std::string& name, bool exact_name, DType dtype,
                           const Shape& ir_shape, int32_t* ir) {
  for (int64_t d : ir_shape) {
    if (d == 0)
      return Unsupported("tensor '" + name + "' is empty (shape " + shape_str(ir_shape) + ")");
    if (d < 0 || d > INT32_MAX)
      return InvalidModel("tensor '" + name + "' has an invalid shape " + shape_str(ir_shape));
  }
  if (shape_numel(ir_shape) < 0)
    return Unsupported("tensor '" + name + "' is too large (shape " + shape_str(ir_shape) + ")");
  Tensor t;
  t.name = exact_name && !tensor_names_.count(name) ? name : UniqueTensorName(name);
  tensor_names_.insert(t.name);
  t.dtype = dtype;
  for (int64_t d : ir_shape) t.shape.push_back(static_cast<int32_t>(d));
  *ir = g_->add_tensor(std::move(t));
  return Status::Ok();
}

void Importer::DefineTensor(const std::string& name, int32_t type, const Shape& onnx_shape,
                            int32_t ir) {
  Value v;
  v.kind = ValueKind::kTensor;
  v.type = type;
  v.shape = onnx_shape;
  v.ir = ir;
  values_[name] = std::move(v);
}

Status Importer::OutputTensor(const onnx::NodeProto& n, int k, DType dtype, const Shape& onnx_shape,
                              int32_t* ir, bool nhwc) {
  if (k >= n.output_size() || n.output(k).empty())
    return Fail(n, StatusCode::kInvalidModel, "missing output " + std::to_string(k));
  const std::string& name = n.output(k);
  Status s = NewTensor(name, true, dtype, IrShape(onnx_shape, nhwc), ir);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (!nhwc && onnx_shape.size() == 4) plain_.insert(*ir);
  int32_t type = dtype == DType::kF32   ? TensorProto::FLOAT
                 : dtype == DType::kS8  ? TensorProto::INT8
                 : dtype == DType::kU8  ? TensorProto::UINT8
                 : dtype == DType::kS64 ? TensorProto::INT64
                 : dtype == DType::kBool ? TensorProto::BOOL
                                        : TensorProto::INT32;
  DefineTensor(name, type, onnx_shape, *ir);
  return Status::Ok();
}

void Importer::Emit(const onnx::NodeProto& n, const std::string& suffix, OpType op,
                    std::vector<int32_t> inputs, std::vector<int32_t> outputs, Attrs attrs) {
  Node node;
  node.name = UniqueNodeName(suffix.empty() ? node_name_ : node_name_ + "/" + suffix);
  node_names_.insert(node.name);
  node.op = op;
  node.inputs = std::move(inputs);
  node.outputs = std::move(outputs);
  node.attrs = std::move(attrs);
  g_->nodes.push_back(std::move(node));
}

// ------------------------------------------------------------------ model walk

Status Importer::CheckOpsets(const onnx::ModelProto& model) {
  for (const auto& o : model.opset_import()) {
    if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = static_cast<int>(o.version());
  }
  if (opset_ == 0) {
    if (model.opset_import_size() == 0) return InvalidModel("model declares no opset_import");
    return Unsupported("model does not import the default ONNX domain");
  }
  if (opset_ < 10 || opset_ > 18)
    return Unsupported("ONNX opset " + std::to_string(opset_) +
                       " is not supported (supported: 10 to 18)");
  return Status::Ok();
}

Status Importer::AddInitializers(const onnx::GraphProto& graph) {
  for (const auto& t : graph.initializer()) {
    if (t.name().empty()) return InvalidModel("an initializer has no name");
    Value v;
    v.kind = ValueKind::kConst;
    EDGEQ_RETURN_IF_ERROR(decode_tensor(t, "initializer '" + t.name() + "'", &v.c));
    v.type = v.c.type;
    v.shape = v.c.dims;
    values_[t.name()] = std::move(v);
  }
  if (graph.sparse_initializer_size() > 0)
    return Unsupported("sparse initializers are not supported");
  return Status::Ok();
}

// An integer graph input must end, through data movement only, in Gather indices or a
// Cast (or a Shape, folded): the IR has no integer arithmetic. Returns the first other
// use found.
const onnx::NodeProto* Importer::IntegerMisuse(const std::string& value, int depth) const {
  static const std::set<std::string> kMovement = {"Unsqueeze", "Squeeze", "Reshape",
                                                  "Flatten",   "Slice",   "Identity"};
  auto it = users_.find(value);
  if (it == users_.end()) return nullptr;
  for (const onnx::NodeProto* u : it->second) {
    bool live = false;
    for (const auto& o : u->output()) live |= live_.count(o) > 0;
    if (!live) continue;
    static const std::set<std::string> kTakesIntegers = {"Cast", "CastLike", "Shape", "Size", "Equal", "Less",
                                                         "Greater", "LessOrEqual", "GreaterOrEqual", "Where", "Expand",
                                                         "CumSum", "Add", "Sub", "Mul", "Div", "Mod", "Max", "Min",
                                                         "ReduceSum", "ReduceMax", "ReduceMin", "ArgMax", "ArgMin", "TopK", "Sum",
                                                         "GatherElements", "ScatterElements", "Scatter",
                                                         "ScatterND"};
    if (kTakesIntegers.count(u->op_type())) continue;
    // MultiHeadAttention's key_padding_mask (input 4; its lowering casts or compares it).
    if (u->op_type() == "MultiHeadAttention" && u->input_size() > 4 && u->input(4) == value) continue;
    if (u->op_type() == "Gather" && u->input_size() > 1 && u->input(1) == value &&
        u->input(0) != value)
      continue;
    if (kMovement.count(u->op_type()) && u->input(0) == value && depth < 16 &&
        u->output_size() > 0) {
      if (const onnx::NodeProto* bad = IntegerMisuse(u->output(0), depth + 1)) return bad;
      continue;
    }
    return u;
  }
  return nullptr;
}

// Whether a rank-4 graph input is an image (NHWC in the IR): unless every path from it,
// through elementwise ops and (de)quantization, ends in ops that read ONNX order
// (MatMul, Reshape, Transpose, Softmax, ...; attention inputs [B,heads,S,d]), it is.
bool Importer::InputIsImage(const std::string& value) const {
  static const std::set<std::string> kThrough = {"QuantizeLinear", "DequantizeLinear", "Identity",
                                                 "Add", "Sub", "Mul", "Div", "Cast"};
  static const std::set<std::string> kOnnxOrder = {
      "MatMul", "Reshape", "Flatten", "Transpose", "Softmax", "LayerNormalization", "Gemm",
      "Squeeze", "Unsqueeze", "Shape", "DynamicQuantizeLinear", "MatMulInteger"};
  std::vector<std::string> todo = {value};
  std::set<std::string> seen;
  bool any = false;
  while (!todo.empty()) {
    const std::string v = todo.back();
    todo.pop_back();
    if (!seen.insert(v).second) continue;
    auto it = users_.find(v);
    if (it == users_.end()) continue;
    for (const onnx::NodeProto* u : it->second) {
      any = true;
      if (kOnnxOrder.count(u->op_type())) continue;
      if (!kThrough.count(u->op_type())) return true;
      for (const auto& o : u->output())
        if (!o.empty()) todo.push_back(o);
    }
  }
  return !any;
}

Status Importer::AddGraphInputs(const onnx::GraphProto& graph) {
  std::set<std::string> seen;
  for (const auto& in : graph.input()) {
    const std::string& name = in.name();
    if (!seen.insert(name).second) return InvalidModel("graph input '" + name + "' is listed twice");
    if (values_.count(name)) continue;  // an initializer listed as input (IR version < 4)
    // An input no output depends on stays an input (nothing reads it), so that the
    // inputs keep the model's order and count: a caller giving them in ONNX order must
    // not have its second input taken for the first.
    const bool unused = !live_.count(name);
    const std::string what = "graph input '" + name + "'";
    if (!in.type().has_tensor_type()) return Unsupported(what + " is not a tensor");
    const auto& tt = in.type().tensor_type();
    DType dtype;
    switch (tt.elem_type()) {
      case TensorProto::FLOAT: dtype = DType::kF32; break;
      case TensorProto::INT8: dtype = DType::kS8; break;
      case TensorProto::UINT8: dtype = DType::kU8; break;
      case TensorProto::INT64: dtype = DType::kS64; break;
      case TensorProto::INT32: dtype = DType::kS32; break;
      case TensorProto::BOOL: dtype = DType::kBool; break;
      default:
        return Unsupported(what + " has element type " + onnx_type_name(tt.elem_type()) +
                           " (supported: float, int8, uint8, bool, and int64/int32 ids and masks)");
    }
    if (!unused && (dtype == DType::kS64 || dtype == DType::kS32)) {
      if (const onnx::NodeProto* bad = IntegerMisuse(name, 0))
        return Unsupported(what + " has element type " + onnx_type_name(tt.elem_type()) +
                           " and feeds " + node_label(*bad) +
                           "; integer inputs are supported only as Gather indices and in Cast, comparisons, "
                           "Where, Expand, CumSum, Add/Sub/Mul, Max/Min, ReduceSum/Max/Min, ArgMax, TopK and CastLike");
    }
    if (!tt.has_shape()) return Unsupported(what + " has no shape");
    auto given = opts_.input_shapes.find(name);
    if (given != opts_.input_shapes.end() &&
        static_cast<int>(given->second.size()) != tt.shape().dim_size())
      return InvalidArgument(what + " has rank " + std::to_string(tt.shape().dim_size()) +
                             ", the shape given for it " + shape_str(given->second) + " has rank " +
                             std::to_string(given->second.size()));
    Shape shape;
    for (int k = 0; k < tt.shape().dim_size(); ++k) {
      const auto& d = tt.shape().dim(k);
      const std::string dim_what = what + ": dimension " + std::to_string(k);
      if (given != opts_.input_shapes.end()) {
        const int64_t v = given->second[k];
        if (v < 1 || v > INT32_MAX)
          return InvalidArgument(dim_what + " is given the invalid value " + std::to_string(v));
        if (d.has_dim_value() && d.dim_value() != v)
          return InvalidArgument(dim_what + " is " + std::to_string(d.dim_value()) +
                                 " in the model, the shape given says " + std::to_string(v));
        shape.push_back(v);
      } else if (d.has_dim_value()) {
        if (d.dim_value() <= 0)
          return Unsupported(dim_what + " is " + std::to_string(d.dim_value()));
        shape.push_back(d.dim_value());
      } else if (k == 0) {
        if (opts_.batch < 1) return InvalidArgument("ImportOptions::batch must be >= 1");
        shape.push_back(opts_.batch);
      } else if (unused) {
        shape.push_back(1);  // nothing reads it: any size will do
      } else {
        return Unsupported(dim_what + " ('" + d.dim_param() +
                           "') is symbolic and has no value; give the input's shape (edgeq "
                           "convert --shape " + name + "=...)");
      }
    }
    int32_t ir;
    EDGEQ_RETURN_IF_ERROR(NewTensor(name, true, dtype, shape, &ir));
    g_->inputs.push_back(ir);
    if (unused) continue;
    int32_t type = tt.elem_type();
    if (shape.size() == 4 && dtype != DType::kS64 && dtype != DType::kS32 && dtype != DType::kBool && InputIsImage(name)) {
      int32_t nhwc;
      EDGEQ_RETURN_IF_ERROR(NewTensor(name + ".nhwc", false, dtype, to_ir_shape(shape), &nhwc));
      Attrs a;
      a.perm = {0, 2, 3, 1};
      Node node;
      node.name = UniqueNodeName(name + "/to_nhwc");
      node_names_.insert(node.name);
      node.op = OpType::kTranspose;
      node.inputs = {ir};
      node.outputs = {nhwc};
      node.attrs = a;
      g_->nodes.push_back(std::move(node));
      ir = nhwc;
    }
    if (shape.size() == 4 && ir == g_->inputs.back()) plain_.insert(ir);  // kept ONNX order
    DefineTensor(name, type, shape, ir);
  }
  return Status::Ok();
}

Status Importer::SortNodes(const onnx::GraphProto& graph, std::vector<int>* order) {
  const int n = graph.node_size();
  std::set<std::string> graph_inputs;
  for (const auto& in : graph.input()) graph_inputs.insert(in.name());
  std::map<std::string, int> producer_index;
  for (int k = 0; k < n; ++k) {
    // Every pattern matcher reads its nodes' first output: a node without one is refused here.
    if (graph.node(k).output_size() == 0 || graph.node(k).output(0).empty())
      return InvalidModel(node_label(graph.node(k)) + " has no (first) output");
    for (const auto& o : graph.node(k).output()) {
      if (o.empty()) continue;
      if (producer_index.count(o) || values_.count(o) || graph_inputs.count(o))
        return InvalidModel("value '" + o + "' is produced more than once (" +
                            node_label(graph.node(k)) + ")");
      producer_index[o] = k;
      producer_[o] = &graph.node(k);
    }
  }
  std::vector<int> pending(n, 0);
  std::vector<std::vector<int>> next(n);
  for (int k = 0; k < n; ++k) {
    const auto& node = graph.node(k);
    if (node.op_type() == "If" || node.op_type() == "Loop" || node.op_type() == "Scan")
      return Unsupported(node_label(node) + ": control flow is not supported");
    for (const auto& in : node.input()) {
      if (in.empty()) continue;
      users_[in].push_back(&node);
      ++consumers_[in];
      auto it = producer_index.find(in);
      if (it == producer_index.end()) continue;  // initializer, graph input or missing
      ++pending[k];
      next[it->second].push_back(k);
    }
  }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int k = 0; k < n; ++k)
    if (pending[k] == 0) ready.push(k);
  order->clear();
  while (!ready.empty()) {
    int k = ready.top();
    ready.pop();
    order->push_back(k);
    for (int m : next[k])
      if (--pending[m] == 0) ready.push(m);
  }
  if (static_cast<int>(order->size()) != n) return InvalidModel("the graph has a cycle");
  return Status::Ok();
}

Status Importer::MarkLive(const onnx::GraphProto& graph, const std::vector<int>& order) {
  for (const auto& o : graph.output()) {
    live_.insert(o.name());
    ++consumers_[o.name()];
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const auto& node = graph.node(*it);
    bool needed = false;
    for (const auto& o : node.output()) needed |= live_.count(o) > 0;
    if (!needed) continue;
    for (const auto& in : node.input())
      if (!in.empty()) live_.insert(in);
  }
  return Status::Ok();
}

Status Importer::LowerSynthetic(const onnx::NodeProto& parent, const std::string& op,
                                const std::vector<std::string>& inputs, const std::string& output,
                                const std::vector<onnx::AttributeProto>& attrs) {
  onnx::NodeProto s;
  s.set_op_type(op);
  s.set_name(parent.name());
  for (const std::string& i : inputs) s.add_input(i);
  s.add_output(output);
  for (const onnx::AttributeProto& a : attrs) *s.add_attribute() = a;
  live_.insert(output);
  const std::string name = node_name_;
  const Status st = ProcessNode(s);
  node_name_ = name;
  return st;
}

std::string Importer::DefineConst(const std::string& base, int32_t type, const Shape& dims, std::vector<float> f,
                                  std::vector<int64_t> i) {
  std::string name = base;  // never a value of the file's
  for (int k = 1; values_.count(name) || live_.count(name); ++k) name = base + "_" + std::to_string(k);
  Value c;
  c.kind = ValueKind::kConst;
  c.type = c.c.type = type;
  c.c.dims = c.shape = dims;
  c.c.f = std::move(f);
  c.c.i = std::move(i);
  values_[name] = std::move(c);
  return name;
}

Status Importer::ProcessNode(const onnx::NodeProto& n) {
  bool needed = false;
  for (const auto& o : n.output()) needed |= live_.count(o) > 0;
  if (!needed) return Status::Ok();
  if (!n.output_size() || skip_nodes_.count(n.output(0))) return Status::Ok();  // folded
  if (!n.domain().empty() && n.domain() != "ai.onnx")
    return Unsupported(node_label(n) + ": operator domain '" + n.domain() + "' is not supported");
  node_name_ =
      UniqueNodeName(n.name().empty() ? n.op_type() + "_" + std::to_string(node_index_) : n.name());

  // Patterns lowered as one op (fuse_patterns.cc): inner nodes are skipped while the
  // pattern's input is a float runtime tensor (otherwise the pattern is folded as usual).
  auto inner = fusion_inner_.find(n.output(0));
  if (inner != fusion_inner_.end()) {
    auto f = fusions_.find(inner->second);
    if (f != fusions_.end()) {
      auto x = values_.find(f->second.x);
      if (x != values_.end() && x->second.kind == ValueKind::kTensor &&
          x->second.type == TensorProto::FLOAT)
        return Status::Ok();
      fusions_.erase(f);
    }
  }
  auto fusion = fusions_.find(n.output(0));
  if (fusion != fusions_.end()) return LowerFusion(n, fusion->second);

  std::vector<const ConstTensor*> consts(n.input_size(), nullptr);
  std::vector<const Shape*> shapes(n.input_size(), nullptr);
  bool dq_input = false;
  for (int k = 0; k < n.input_size(); ++k) {
    if (n.input(k).empty() || dynamic_q_.count(n.input(k))) continue;  // lowered with its user
    Value* v;
    EDGEQ_RETURN_IF_ERROR(Input(n, k, &v));
    shapes[k] = &v->shape;
    if (v->kind == ValueKind::kConst) consts[k] = &v->c;
    if (v->kind == ValueKind::kDqConst && k == 0) dq_input = true;
  }

  // Data movement on a dequantized constant stays a dequantized constant
  // (e.g. DequantizeLinear -> Transpose -> MatMul weights).
  static const std::set<std::string> kDqMovable = {"Identity", "Reshape",   "Flatten",
                                                   "Squeeze",  "Unsqueeze", "Transpose"};
  if (dq_input && kDqMovable.count(n.op_type())) {
    Value* x = &values_[n.input(0)];
    bool others_const = true;
    for (int k = 1; k < n.input_size(); ++k) others_const &= n.input(k).empty() || consts[k];
    const bool transpose = n.op_type() == "Transpose";
    if (others_const && (x->q.per_tensor() || transpose || n.op_type() == "Identity")) {
      std::vector<const ConstTensor*> ins = consts;
      ins[0] = &x->c;
      std::vector<ConstTensor> outs;
      bool handled = false;
      EDGEQ_RETURN_IF_ERROR(eval_const_node(n, opset_, ins, shapes, &outs, &handled));
      if (handled && outs.size() == 1) {
        Value v;
        v.kind = ValueKind::kDqConst;
        v.type = TensorProto::FLOAT;
        v.c = std::move(outs[0]);
        v.shape = v.c.dims;
        v.q = x->q;
        if (transpose && !x->q.per_tensor()) {
          std::vector<int64_t> perm;
          EDGEQ_RETURN_IF_ERROR(attr_ints(n, "perm", &perm, nullptr));
          if (perm.empty())
            for (int64_t k = static_cast<int64_t>(x->shape.size()) - 1; k >= 0; --k)
              perm.push_back(k);
          for (size_t k = 0; k < perm.size(); ++k)
            if (perm[k] == x->q.axis) v.q.axis = static_cast<int64_t>(k);
        }
        values_[n.output(0)] = std::move(v);
        return Status::Ok();
      }
    }
  }

  std::vector<ConstTensor> outs;
  bool handled = false;
  EDGEQ_RETURN_IF_ERROR(eval_const_node(n, opset_, consts, shapes, &outs, &handled));
  if (handled) {
    if (static_cast<int>(outs.size()) > n.output_size())
      return InvalidModel(node_label(n) + ": missing outputs");
    for (size_t k = 0; k < outs.size(); ++k) {
      Value v;
      v.kind = ValueKind::kConst;
      v.type = outs[k].type;
      v.shape = outs[k].dims;
      v.c = std::move(outs[k]);
      values_[n.output(static_cast<int>(k))] = std::move(v);
    }
    return Status::Ok();
  }
  EDGEQ_RETURN_IF_ERROR(Lower(n));
  for (int k = 0; k < n.output_size(); ++k) {
    if (!n.output(k).empty() && live_.count(n.output(k)) && !values_.count(n.output(k)) &&
        !skip_nodes_.count(n.output(k)))
      return Unsupported(node_label(n) + ": output '" + n.output(k) + "' is not supported");
  }
  return Status::Ok();
}

Status Importer::AddGraphOutputs(const onnx::GraphProto& graph) {
  std::set<std::string> seen;
  for (const auto& o : graph.output()) {
    const std::string& name = o.name();
    if (!seen.insert(name).second) return Unsupported("graph output '" + name + "' is repeated");
    auto it = values_.find(name);
    if (it == values_.end()) return InvalidModel("graph output '" + name + "' is not produced");
    Value& v = it->second;
    if (v.kind != ValueKind::kTensor)
      return Unsupported("graph output '" + name + "' is a constant");
    int32_t ir = v.ir;
    Tensor& t = g_->tensors[ir];
    const bool is_input = std::count(g_->inputs.begin(), g_->inputs.end(), ir) > 0;
    const bool is_output = std::count(g_->outputs.begin(), g_->outputs.end(), ir) > 0;
    const bool nhwc = v.shape.size() == 4 && !plain_.count(ir);
    if (nhwc || is_input || is_output || t.name != name) {
      // The output needs its own tensor with the ONNX name: rename whatever holds the
      // name now and copy (rank 4: transpose back to NCHW).
      if (t.name == name) {
        tensor_names_.erase(name);
        t.name = UniqueTensorName(name + (nhwc ? ".nhwc" : ".value"));
        tensor_names_.insert(t.name);
      }
      int32_t out;
      Shape ir_shape = v.shape;  // ONNX shape (NCHW)
      EDGEQ_RETURN_IF_ERROR(NewTensor(name, true, g_->tensors[ir].dtype, ir_shape, &out));
      g_->tensors[out].quant = g_->tensors[ir].quant;
      Node node;
      node.name = UniqueNodeName(name + (nhwc ? "/to_nchw" : "/copy"));
      node_names_.insert(node.name);
      node.inputs = {ir};
      node.outputs = {out};
      if (nhwc && !perm_is_view(to_ir_shape(v.shape), {0, 3, 1, 2})) {
        node.op = OpType::kTranspose;
        node.attrs.perm = {0, 3, 1, 2};
      } else {
        node.op = OpType::kReshape;
      }
      g_->nodes.push_back(std::move(node));
      ir = out;
    }
    g_->outputs.push_back(ir);
  }
  return Status::Ok();
}

Status Importer::Run(const onnx::ModelProto& model) {
  if (!model.has_graph()) return InvalidModel("model has no graph");
  EDGEQ_RETURN_IF_ERROR(CheckOpsets(model));
  const auto& graph = model.graph();
  graph_ = &graph;
  *g_ = Graph();
  g_->requant = opts_.requant;
  g_->producer =
      "edgeq onnx importer 0.1 (from " +
      (model.producer_name().empty() ? std::string("unknown producer")
                                     : model.producer_name() + " " + model.producer_version()) +
      ", opset " + std::to_string(opset_) + ")";
  for (const auto& t : graph.initializer()) reserved_names_.insert(t.name());
  for (const auto& i : graph.input()) reserved_names_.insert(i.name());
  for (const auto& node : graph.node())
    for (const auto& o : node.output()) reserved_names_.insert(o);
  if (graph.output_size() == 0) return InvalidModel("graph has no outputs");

  EDGEQ_RETURN_IF_ERROR(AddInitializers(graph));
  std::vector<int> order;
  EDGEQ_RETURN_IF_ERROR(SortNodes(graph, &order));
  EDGEQ_RETURN_IF_ERROR(MarkLive(graph, order));
  EDGEQ_RETURN_IF_ERROR(AddGraphInputs(graph));
  FindFusions(graph);
  for (int k : order) {
    node_index_ = k;
    EDGEQ_RETURN_IF_ERROR(ProcessNode(graph.node(k)));
  }
  EDGEQ_RETURN_IF_ERROR(AddGraphOutputs(graph));
  if (g_->inputs.empty()) return Unsupported("the graph has no runtime inputs");
  EDGEQ_RETURN_IF_ERROR(optimize_graph(opts_, g_));
  Status s = validate_graph(*g_);
  if (!s.ok())
    return Status(StatusCode::kInternal, "imported graph fails validation: " + s.message());
  return Status::Ok();
}

}  // namespace onnx_import

Status import_onnx_bytes(const void* data, size_t size, const ImportOptions& opts, Graph* out) {
  if (!out) return InvalidArgument("import_onnx_bytes: null output graph");
  if (!data && size) return InvalidArgument("import_onnx_bytes: null data");
  if (size > static_cast<size_t>(INT_MAX))
    return Unsupported("ONNX model larger than 2 GiB is not supported");
  onnx::ModelProto model;
  if (!model.ParseFromArray(data, static_cast<int>(size)))
    return InvalidModel("not a valid ONNX model (protobuf parse failed)");
  EDGEQ_RETURN_IF_ERROR(onnx_import::expand_contrib_qlinear(&model));
  onnx_import::expand_1d_ops(&model);
  Graph g;
  onnx_import::Importer importer(opts, &g);
  EDGEQ_RETURN_IF_ERROR(importer.Run(model));
  *out = std::move(g);
  return Status::Ok();
}

Status parse_input_shapes(const std::string& spec,
                          std::map<std::string, std::vector<int64_t>>* out) {
  std::stringstream items(spec);
  std::string item;
  while (std::getline(items, item, ',')) {
    if (item.empty()) continue;
    const size_t eq = item.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      return InvalidArgument("shape '" + item + "' is not name=DxDx...");
    std::vector<int64_t> dims;
    std::stringstream ds(item.substr(eq + 1));
    std::string d;
    while (std::getline(ds, d, 'x')) {
      char* end = nullptr;
      const long long v = d.empty() ? 0 : std::strtoll(d.c_str(), &end, 10);
      if (d.empty() || *end != '\0' || v < 1 || v > INT32_MAX)
        return InvalidArgument("shape '" + item + "': dimension '" + d +
                               "' is not a positive integer");
      dims.push_back(v);
    }
    (*out)[item.substr(0, eq)] = dims;
  }
  return Status::Ok();
}

Status import_onnx_file(const std::string& path, const ImportOptions& opts, Graph* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return IoError("cannot open '" + path + "'");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return IoError("cannot read '" + path + "'");
  const std::string bytes = ss.str();
  Status s = import_onnx_bytes(bytes.data(), bytes.size(), opts, out);
  if (!s.ok()) return Status(s.code(), path + ": " + s.message());
  return s;
}

}  // namespace edgeq
