// One-dimensional convolutions and pools (keyword spotters, audio and sequence CNNs:
// PyTorch's Conv1d, MaxPool1d, AvgPool1d) rewritten before the import as their 2-D
// forms on a height of 1:
//   Unsqueeze(x, axis 2) -> Conv / MaxPool / AveragePool with 2-D attributes -> Squeeze(axis 2)
// kernel_shape [k] becomes [1, k], strides [s] -> [1, s], dilations [d] -> [1, d], pads
// [b, e] -> [0, b, 0, e]; auto_pad, group, ceil_mode and count_include_pad carry over
// (a kernel of height 1 needs no padding along H). A Conv's weight initializer
// [Cout, Cin/group, k] (or the int8 initializer its DequantizeLinear reads, per-channel
// axis 0 unchanged) is given the shape [Cout, Cin/group, 1, k]; the same bytes. The
// importer's passes then run the node on the 2-D engine, float or int8. The Squeeze
// then moves below the elementwise and per-channel ops that read it alone (activations,
// BatchNormalization, QuantizeLinear / DequantizeLinear per tensor or per channel, and
// Add / Sub / Mul / Div of two such values: residual blocks), and meets the next
// layer's Unsqueeze, and the two go: a stack of 1-D layers runs as one 2-D network,
// without a layout change between layers. A convolution whose weight is
// not such an initializer used by it alone, or a max pool whose Indices output is
// used, is left as it is (the importer then names it).
// A dynamically quantized 1-D ConvInteger (DynamicQuantizeLinear -> ConvInteger -> Cast
// -> Mul by the scale product, as ONNX Runtime's quantize_dynamic writes an audio front
// end) is rewritten the same way, and then keeps the form the importer's dynamic pattern
// reads: the Unsqueeze of its uint8 input goes above the DynamicQuantizeLinear (whose
// per-tensor range a reshape leaves unchanged), and its Squeeze sinks below the Cast and
// the Mul by a scalar.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "graph/onnx/internal.h"

namespace edgeq {
namespace onnx_import {
namespace {

using onnx::NodeProto;
using onnx::TensorProto;

class Expander1d {
 public:
  explicit Expander1d(onnx::ModelProto* m) : g_(m->mutable_graph()) {
    for (const auto& o : m->opset_import())
      if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = static_cast<int>(o.version());
    for (int i = 0; i < g_->initializer_size(); ++i) init_[g_->initializer(i).name()] = g_->mutable_initializer(i);
    for (const auto& i : g_->input()) names_[i.name()] = 1;
    for (const auto& t : g_->initializer()) names_[t.name()] = 1;
    for (const NodeProto& n : g_->node()) {
      for (const auto& in : n.input()) ++uses_[in];
      for (const auto& o : n.output()) names_[o] = 1;
      if (n.op_type() == "DequantizeLinear" && n.output_size() > 0) dq_[n.output(0)] = &n;
      if (n.op_type() == "DynamicQuantizeLinear" && n.output_size() == 3 && n.input_size() == 1) {
        dynamic_q_[n.output(0)] = n.input(0);
        dynamic_scalars_.insert(n.output(1));
        dynamic_scalars_.insert(n.output(2));
      }
      if (n.op_type() == "Constant" && n.output_size() == 1)
        for (const auto& a : n.attribute())
          if (a.name() == "value" && a.has_t()) constants_[n.output(0)] = &a.t();
    }
    for (const auto& o : g_->output()) ++uses_[o.name()];
  }

  void Run() {
    std::vector<NodeProto> out;
    out.reserve(static_cast<size_t>(g_->node_size()));
    bool changed = false;
    for (const NodeProto& n : g_->node()) {
      if (n.domain().empty() && Takes(n)) {
        Rewrite(n, &out);
        changed = true;
      } else {
        out.push_back(n);
      }
    }
    if (!changed) return;
    while (SinkSqueeze(&out) || CancelPairs(&out) || LiftOverDynamicQuantize(&out)) {
    }
    g_->clear_node();
    for (NodeProto& n : out) *g_->add_node() = std::move(n);
    g_->clear_value_info();  // shapes of the rewritten weights changed: the importer infers its own
  }

 private:
  // The rank-3 initializer a Conv's weight input is (directly, or through a
  // DequantizeLinear), used by that node alone; null otherwise.
  TensorProto* ConvWeight(const NodeProto& n) {
    if (n.input_size() < 2) return nullptr;
    std::string w = n.input(1);
    if (uses_[w] != 1) return nullptr;
    auto d = dq_.find(w);
    if (d != dq_.end()) {
      w = d->second->input(0);
      if (uses_[w] != 1) return nullptr;
    }
    auto it = init_.find(w);
    return it != init_.end() && it->second->dims_size() == 3 ? it->second : nullptr;
  }

