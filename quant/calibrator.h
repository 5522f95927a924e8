// Calibration mode: a float model runs on representative data while an observer
// watches every activation in place; the observed statistics then give each
// activation its qparams and quantize_graph() writes the int8 model.
//
//   Calibrator::create(float_model) -> add_batch(...) per batch -> quantize(options)
//
// Statistics can be saved (save_stats) and loaded into a new calibrator for the same
// model (load_stats), so re-quantizing with another method, exclusion list or fallback
// does not need the data again. Mixed precision: layers named in `exclude`, the
// `fallback` most sensitive ones (largest isolated output MSE, measured by
// quant::ErrorReport on the batches given to choose_fallback) and every layer under
// `fallback_sqnr_db` stay in float.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/status.h"
#include "quant/batch.h"
#include "quant/observer.h"
#include "quant/quantize_graph.h"
#include "quant/report.h"
#include "runtime/session.h"

namespace edgeq {
namespace quant {

struct CalibrationOptions {
  Method method = Method::kMinMax;
  ObserverOptions observer;
  DType act_dtype = DType::kU8;       // activations: uint8 or int8 (asymmetric)
  bool per_channel_weights = true;    // weights: symmetric int8, narrow range
  RequantScheme requant = RequantScheme::kFp32;
  std::vector<std::string> exclude;   // node names kept in float
  std::vector<bool> float_nodes;      // per float-graph node, kept in float (fallback)
  bool full_int8 = false;             // LayerNorm, Softmax, GELU, residual Adds in int8 too
};

// The nodes kept in float because int8 would round most of a tensor they read to 0
// (calibrator.cc): a Log's input (a log-mel front end: the Log and its producers back to
// the tensors int8 represents), and a power above one undone by a root through means
// (generalized-mean pooling, root mean squares: the power, the means and the root).
// stats per tensor (null where none), q the activations' parameters.
std::vector<bool> lossy_input_float_nodes(const Graph& g, const std::vector<const TensorStats*>& stats,
                                          const std::vector<QuantParams>& q);

class Calibrator {
 public:
  // `collect` sets what the statistics record holds: the moving-average constant and
  // the histogram's bins (it is always collected).
  static Status create(std::shared_ptr<const Model> float_model, const SessionOptions& options,
                       const ObserverOptions& collect, std::unique_ptr<Calibrator>* out);
  ~Calibrator();

  const Graph& graph() const;
  // One batch: inputs[i] holds graph input i in the input's shape, float32 for a float
  // input and int64 / int32 for an integer one (token ids, masks: see batch.h). Ids
  // outside an embedding table fail the run with an error naming the Gather node.
  Status add_batch(const std::vector<InputBuffer>& inputs);
  // The same for a model whose inputs are all float: inputs[i] holds input i as float32.
  Status add_batch(const std::vector<const float*>& inputs);
  int64_t batches() const { return batches_; }

  Status save_stats(const std::string& path) const;
  Status load_stats(const std::string& path);

  // The int8 graph for these options from the statistics gathered so far. A tensor
  // that held non-finite values (an additive attention mask of 0 and -inf) has no int8
  // form: it stays float, and so do the nodes that read or write it (named in
  // nonfinite_nodes(); -inf quantized to the lowest level would drop the mask).
  Status quantize(const CalibrationOptions& options, Graph* out) const;
  // Nodes quantize() keeps in float for their non-finite tensors, with one such tensor each.
  std::vector<std::pair<std::string, std::string>> nonfinite_nodes() const;
  // Nodes quantize() keeps in float for what int8 would round to 0 before a Log or a root
  // (lossy_input_float_nodes: a log-mel front end, a generalized-mean pooling), under
  // these options.
  std::vector<std::string> lossy_input_nodes(const CalibrationOptions& options) const;

 private:
  Status activation_qparams(const CalibrationOptions& options, std::vector<QuantParams>* q) const;
  std::vector<bool> lossy_input_nodes(const std::vector<QuantParams>& q) const;
  Calibrator() = default;
  std::unique_ptr<Session> session_;
  std::vector<int32_t> observed_;  // activation tensors with a statistics record
  std::vector<std::unique_ptr<Observer>> observers_;  // per observed_ entry
  int64_t batches_ = 0;
};

// Nodes (of the float graph) to keep in float: the `count` layers with the largest
// isolated MSE and every quantized layer whose isolated SQNR is below `sqnr_db` (NaN:
// no threshold), from a report of the all-int8 model.
std::vector<bool> choose_fallback(const Graph& float_graph, const ErrorReport& report, int32_t count,
                                  double sqnr_db);

}  // namespace quant
}  // namespace edgeq
