// Calibration mode (see calibrator.h).
//
// Every float activation (graph inputs and node outputs) gets one observer that keeps
// the method-independent statistics record (min/max, moving-average min/max and
// PyTorch's running histogram), so any method can be applied afterwards and the record
// can be cached. The float session runs with Session::run_observed(): each output is
// observed in the arena right after its producer ran, with no copy of the graph or of
// the data.
#include "quant/calibrator.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "graph/ir_util.h"
#include "quant/report.h"

namespace edgeq {
namespace quant {

Calibrator::~Calibrator() = default;

const Graph& Calibrator::graph() const { return session_->graph(); }

Status Calibrator::create(std::shared_ptr<const Model> float_model, const SessionOptions& options,
                          const ObserverOptions& collect, std::unique_ptr<Calibrator>* out) {
  if (!float_model) return InvalidArgument("null model");
  const Graph& g = float_model->graph();
  Status is_float = check_float_graph(g);
  if (!is_float.ok()) return Status(is_float.code(), "calibration needs a float model: " + is_float.message());
  std::unique_ptr<Calibrator> c(new Calibrator());
  SessionOptions observed = options;
  observed.fold_views = false;  // every activation is observed, none folded away
  EDGEQ_RETURN_IF_ERROR(Session::create(std::move(float_model), observed, &c->session_));
  std::vector<bool> seen(g.tensors.size(), false);
  auto add = [&](int32_t t) {
    if (t < 0 || seen[t] || g.tensors[t].is_constant() || g.tensors[t].dtype != DType::kF32) return;
    seen[t] = true;
    c->observed_.push_back(t);
  };
  for (int32_t t : g.inputs) add(t);
  for (const Node& n : g.nodes)
    for (int32_t t : n.outputs) add(t);
  ObserverOptions o = collect;
  o.axis = -1;                 // activations: per tensor
  o.collect_histogram = true;  // every method can be computed from the record
  for (size_t i = 0; i < c->observed_.size(); ++i) c->observers_.push_back(make_observer(Method::kMinMax, o));
  *out = std::move(c);
  return Status::Ok();
}

Status Calibrator::add_batch(const std::vector<const float*>& inputs) {
  std::vector<InputBuffer> typed;
  EDGEQ_RETURN_IF_ERROR(float_batch(graph(), inputs, &typed));
  return add_batch(typed);
}

Status Calibrator::add_batch(const std::vector<InputBuffer>& inputs) {
  const Graph& g = graph();
  EDGEQ_RETURN_IF_ERROR(set_batch(session_.get(), inputs));
  std::vector<int32_t> slot(g.tensors.size(), -1);
  for (size_t i = 0; i < observed_.size(); ++i) slot[observed_[i]] = static_cast<int32_t>(i);
  // Each record as it was before this batch, so a failed run (an id outside its
  // embedding table, found just before the Gather runs) leaves the statistics untouched.
  std::vector<std::pair<int32_t, TensorStats>> before;
  Status st;
  auto observe = [&](int32_t t) {
    if (slot[t] < 0 || !st.ok()) return;
    before.emplace_back(slot[t], observers_[slot[t]]->stats());
    st = observers_[slot[t]]->observe(reinterpret_cast<const float*>(session_->tensor_data(t)), g.tensors[t].shape);
  };
  for (int32_t t : g.inputs) observe(t);
  Status run = session_->run_observed([&](size_t node) {
    for (int32_t t : g.nodes[node].outputs) observe(t);
  });
  if (!run.ok() || !st.ok()) {
    for (auto it = before.rbegin(); it != before.rend(); ++it) {
      Observer& o = *observers_[it->first];
      if (it->second.batches == 0) o.reset();  // an empty record: as created
      else EDGEQ_RETURN_IF_ERROR(o.set_stats(std::move(it->second)));  // valid: it was the record
    }
    return run.ok() ? st : run;
  }
  ++batches_;
  return Status::Ok();
}

Status Calibrator::save_stats(const std::string& path) const {
  NamedStats named;
  for (size_t i = 0; i < observed_.size(); ++i)
    named.push_back({graph().tensors[observed_[i]].name, observers_[i]->stats()});
  return write_stats_file(path, named);
}

Status Calibrator::load_stats(const std::string& path) {
  NamedStats named;
  EDGEQ_RETURN_IF_ERROR(read_stats_file(path, &named));
  const Graph& g = graph();
  std::vector<bool> loaded(observed_.size(), false);
  uint64_t batches = 0;
  for (auto& [name, stats] : named) {
    const int32_t t = g.find_tensor(name);
    const auto it = std::find(observed_.begin(), observed_.end(), t);
    if (t < 0 || it == observed_.end())
      return InvalidArgument("'" + path + "' has statistics for '" + name + "', which is not an activation of this model");
    const size_t i = static_cast<size_t>(it - observed_.begin());
    batches = std::max(batches, stats.batches);
    Status s = observers_[i]->set_stats(std::move(stats));
    if (!s.ok()) return Status(s.code(), "'" + path + "', tensor '" + name + "': " + s.message());
    loaded[i] = true;
  }
  for (size_t i = 0; i < observed_.size(); ++i)
    if (!loaded[i])
      return InvalidArgument("'" + path + "' has no statistics for '" + g.tensors[observed_[i]].name +
                             "': it was made for another model");
  batches_ = static_cast<int64_t>(batches);
  return Status::Ok();
}

namespace {

// An int8 Softmax sees its input through one scale, so a range that reaches far below the
// rows' maxima spends its 256 steps on values whose weight is nil: an additive attention
// mask (-10000 at padded positions) leaves the unmasked scores a handful of steps. Under
// --full-int8 the range of a Softmax input is cut to its top kSoftmaxInputSpan: the values
// below saturate there, at exp(-kSoftmaxInputSpan) = 1.3e-14 of the range's top, which no
// int8 output step can see, while the kept values keep a step of 32 / 255.
constexpr float kSoftmaxInputSpan = 32.f;

//
// The same cut applies to the terms summed into a Softmax input, which a mask reaches
// before the scores do: T5's position bias plus its padding mask, (1 - m) * -1e4, is one
// tensor added to the scores. Its int8 range would span the mask's -1e4 and leave the
// bias none of its 256 steps; cut to its top kSoftmaxInputSpan, the masked entries
// saturate 32 below the bias's top, which the Softmax still weighs at most exp(-32)
// after the scores are added. A tensor gets the cut when every reader is an Add, or a
// data movement op, whose output gets it, and it is not a graph output (so no other use
// sees the saturated values).
std::vector<char> softmax_feeds(const Graph& g) {
  std::vector<char> cut(g.tensors.size(), 0);
  std::vector<std::vector<const Node*>> readers(g.tensors.size());
  std::vector<const Node*> producer(g.tensors.size(), nullptr);
  for (const Node& n : g.nodes) {
    for (int32_t t : n.inputs)
      if (t >= 0) readers[static_cast<size_t>(t)].push_back(&n);
    for (int32_t t : n.outputs) producer[static_cast<size_t>(t)] = &n;
    if (n.op == OpType::kSoftmax && !n.inputs.empty() && n.inputs[0] >= 0) cut[static_cast<size_t>(n.inputs[0])] = 1;
  }
  const auto passes_cut = [&](const Node& n) {
    return n.outputs.size() == 1 && (n.op == OpType::kAdd || op_has(n.op, kOpMovement)) &&
           cut[static_cast<size_t>(n.outputs[0])];
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t t = 0; t < cut.size(); ++t) {
      const Node* p = producer[t];
      if (!cut[t] || p == nullptr || !(p->op == OpType::kAdd || op_has(p->op, kOpMovement))) continue;
      const size_t terms = p->op == OpType::kAdd ? p->inputs.size() : 1;
      for (size_t i = 0; i < terms; ++i) {
        const int32_t o = p->inputs[i];
        if (o < 0 || cut[static_cast<size_t>(o)] || g.tensors[static_cast<size_t>(o)].is_constant() ||
            std::find(g.outputs.begin(), g.outputs.end(), o) != g.outputs.end())
          continue;
        const auto& rd = readers[static_cast<size_t>(o)];
        if (std::all_of(rd.begin(), rd.end(), [&](const Node* r) { return passes_cut(*r); })) {
          cut[static_cast<size_t>(o)] = 1;
          changed = true;
        }
      }
    }
  }
  return cut;
}

// top: the largest value observed in each tensor (NaN where none was).
Status clip_softmax_inputs(const Graph& g, const QScheme& scheme, const std::vector<float>& top,
                           std::vector<QuantParams>* q) {
  int32_t qmin, qmax;
  EDGEQ_RETURN_IF_ERROR(quant_range(scheme, &qmin, &qmax));
  const std::vector<char> cut = softmax_feeds(g);
  for (size_t t = 0; t < cut.size(); ++t) {
    if (!cut[t]) continue;
    QuantParams& p = (*q)[t];
    if (p.scale.size() != 1 || p.zero_point.size() != 1 || std::isnan(top[t])) continue;
    const float span = static_cast<float>(qmax - qmin) * p.scale[0];
    if (!(span > kSoftmaxInputSpan)) continue;
    float scale;
    int32_t zp;
    EDGEQ_RETURN_IF_ERROR(choose_qparams(scheme, top[t] - kSoftmaxInputSpan, top[t], &scale, &zp));
    p.scale = {scale};
    p.zero_point = {zp};
  }
  return Status::Ok();
}

// A Log reads its input relatively: int8 gives a non-negative tensor one absolute step, and
// the values below half of it become 0, whose log is the clamp's floor (or -inf). A
// log-mel front end's power spectrum and mel energies span orders of magnitude, so most
// of them fall there: an audio keyword spotter calibrated with them in int8 kept 3-20 dB.
// Where more than kLogLostFraction of a Log input's observed values are lost so (exact
// zeros are exact in int8 and do not count), the Log runs in float, and so does every
// producer on the way back whose own output loses as much (a mel MatMul, the power's
// squares and sum) and the producers of squared tensors (the STFT), until tensors that
// int8 keeps (a float graph input, the waveform). The Log's output, a well-scaled
// log-energy, stays int8 for what follows.
constexpr double kLogLostFraction = 0.02;

// The fraction of the observed values of tensor stats s, non-negative, that round to 0
// with the int8 step `step` without being 0.
double lost_below_step(const TensorStats& s, float step) {
  if (s.channels.size() != 1 || s.channels[0].count == 0 || !(step > 0.f)) return 0.0;
  const ChannelStats& c = s.channels[0];
  const RunningHistogram& h = c.hist;
  if (!(c.min >= 0.f) || !h.initialized() || !(h.max > h.min)) return 0.0;
  const double width = (static_cast<double>(h.max) - h.min) / static_cast<double>(h.counts.size());
  double below = 0.0;
  for (size_t b = 0; b < h.counts.size(); ++b) {
    const double hi = h.min + width * static_cast<double>(b + 1);
    if (hi > 0.5 * step) break;
    below += h.counts[b];
  }
  const double total = h.total();
  return total > 0.0 ? std::max(0.0, below - static_cast<double>(c.zeros)) / total : 0.0;
}

}  // namespace

std::vector<bool> lossy_input_float_nodes(const Graph& g, const std::vector<const TensorStats*>& stats,
                                        const std::vector<QuantParams>& q) {
  std::vector<bool> float_nodes(g.nodes.size(), false);
  const GraphUses uses = compute_uses(g);
  const auto lossy = [&](int32_t t) {
    const size_t i = static_cast<size_t>(t);
    return t >= 0 && stats[i] != nullptr && q[i].scale.size() == 1 &&
           lost_below_step(*stats[i], q[i].scale[0]) > kLogLostFraction;
  };
  // (tensor, forced): forced where a square reads it, through data movement.
  std::vector<std::pair<int32_t, bool>> todo;
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const Node& n = g.nodes[k];
    if (n.op != OpType::kLog || n.inputs.empty() || !lossy(n.inputs[0])) continue;
    float_nodes[k] = true;
    todo.push_back({n.inputs[0], false});
  }
  // A root (Pow with an exponent in (0, 1), Sqrt) that undoes a power above one through
  // means, sums and data movement: a generalized-mean pooling (GeM: x^p, average pool,
  // x^(1/p)) or an L2 norm (sqrt(sum(x^2)); an eps added before the root, as RMSNorm's,
  // ends the walk). The power's output spans its input's range to the
  // p-th power, so int8 rounds most of it to 0 where it is lossy, and the mean and the
  // root of what is left are wrong (a re-identification head kept 15 dB). The root, the
  // means between and the power run in float, from the power's int8 input: the mean is
  // dominated by the large values, whose relative error int8 keeps small.
  const auto power_above_one = [](const Node& n) {
    return (n.op == OpType::kMul && n.inputs.size() == 2 && n.inputs[0] == n.inputs[1]) ||
           (n.op == OpType::kPow && n.attrs.alpha > 1.f);
  };
  const auto passes_mean = [&](const Node& n) {
    const bool kind = n.op == OpType::kAvgPool2D || n.op == OpType::kGlobalAvgPool || n.op == OpType::kReduceMean ||
                      n.op == OpType::kReduceSum || op_has(n.op, kOpMovement);
    return kind && !n.inputs.empty() && n.inputs[0] >= 0 && !g.tensors[static_cast<size_t>(n.inputs[0])].is_constant();
  };
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const Node& n = g.nodes[k];
    const bool root = n.op == OpType::kSqrt || (n.op == OpType::kPow && n.attrs.alpha > 0.f && n.attrs.alpha < 1.f);
    if (!root || n.inputs.empty() || n.inputs[0] < 0) continue;
    std::vector<size_t> chain = {k};
    for (int32_t t = n.inputs[0]; t >= 0;) {
      const int p = uses.producer[static_cast<size_t>(t)];
      if (p < 0) break;
      const Node& pn = g.nodes[static_cast<size_t>(p)];
      if (power_above_one(pn)) {
        if (!lossy(pn.outputs[0])) break;
        for (size_t c : chain) float_nodes[c] = true;
        float_nodes[static_cast<size_t>(p)] = true;  // its input stays int8: a mean of powers
        break;                                       // hardly feels its small values' error
      }
      if (!passes_mean(pn)) break;
      chain.push_back(static_cast<size_t>(p));
      t = pn.inputs[0];
    }
  }
  std::vector<char> seen(g.tensors.size(), 0);  // bit 1: seen, bit 2: seen forced
  while (!todo.empty()) {
    const auto [t, forced] = todo.back();
    todo.pop_back();
    char& mark = seen[static_cast<size_t>(t)];
    if (mark & (forced ? 2 : 1)) continue;
    mark = static_cast<char>(mark | (forced ? 2 : 1));
    const int p = uses.producer[static_cast<size_t>(t)];
    if (p < 0) continue;
    float_nodes[static_cast<size_t>(p)] = true;
    // A power above one (a square: Mul of a tensor by itself, Pow 2; GeM's cube)
    // multiplies its input's relative error where that input is small: the walk goes on
    // into it whatever its own statistics, through data movement (an STFT's real and
    // imaginary slices) to the op that computes it.
    const Node& pn = g.nodes[static_cast<size_t>(p)];
    const bool square = power_above_one(pn);
    const bool pass = square || (forced && op_has(pn.op, kOpMovement));
    for (int32_t in : pn.inputs) {
      if (in < 0 || g.tensors[static_cast<size_t>(in)].is_constant()) continue;
      if (pass) todo.push_back({in, true});
      else if (lossy(in)) todo.push_back({in, false});
    }
  }
  return float_nodes;
}