  bool Takes(const NodeProto& n) {
    if (n.op_type() == "Conv") return n.input_size() >= 2 && ConvWeight(n) != nullptr && OneD(n, true);
    if (n.op_type() == "ConvInteger")  // its uint8 input from a DynamicQuantizeLinear that feeds it alone
      return n.input_size() >= 2 && ConvWeight(n) != nullptr && OneD(n, true) && dynamic_q_.count(n.input(0)) &&
             uses_[n.input(0)] == 1;
    if (n.op_type() == "MaxPool" || n.op_type() == "AveragePool") {
      if (n.output_size() > 1 && !n.output(1).empty() && uses_[n.output(1)] > 0) return false;
      return OneD(n, false);
    }
    return false;
  }

  // Whether the node's window attributes are all 1-D (a pool needs its kernel_shape).
  static bool OneD(const NodeProto& n, bool conv) {
    bool kernel = false;
    for (const auto& a : n.attribute()) {
      const std::string& k = a.name();
      if (k == "kernel_shape" || k == "strides" || k == "dilations") {
        if (a.ints_size() != 1) return false;
        kernel |= k == "kernel_shape";
      } else if (k == "pads" && a.ints_size() != 2) {
        return false;
      }
    }
    return conv || kernel;
  }

  std::string Fresh(const std::string& base) {
    std::string name = base;
    for (int k = 1; names_.count(name); ++k) name = base + "_" + std::to_string(k);
    names_[name] = 1;
    return name;
  }

  // An Unsqueeze or Squeeze of axis 2 (an input from opset 13, an attribute before).
  NodeProto Axis2(const std::string& op, const std::string& in, const std::string& out) {
    NodeProto n;
    n.set_op_type(op);
    n.set_name(Fresh(out + "_" + op));
    ours_.insert(n.name());
    n.add_input(in);
    n.add_output(out);
    if (opset_ >= 13) {
      if (axes_.empty()) {
        axes_ = Fresh("edgeq_axis2");
        TensorProto* t = g_->add_initializer();
        t->set_name(axes_);
        t->set_data_type(TensorProto::INT64);
        t->add_dims(1);
        t->add_int64_data(2);
      }
      n.add_input(axes_);
    } else {
      auto* a = n.add_attribute();
      a->set_name("axes");
      a->set_type(onnx::AttributeProto::INTS);
      a->add_ints(2);
    }
    return n;
  }

  // How many node inputs and graph outputs read each value of `nodes`.
  std::map<std::string, int> Uses(const std::vector<NodeProto>& nodes) const {
    std::map<std::string, int> uses;
    for (const NodeProto& n : nodes)
      for (const auto& in : n.input()) ++uses[in];
    for (const auto& o : g_->output()) ++uses[o.name()];
    return uses;
  }

  // Ops that act on each element alone, or per channel along axis 1, through which the
  // Squeeze of axis 2 moves: their first input's Squeeze goes after them.
  static bool Elementwise(const NodeProto& n) {
    static const char* const kOps[] = {"Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "HardSwish", "HardSigmoid",
                                       "Elu", "Softplus", "Erf", "Mish", "Identity",
                                       "QuantizeLinear", "DequantizeLinear", "BatchNormalization", "Cast",
                                       "GlobalAveragePool", "GlobalMaxPool"};
    bool known = false;
    for (const char* op : kOps) known |= n.op_type() == op;
    if (!known || n.output_size() != 1) return false;
    for (const auto& a : n.attribute())  // per-axis (de)quantization: along the channels only
      if (a.name() == "axis" && a.i() != 1) return false;
    return true;
  }
  static bool Binary(const NodeProto& n) {
    return (n.op_type() == "Add" || n.op_type() == "Sub" || n.op_type() == "Mul" || n.op_type() == "Div") &&
           n.input_size() == 2 && n.output_size() == 1;
  }

  // A constant-mode Pad of a rank-3 value, its pads an int64 initializer [b0, b1, b2,
  // e0, e1, e2]: now reads pads for the rank-4 value, [b0, b1, 0, b2, e0, e1, 0, e2]
  // (nothing on the height of 1). False (unchanged) for any other Pad.
  bool PadAs2d(NodeProto* n) {
    for (const auto& a : n->attribute())
      if (a.name() == "mode" && a.s() != "constant") return false;
    const TensorProto* given = nullptr;
    if (auto it = init_.find(n->input(1)); it != init_.end()) given = it->second;
    if (auto it = constants_.find(n->input(1)); it != constants_.end()) given = it->second;
    if (given == nullptr || given->data_type() != TensorProto::INT64) return false;
    std::vector<int64_t> pads;
    if (!ConstTensorInts(*given, &pads) || pads.size() != 6) return false;
    const std::string name = Fresh(n->input(1) + "_2d");
    TensorProto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(TensorProto::INT64);
    t->add_dims(8);
    for (int64_t v : {pads[0], pads[1], int64_t{0}, pads[2], pads[3], pads[4], int64_t{0}, pads[5]}) t->add_int64_data(v);
    init_[name] = t;
    n->set_input(1, name);
    return true;
  }

