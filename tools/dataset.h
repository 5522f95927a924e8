// Samples for one model input, from files: the data behind `edgeq run`, `eval`,
// `calibrate` and `quant-report`.
//
// Sources, given as a list of paths:
//  * NPY files (float32, or int8/uint8 raw for a quantized input, int64/int32 for an
//    integer s64/s32 input such as token ids), each holding any number of samples: the leading dimension counts samples in units of the model's
//    batch and the other dimensions must equal the input's;
//  * directories: every *.npy in them (sorted by name), or, when `images` is set,
//    every PNG/JPEG/BMP in them (sorted), decoded with stb_image, resized to the
//    input's height and width (or --size), scaled to [0, 1], normalized with mean/std
//    per channel, grayscale or RGB, laid out NCHW or NHWC.
// Samples are read once into memory and served batch by batch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/status.h"

namespace edgeq {

struct ImageOptions {
  bool images = false;        // directories hold images, not NPY files
  int32_t width = 0, height = 0;  // 0: the model input's
  std::vector<float> mean{0.f}, stddev{1.f};  // one value, or one per channel
  bool nchw = true;           // layout of the model input
};

class Dataset {
 public:
  // `input` is the model's input tensor (its shape[0] is the batch).
  static Status open(const std::vector<std::string>& paths, const Tensor& input, const ImageOptions& images,
                     Dataset* out);

  int64_t num_samples() const { return num_samples_; }
  int32_t batch() const { return batch_; }
  int64_t num_batches() const { return num_samples_ / batch_; }
  // "f4", "i1", "u1", "i4" or "i8": the dtype of the stored samples.
  const std::string& dtype() const { return dtype_; }
  // The bytes of batch b (batch() samples), in dtype().
  const uint8_t* batch_data(int64_t b) const { return data_.data() + b * batch_bytes(); }
  size_t batch_bytes() const { return sample_bytes_ * static_cast<size_t>(batch_); }
  size_t batch_elements() const {
    return batch_bytes() / (dtype_ == "i8" ? 8 : dtype_ == "f4" || dtype_ == "i4" ? 4 : 1);
  }

 private:
  Status add_npy(const std::string& path, const Tensor& input);
  Status add_image(const std::string& path, const Tensor& input, const ImageOptions& o);
  std::vector<uint8_t> data_;
  std::string dtype_;
  int64_t num_samples_ = 0;
  int32_t batch_ = 1;
  size_t sample_bytes_ = 0;
};

}  // namespace edgeq
