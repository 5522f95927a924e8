// Data for every input of a model, from `--data` entries: the samples behind
// `edgeq calibrate` and `edgeq quant-report` for models with one input or several
// (a BERT encoder's int64 input_ids, attention_mask and token_type_ids).
//
// Entries, each a file or directory as tools/dataset.h reads them:
//  * NAME=PATH gives PATH to the input named NAME (repeat NAME to add more files);
//  * a plain PATH: for a one-input model every plain path feeds that input; for a
//    model with several inputs there must be exactly one plain path per input, taken
//    in graph input order.
// Named and plain entries are not mixed. Every input must end up with data, and every
// input the same number of samples (each file holds samples along axis 0); an integer
// input takes int64 or int32 NPY files, a float input float32 ones or images.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/status.h"
#include "quant/batch.h"
#include "tools/dataset.h"

namespace edgeq {

class InputData {
 public:
  static Status open(const std::vector<std::string>& entries, const Graph& g, const ImageOptions& images,
                     InputData* out);

  int64_t num_samples() const { return inputs_.empty() ? 0 : inputs_[0].num_samples(); }
  int32_t batch() const { return inputs_.empty() ? 1 : inputs_[0].batch(); }
  int64_t num_batches() const { return inputs_.empty() ? 0 : inputs_[0].num_batches(); }
  // Batch b of every input, typed for quant::set_batch (valid while this lives).
  std::vector<quant::InputBuffer> batch_buffers(int64_t b) const;

 private:
  std::vector<Dataset> inputs_;  // per graph input
};

}  // namespace edgeq
