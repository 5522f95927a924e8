// Per-layer quantization error (see report.h).
//
// The float model runs with an observation hook that copies every tensor a layer needs
// (its output for the comparison, its inputs for the isolated run) out of the arena;
// the int8 model runs with a hook that dequantizes each compared tensor and adds it to
// the sums. Isolated runs use a one-node model per layer, built once at creation.
// Integer tensors (token ids, the s32 indices a Cast makes for a Gather) are kept as
// int64 for the isolated runs that take them; they are never compared.
#include "quant/report.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "graph/format.h"

namespace edgeq {
namespace quant {

void ErrorSums::add(const float* f, const float* q, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const double a = f[i], b = q[i], e = a - b;
    ff += a * a;
    ee += e * e;
    fq += a * b;
    qq += b * b;
  }
  count += static_cast<int64_t>(n);
}

double ErrorSums::sqnr_db() const {
  if (ee == 0.0) return std::numeric_limits<double>::infinity();
  if (ff == 0.0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(ff / ee);
}

double ErrorSums::cosine() const {
  if (ff == 0.0 && qq == 0.0) return 1.0;
  if (ff == 0.0 || qq == 0.0) return 0.0;
  return fq / std::sqrt(ff * qq);
}

namespace {

// The float tensor an int8-model tensor stands for: the same name, or the name before
// quantize_graph() added a "_quantized" / "_dequantized" suffix.
int32_t float_counterpart(const Graph& fg, const std::string& name) {
  int32_t t = fg.find_tensor(name);
  if (t >= 0) return t;
  for (const char* suffix : {"_quantized", "_dequantized"}) {
    const std::string s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0)
      return fg.find_tensor(name.substr(0, name.size() - s.size()));
  }
  return -1;
}

// Tensor memory as floats: dequantized for int8/uint8 (per tensor), copied for float.
void to_float(const Tensor& t, const uint8_t* data, std::vector<float>* out) {
  const size_t n = static_cast<size_t>(t.num_elements());
  out->resize(n);
  if (t.dtype == DType::kF32) {
    std::copy_n(reinterpret_cast<const float*>(data), n, out->data());
    return;
  }
  const float s = t.quant.scale[0];
  const int32_t z = t.quant.zero_point[0];
  for (size_t i = 0; i < n; ++i) {
    const int32_t q = t.dtype == DType::kS8 ? static_cast<int8_t>(data[i]) : data[i];
    (*out)[i] = static_cast<float>(q - z) * s;
  }
}

Status make_session(const Graph& g, const SessionOptions& options, std::unique_ptr<Session>* out) {
  std::vector<uint8_t> bytes;
  EDGEQ_RETURN_IF_ERROR(serialize_graph(g, &bytes));
  std::shared_ptr<const Model> m;
  EDGEQ_RETURN_IF_ERROR(Model::load_memory(bytes.data(), bytes.size(), &m));
  return Session::create(m, options, out);
}

int32_t argmax(const float* v, int32_t n) { return static_cast<int32_t>(std::max_element(v, v + n) - v); }

}  // namespace

// A one-node model of an int8 layer, and the float tensors that feed its inputs.
struct ErrorReport::Isolated {
  std::unique_ptr<Session> session;
  std::vector<int32_t> sources;  // per sub-model input: float-graph tensor index
};

ErrorReport::~ErrorReport() = default;

Status ErrorReport::create(std::shared_ptr<const Model> float_model, std::shared_ptr<const Model> int8_model,
                           const SessionOptions& options, std::unique_ptr<ErrorReport>* out) {
  std::unique_ptr<ErrorReport> r(new ErrorReport());
  const Graph& fg = float_model->graph();
  const Graph& qg = int8_model->graph();
  if (fg.inputs.size() != qg.inputs.size() || fg.outputs.size() != qg.outputs.size())
    return InvalidArgument("the float and int8 models have different inputs or outputs");
  for (size_t i = 0; i < fg.inputs.size(); ++i) {
    const Tensor &f = fg.tensors[fg.inputs[i]], &q = qg.tensors[qg.inputs[i]];
    if (f.shape != q.shape)
      return InvalidArgument("input " + std::to_string(i) + " ('" + f.name +
                             "') has different shapes in the float and int8 models");
    if (is_integer_valued(f.dtype) != is_integer_valued(q.dtype))
      return InvalidArgument("input " + std::to_string(i) + " ('" + f.name + "') is " + dtype_name(f.dtype) +
                             " in the float model, " + dtype_name(q.dtype) + " in the int8 model");
  }
  for (size_t i = 0; i < fg.outputs.size(); ++i) {
    const Tensor &f = fg.tensors[fg.outputs[i]], &q = qg.tensors[qg.outputs[i]];
    if (f.num_elements() != q.num_elements())
      return InvalidArgument("output " + std::to_string(i) + " ('" + f.name +
                             "') has different sizes in the float and int8 models");
    r->output_names_.push_back(f.name);
  }
  r->outputs_.resize(fg.outputs.size());
  SessionOptions observed = options;
  observed.fold_views = false;  // both sessions' activations are compared, none folded away
  EDGEQ_RETURN_IF_ERROR(Session::create(float_model, observed, &r->float_));
  EDGEQ_RETURN_IF_ERROR(Session::create(int8_model, observed, &r->int8_));
  const Tensor& y = fg.tensors[fg.outputs[0]];
  r->classifier_ = fg.outputs.size() == 1 && y.shape.size() == 2 && y.shape[1] > 1;

  for (size_t j = 0; j < qg.nodes.size(); ++j) {
    const Node& n = qg.nodes[j];
    if (op_has(n.op, kOpConversion)) continue;
    const Tensor& t = qg.tensors[n.outputs[0]];
    const int32_t ft = fg.find_tensor(t.name);
    if (ft < 0 || fg.tensors[ft].shape != t.shape || is_integer_valued(t.dtype)) continue;  // int32 / int64: no error
    LayerError e;
    e.node = n.name;
    e.op = op_name(n.op);
    e.tensor = t.name;
    e.node_index = static_cast<int32_t>(j);
    e.quantized = is_quantized_type(t.dtype);
    r->layers_.push_back(e);
    r->float_tensor_.push_back(ft);

    // The isolated one-node model, for int8 layers whose inputs all have float sources.
    std::unique_ptr<Isolated> iso;
    if (e.quantized && n.outputs.size() == 1) {
      iso = std::make_unique<Isolated>();
      Graph sub;
      sub.requant = qg.requant;
      sub.producer = "isolated " + n.name;
      Node sn = n;
      std::vector<std::pair<int32_t, int32_t>> seen;  // (int8 tensor, sub tensor)
      for (int32_t& in : sn.inputs) {
        if (in < 0) continue;
        auto it = std::find_if(seen.begin(), seen.end(), [&](const auto& p) { return p.first == in; });
        if (it != seen.end()) {
          in = it->second;
          continue;
        }
        const Tensor& src = qg.tensors[in];
        const int32_t sub_index = sub.add_tensor(src);
        if (!src.is_constant()) {
          const int32_t f = float_counterpart(fg, src.name);
          if (f < 0 || fg.tensors[f].shape != src.shape) {
            iso.reset();
            break;
          }
          sub.inputs.push_back(sub_index);
          iso->sources.push_back(f);
        }
        seen.push_back({in, sub_index});
        in = sub_index;
      }
      if (iso) {
        sn.outputs = {sub.add_tensor(t)};
        sub.outputs = sn.outputs;
        sub.nodes.push_back(sn);
        SessionOptions one = options;
        EDGEQ_RETURN_IF_ERROR(make_session(sub, one, &iso->session));
      }
    }
    r->isolated_.push_back(std::move(iso));
  }
  *out = std::move(r);
  return Status::Ok();
}

Status ErrorReport::add_batch(const std::vector<const float*>& inputs) {
  std::vector<InputBuffer> typed;
  EDGEQ_RETURN_IF_ERROR(float_batch(float_->graph(), inputs, &typed));
  return add_batch(typed);
}

Status ErrorReport::add_batch(const std::vector<InputBuffer>& inputs) {
  const Graph& fg = float_->graph();
  const Graph& qg = int8_->graph();
  EDGEQ_RETURN_IF_ERROR(set_batch(float_.get(), inputs));
  EDGEQ_RETURN_IF_ERROR(set_batch(int8_.get(), inputs));

  // Which float tensors to keep, and their values for this batch: float tensors as
  // float, integer ones as int64.
  std::vector<bool> keep(fg.tensors.size(), false);
  for (int32_t t : float_tensor_) keep[t] = true;
  for (const auto& iso : isolated_)
    if (iso)
      for (int32_t t : iso->sources) keep[t] = true;
  std::vector<std::vector<float>> values(fg.tensors.size());
  std::vector<std::vector<int64_t>> ints(fg.tensors.size());
  auto save = [&](int32_t t) {
    const Tensor& tensor = fg.tensors[t];
    if (!is_integer_valued(tensor.dtype)) {
      to_float(tensor, float_->tensor_data(t), &values[t]);
      return;
    }
    std::vector<int64_t>& v = ints[t];
    v.resize(static_cast<size_t>(tensor.num_elements()));
    const uint8_t* p = float_->tensor_data(t);
    for (size_t k = 0; k < v.size(); ++k)
      v[k] = tensor.dtype == DType::kS64    ? reinterpret_cast<const int64_t*>(p)[k]
             : tensor.dtype == DType::kBool ? int64_t{p[k] != 0}
                                            : reinterpret_cast<const int32_t*>(p)[k];
  };
  for (int32_t t : fg.inputs) save(t);
  EDGEQ_RETURN_IF_ERROR(float_->run_observed([&](size_t node) {
    for (int32_t t : fg.nodes[node].outputs)
      if (keep[t]) save(t);
  }));

  // Propagated: the int8 model end to end.
  std::vector<int32_t> layer_of(qg.nodes.size(), -1);
  for (size_t l = 0; l < layers_.size(); ++l) layer_of[layers_[l].node_index] = static_cast<int32_t>(l);
  std::vector<float> q;
  EDGEQ_RETURN_IF_ERROR(int8_->run_observed([&](size_t node) {
    const int32_t l = layer_of[node];
    if (l < 0) return;
    const int32_t t = qg.nodes[node].outputs[0];
    to_float(qg.tensors[t], int8_->tensor_data(t), &q);
    const std::vector<float>& f = values[float_tensor_[l]];
    layers_[l].propagated.add(f.data(), q.data(), std::min(f.size(), q.size()));
  }));
  std::vector<float> out;
  for (size_t i = 0; i < fg.outputs.size(); ++i) {
    if (is_integer_valued(fg.tensors[fg.outputs[i]].dtype) || is_integer_valued(qg.tensors[qg.outputs[i]].dtype)) continue;
    out.resize(static_cast<size_t>(fg.tensors[fg.outputs[i]].num_elements()));
    q.resize(out.size());
    EDGEQ_RETURN_IF_ERROR(float_->get_output_f32(i, out.data(), out.size()));
    EDGEQ_RETURN_IF_ERROR(int8_->get_output_f32(i, q.data(), q.size()));
    outputs_[i].add(out.data(), q.data(), out.size());
  }

  // Isolated: each int8 layer on float inputs.
  for (size_t l = 0; l < layers_.size(); ++l) {
    Isolated* iso = isolated_[l].get();
    if (!iso) continue;
    for (size_t i = 0; i < iso->sources.size(); ++i) {
      const int32_t src = iso->sources[i];
      if (is_integer_valued(fg.tensors[src].dtype)) {
        EDGEQ_RETURN_IF_ERROR(iso->session->set_input_s64(i, ints[src].data(), ints[src].size()));
      } else {
        EDGEQ_RETURN_IF_ERROR(iso->session->set_input_f32(i, values[src].data(), values[src].size()));
      }
    }
    EDGEQ_RETURN_IF_ERROR(iso->session->run());
    const std::vector<float>& f = values[float_tensor_[l]];
    q.resize(f.size());
    EDGEQ_RETURN_IF_ERROR(iso->session->get_output_f32(0, q.data(), q.size()));
    layers_[l].isolated.add(f.data(), q.data(), f.size());
  }

  if (classifier_) {
    const Tensor& y = fg.tensors[fg.outputs[0]];
    const int32_t batch = y.shape[0], classes = y.shape[1];
    std::vector<float> yf(static_cast<size_t>(y.num_elements())), yq(yf.size());
    EDGEQ_RETURN_IF_ERROR(float_->get_output_f32(0, yf.data(), yf.size()));
    EDGEQ_RETURN_IF_ERROR(int8_->get_output_f32(0, yq.data(), yq.size()));
    for (int32_t b = 0; b < batch; ++b)
      top1_agree_ += argmax(yf.data() + b * classes, classes) == argmax(yq.data() + b * classes, classes);
    samples_ += batch;
  } else {
    samples_ += fg.tensors[fg.inputs[0]].shape.empty() ? 1 : fg.tensors[fg.inputs[0]].shape[0];
  }
  return Status::Ok();
}

}  // namespace quant
}  // namespace edgeq
