// Per-layer quantization error of an int8 model against the float model it came from.
//
// For every node of the int8 model that has a float counterpart (same output tensor
// name), over all batches fed:
//  * propagated: both models run end to end on the same float inputs; the int8 tensor,
//    dequantized, is compared with the float one (errors accumulate through the net);
//  * isolated: the node runs alone in int8, fed the float model's values of its inputs
//    (quantized with the int8 model's input qparams), so the figure is that layer's own
//    error. Its mean squared error is the sensitivity mixed precision ranks layers by.
// Figures: SQNR in dB, 10 log10(sum f^2 / sum (f - q)^2) (infinite when equal), cosine
// similarity, and MSE. Each float graph output is also compared as a whole, by
// position (whatever the int8 model names it): the end-to-end figure of a route. For a classifier (one [batch, classes] output) the share of
// samples whose top-1 class agrees between the two models is counted too.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "graph/status.h"
#include "quant/batch.h"
#include "runtime/session.h"

namespace edgeq {
namespace quant {

struct ErrorSums {
  double ff = 0, ee = 0, fq = 0, qq = 0;  // sum f^2, (f-q)^2, f*q, q^2
  int64_t count = 0;
  void add(const float* f, const float* q, size_t n);
  double sqnr_db() const;
  double cosine() const;
  double mse() const { return count ? ee / static_cast<double>(count) : 0.0; }
};

struct LayerError {
  std::string node, op, tensor;
  int32_t node_index = -1;  // in the int8 model
  bool quantized = false;   // the node runs in int8 (not a float island)
  ErrorSums isolated, propagated;
};

class ErrorReport {
 public:
  static Status create(std::shared_ptr<const Model> float_model, std::shared_ptr<const Model> int8_model,
                       const SessionOptions& options, std::unique_ptr<ErrorReport>* out);
  ~ErrorReport();

  // One batch: inputs[i] holds graph input i of the float model in its shape and
  // dtype (float32, or int64 / int32 for an integer input: batch.h); both models get
  // the same values. A run that fails (an id outside its embedding table) is an error.
  Status add_batch(const std::vector<InputBuffer>& inputs);
  // The same for a model whose inputs are all float.
  Status add_batch(const std::vector<const float*>& inputs);

  // Every compared layer, in int8 execution order.
  const std::vector<LayerError>& layers() const { return layers_; }
  // Per graph output of the float model: its name and the int8 model's output at the
  // same position against it (count 0 for an integer output, not compared).
  const std::vector<std::string>& output_names() const { return output_names_; }
  const std::vector<ErrorSums>& outputs() const { return outputs_; }
  bool classifier() const { return classifier_; }
  int64_t samples() const { return samples_; }
  int64_t top1_agreement() const { return top1_agree_; }

 private:
  ErrorReport() = default;
  struct Isolated;
  std::unique_ptr<Session> float_, int8_;
  std::vector<std::unique_ptr<Isolated>> isolated_;  // per layer, may be null
  std::vector<LayerError> layers_;
  std::vector<int32_t> float_tensor_;  // per layer: its output tensor in the float graph
  std::vector<std::string> output_names_;
  std::vector<ErrorSums> outputs_;
  bool classifier_ = false;
  int64_t samples_ = 0, top1_agree_ = 0;
};

}  // namespace quant
}  // namespace edgeq