Status Calibrator::activation_qparams(const CalibrationOptions& options, std::vector<QuantParams>* out) const {
  const Graph& g = graph();
  if (batches_ == 0) return InvalidArgument("no calibration data observed");
  QScheme scheme;
  scheme.dtype = options.act_dtype;
  std::vector<QuantParams>& q = *out;
  q.assign(g.tensors.size(), QuantParams());
  for (size_t i = 0; i < observed_.size(); ++i) {
    const TensorStats& stats = observers_[i]->stats();
    if (stats.channels.empty() || stats.channels[0].count == 0) continue;  // never saw a finite value
    if (stats.nonfinite > 0) continue;  // stays float (nonfinite_nodes)
    QuantParams& p = q[observed_[i]];
    Status s = compute_qparams(options.method, stats, options.observer, scheme, &p.scale, &p.zero_point);
    if (!s.ok()) return Status(s.code(), "tensor '" + g.tensors[observed_[i]].name + "': " + s.message());
  }
  if (options.full_int8) {
    std::vector<float> top(g.tensors.size(), std::nanf(""));
    for (size_t i = 0; i < observed_.size(); ++i) {
      const TensorStats& stats = observers_[i]->stats();
      if (!stats.channels.empty() && stats.channels[0].count > 0) top[observed_[i]] = stats.channels[0].max;
    }
    EDGEQ_RETURN_IF_ERROR(clip_softmax_inputs(g, scheme, top, &q));
  }
  return Status::Ok();
}