  static bool ConstTensorInts(const TensorProto& t, std::vector<int64_t>* out) {
    ConstTensor c;
    if (!decode_tensor(t, t.name(), &c).ok()) return false;
    return c.to_ints(out);
  }

  // Moves one of our Squeezes below the elementwise op (or the binary op of two such
  // Squeezes) that alone reads it; true when it did.
  bool SinkSqueeze(std::vector<NodeProto>* nodes) {
    std::map<std::string, int> uses = Uses(*nodes);
    std::map<std::string, size_t> squeeze_of;  // a Squeeze's output -> its index
    for (size_t i = 0; i < nodes->size(); ++i)
      if (ours_.count((*nodes)[i].name()) && (*nodes)[i].op_type() == "Squeeze") squeeze_of[(*nodes)[i].output(0)] = i;
    for (size_t u = 0; u < nodes->size(); ++u) {
      NodeProto& n = (*nodes)[u];
      std::vector<int> inputs;  // the inputs that come from our Squeezes
      if (Elementwise(n) && n.input_size() > 0 && squeeze_of.count(n.input(0))) inputs = {0};
      if (n.op_type() == "Pad" && n.input_size() >= 2 && squeeze_of.count(n.input(0)) && uses[n.input(0)] == 1 &&
          PadAs2d(&n))
        inputs = {0};
      if (Binary(n) && squeeze_of.count(n.input(0)) && squeeze_of.count(n.input(1)) && n.input(0) != n.input(1))
        inputs = {0, 1};
      for (int k = 0; k < 2 && inputs.empty(); ++k)  // with a scalar, which broadcasts alike
        if (Binary(n) && squeeze_of.count(n.input(k)) && Scalar(*nodes, n.input(1 - k), 3)) inputs = {k};
      if (inputs.empty()) continue;
      bool single = true;
      for (int k : inputs) single &= uses[n.input(k)] == 1;
      if (!single) continue;
      std::vector<size_t> gone;
      for (int k : inputs) {
        const size_t s = squeeze_of[n.input(k)];
        n.set_input(k, (*nodes)[s].input(0));
        gone.push_back(s);
      }
      const std::string y = n.output(0), t = Fresh(y + "_2d");
      n.set_output(0, t);
      NodeProto squeeze = Axis2("Squeeze", t, y);
      nodes->insert(nodes->begin() + static_cast<long>(u) + 1, squeeze);
      std::sort(gone.rbegin(), gone.rend());
      for (size_t s : gone) nodes->erase(nodes->begin() + static_cast<long>(s));
      return true;
    }
    return false;
  }

  // Whether `name` holds one value: a one-element initializer or Constant, a
  // DynamicQuantizeLinear's scale or zero point, or a binary op of such (depth levels).
  bool Scalar(const std::vector<NodeProto>& nodes, const std::string& name, int depth) const {
    auto one = [](const TensorProto* t) {
      int64_t n = 1;
      for (int64_t d : t->dims()) n *= d;
      return n == 1;
    };
    if (auto it = init_.find(name); it != init_.end()) return one(it->second);
    if (auto it = constants_.find(name); it != constants_.end()) return one(it->second);
    if (dynamic_scalars_.count(name)) return true;
    if (depth == 0) return false;
    for (const NodeProto& n : nodes)
      if (n.output_size() == 1 && n.output(0) == name)
        return Binary(n) && Scalar(nodes, n.input(0), depth - 1) && Scalar(nodes, n.input(1), depth - 1);
    return false;
  }