std::vector<bool> Calibrator::lossy_input_nodes(const std::vector<QuantParams>& q) const {
  std::vector<const TensorStats*> stats(graph().tensors.size(), nullptr);
  for (size_t i = 0; i < observed_.size(); ++i) stats[static_cast<size_t>(observed_[i])] = &observers_[i]->stats();
  return lossy_input_float_nodes(graph(), stats, q);
}

std::vector<std::string> Calibrator::lossy_input_nodes(const CalibrationOptions& options) const {
  std::vector<QuantParams> q;
  std::vector<std::string> names;
  if (!activation_qparams(options, &q).ok()) return names;
  const std::vector<bool> keep = lossy_input_nodes(q);
  for (size_t k = 0; k < keep.size(); ++k)
    if (keep[k]) names.push_back(graph().nodes[k].name);
  return names;
}

Status Calibrator::quantize(const CalibrationOptions& options, Graph* out) const {
  const Graph& g = graph();
  std::vector<QuantParams> q;
  EDGEQ_RETURN_IF_ERROR(activation_qparams(options, &q));
  GraphQuantOptions go;
  go.act_dtype = options.act_dtype;
  go.per_channel_weights = options.per_channel_weights;
  go.requant = options.requant;
  go.full_int8 = options.full_int8;
  go.float_nodes = options.float_nodes;
  go.float_nodes.resize(g.nodes.size(), false);
  const std::vector<bool> logs = lossy_input_nodes(q);
  for (size_t k = 0; k < logs.size(); ++k)
    if (logs[k]) go.float_nodes[k] = true;
  for (const auto& node_tensor : nonfinite_nodes()) {
    const auto it = std::find_if(g.nodes.begin(), g.nodes.end(),
                                 [&](const Node& n) { return n.name == node_tensor.first; });
    if (it != g.nodes.end()) go.float_nodes[static_cast<size_t>(it - g.nodes.begin())] = true;
  }
  for (const std::string& name : options.exclude) {
    const auto it = std::find_if(g.nodes.begin(), g.nodes.end(), [&](const Node& n) { return n.name == name; });
    if (it == g.nodes.end()) return InvalidArgument("--exclude: the model has no node named '" + name + "'");
    go.float_nodes[static_cast<size_t>(it - g.nodes.begin())] = true;
  }
  return quantize_graph(g, q, go, out);
}