  // An Unsqueeze of ours reading the uint8 output of a DynamicQuantizeLinear that feeds
  // it alone: the DynamicQuantizeLinear reads the Unsqueeze of its input instead (the
  // same range, scale and zero point), so that a ConvInteger reads the quantized value
  // directly, as the importer's dynamic pattern needs. True when it moved one.
  bool LiftOverDynamicQuantize(std::vector<NodeProto>* nodes) {
    std::map<std::string, int> uses = Uses(*nodes);
    for (size_t i = 0; i < nodes->size(); ++i) {
      NodeProto& un = (*nodes)[i];
      if (!ours_.count(un.name()) || un.op_type() != "Unsqueeze" || uses[un.input(0)] != 1) continue;
      for (size_t j = 0; j < nodes->size(); ++j) {
        NodeProto& dq = (*nodes)[j];
        if (dq.op_type() != "DynamicQuantizeLinear" || dq.output_size() < 1 || dq.output(0) != un.input(0)) continue;
        const std::string x = dq.input(0), q4 = un.output(0), x4 = Fresh(x + "_as_2d");
        dq.set_input(0, x4);
        dq.set_output(0, q4);
        NodeProto lifted = Axis2("Unsqueeze", x, x4);
        nodes->erase(nodes->begin() + static_cast<long>(i));
        const size_t at = j < i ? j : j - 1;  // the DynamicQuantizeLinear's index now
        nodes->insert(nodes->begin() + static_cast<long>(at), lifted);
        return true;
      }
    }
    return false;
  }

  // An Unsqueeze of ours reading a Squeeze of ours: its readers read the Squeeze's
  // input instead; both go when nothing else reads them. True when it changed a node.
  bool CancelPairs(std::vector<NodeProto>* nodes) {
    std::map<std::string, std::string> squeezed;  // Squeeze output -> its input
    for (const NodeProto& n : *nodes)
      if (ours_.count(n.name()) && n.op_type() == "Squeeze") squeezed[n.output(0)] = n.input(0);
    std::map<std::string, int> uses = Uses(*nodes);
    for (size_t i = 0; i < nodes->size(); ++i) {
      const NodeProto& un = (*nodes)[i];
      if (!ours_.count(un.name()) || un.op_type() != "Unsqueeze" || !squeezed.count(un.input(0))) continue;
      bool graph_output = false;
      for (const auto& o : g_->output()) graph_output |= o.name() == un.output(0);
      if (graph_output) continue;
      const std::string from = un.output(0), to = squeezed[un.input(0)];
      for (NodeProto& n : *nodes)
        for (int k = 0; k < n.input_size(); ++k)
          if (n.input(k) == from) n.set_input(k, to);
      nodes->erase(nodes->begin() + static_cast<long>(i));
      uses = Uses(*nodes);
      for (size_t j = 0; j < nodes->size(); ++j)
        if (ours_.count((*nodes)[j].name()) && (*nodes)[j].op_type() == "Squeeze" && uses[(*nodes)[j].output(0)] == 0) {
          nodes->erase(nodes->begin() + static_cast<long>(j));
          break;
        }
      return true;
    }
    return false;
  }

  void Rewrite(const NodeProto& n, std::vector<NodeProto>* out) {
    if (n.op_type() == "Conv" || n.op_type() == "ConvInteger") {
      TensorProto* w = ConvWeight(n);
      const int64_t k = w->dims(2);
      w->set_dims(2, 1);
      w->add_dims(k);
    }
    const std::string x4 = Fresh(n.input(0) + "_as_2d"), y4 = Fresh(n.output(0) + "_2d");
    out->push_back(Axis2("Unsqueeze", n.input(0), x4));
    NodeProto two = n;
    two.set_input(0, x4);
    two.set_output(0, y4);
    for (auto& a : *two.mutable_attribute()) {
      const std::string& key = a.name();
      if (key == "kernel_shape" || key == "strides" || key == "dilations") {
        const int64_t v = a.ints(0);
        a.clear_ints();
        a.add_ints(1);
        a.add_ints(v);
      } else if (key == "pads") {
        const int64_t b = a.ints(0), e = a.ints(1);
        a.clear_ints();
        for (int64_t v : {int64_t{0}, b, int64_t{0}, e}) a.add_ints(v);
      }
    }
    out->push_back(two);
    out->push_back(Axis2("Squeeze", y4, n.output(0)));
  }

  onnx::GraphProto* g_;
  int opset_ = 13;
  std::map<std::string, TensorProto*> init_;
  std::map<std::string, int> uses_, names_;
  std::map<std::string, const NodeProto*> dq_;
  std::map<std::string, std::string> dynamic_q_;  // a DynamicQuantizeLinear's quantized output -> its input
  std::set<std::string> dynamic_scalars_;         // DynamicQuantizeLinear's scale and zero point outputs
  std::map<std::string, const TensorProto*> constants_;  // Constant nodes' values
  std::string axes_;
  std::set<std::string> ours_;  // the Squeeze / Unsqueeze nodes this pass made
};

}  // namespace

void expand_1d_ops(onnx::ModelProto* model) { Expander1d(model).Run(); }

}  // namespace onnx_import
}  // namespace edgeq