std::vector<std::pair<std::string, std::string>> Calibrator::nonfinite_nodes() const {
  const Graph& g = graph();
  std::vector<int32_t> bad_tensor(g.tensors.size(), 0);
  for (size_t i = 0; i < observed_.size(); ++i)
    if (observers_[i]->stats().nonfinite > 0) bad_tensor[static_cast<size_t>(observed_[i])] = 1;
  std::vector<std::pair<std::string, std::string>> out;
  for (const Node& n : g.nodes) {
    for (const auto* list : {&n.inputs, &n.outputs}) {
      const auto t = std::find_if(list->begin(), list->end(), [&](int32_t x) { return x >= 0 && bad_tensor[x]; });
      if (t == list->end()) continue;
      out.emplace_back(n.name, g.tensors[static_cast<size_t>(*t)].name);
      break;
    }
  }
  return out;
}

std::vector<bool> choose_fallback(const Graph& float_graph, const ErrorReport& report, int32_t count,
                                  double sqnr_db) {
  std::vector<bool> keep(float_graph.nodes.size(), false);
  auto mark = [&](const LayerError& l) {
    for (size_t i = 0; i < float_graph.nodes.size(); ++i)
      if (float_graph.nodes[i].name == l.node) keep[i] = true;
  };
  std::vector<const LayerError*> layers;
  for (const LayerError& l : report.layers())
    if (l.quantized && l.isolated.count > 0) layers.push_back(&l);
  std::stable_sort(layers.begin(), layers.end(),
                   [](const LayerError* a, const LayerError* b) { return a->isolated.mse() > b->isolated.mse(); });
  for (size_t i = 0; i < layers.size() && i < static_cast<size_t>(std::max(count, 0)); ++i) mark(*layers[i]);
  if (!std::isnan(sqnr_db))
    for (const LayerError* l : layers)
      if (l->isolated.sqnr_db() < sqnr_db) mark(*l);
  return keep;
}

}  // namespace quant
}  // namespace edgeq
