// The calibrator's C API (edgeq_calibrator_*, edgeq_calibration_options_init in
// include/edgeq/edgeq.h), beside the calibrator it wraps: quant/ builds on runtime/,
// never the other way. Same conventions as runtime/c_api.cc (runtime/c_api_internal.h).
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "edgeq/edgeq.h"
#include "graph/format.h"
#include "quant/calibrator.h"
#include "runtime/c_api_internal.h"

struct edgeq_calibrator {
  std::unique_ptr<edgeq::quant::Calibrator> calibrator;
};

namespace {

using edgeq::capi::fail;
using edgeq::capi::guarded;
using edgeq::capi::to_c;

}  // namespace

extern "C" {

void edgeq_calibration_options_init(edgeq_calibration_options* options) {
  if (!options) return;
  std::memset(options, 0, sizeof(*options));
  options->struct_size = sizeof(*options);
  options->method = "minmax";
  options->per_channel = 1;
  options->act_dtype = EDGEQ_U8;
  options->percentile = 99.999;
}

edgeq_status edgeq_calibrator_create(const edgeq_model* float_model, const edgeq_session_options* options,
                                     edgeq_calibrator** calibrator) {
  if (!float_model || !calibrator) return fail(EDGEQ_INVALID_ARGUMENT, "null argument to edgeq_calibrator_create");
  *calibrator = nullptr;
  edgeq::SessionOptions o;
  if (edgeq_status st = edgeq::capi::session_options(options, &o)) return st;
  return guarded([&] {
    std::unique_ptr<edgeq::quant::Calibrator> c;
    edgeq_status st =
        to_c(edgeq::quant::Calibrator::create(float_model->model, o, edgeq::quant::ObserverOptions(), &c));
    if (st == EDGEQ_OK) *calibrator = new edgeq_calibrator{std::move(c)};
    return st;
  });
}

edgeq_status edgeq_calibrator_add_batch(edgeq_calibrator* calibrator, const float* const* inputs,
                                        size_t input_count) {
  if (!calibrator || (!inputs && input_count)) return fail(EDGEQ_INVALID_ARGUMENT, "null argument");
  for (size_t i = 0; i < input_count; ++i)
    if (!inputs[i]) return fail(EDGEQ_INVALID_ARGUMENT, "null input data");
  return guarded([&] {
    return to_c(calibrator->calibrator->add_batch(std::vector<const float*>(inputs, inputs + input_count)));
  });
}

edgeq_status edgeq_calibrator_add_batch_typed(edgeq_calibrator* calibrator, const edgeq_input_buffer* inputs,
                                              size_t input_count) {
  if (!calibrator || (!inputs && input_count)) return fail(EDGEQ_INVALID_ARGUMENT, "null argument");
  std::vector<edgeq::quant::InputBuffer> buffers;
  for (size_t i = 0; i < input_count; ++i) {
    if (!inputs[i].data) return fail(EDGEQ_INVALID_ARGUMENT, "null input data");
    edgeq::DType t;
    switch (inputs[i].dtype) {
      case EDGEQ_F32: t = edgeq::DType::kF32; break;
      case EDGEQ_S8: t = edgeq::DType::kS8; break;
      case EDGEQ_U8: t = edgeq::DType::kU8; break;
      case EDGEQ_S32: t = edgeq::DType::kS32; break;
      case EDGEQ_S64: t = edgeq::DType::kS64; break;
      case EDGEQ_BOOL: t = edgeq::DType::kBool; break;
      default: return fail(EDGEQ_INVALID_ARGUMENT, ("input " + std::to_string(i) + ": unknown dtype").c_str());
    }
    buffers.push_back({inputs[i].data, t, inputs[i].count});
  }
  return guarded([&] { return to_c(calibrator->calibrator->add_batch(buffers)); });
}

edgeq_status edgeq_calibrator_save_stats(const edgeq_calibrator* calibrator, const char* path) {
  if (!calibrator || !path) return fail(EDGEQ_INVALID_ARGUMENT, "null argument");
  return guarded([&] { return to_c(calibrator->calibrator->save_stats(path)); });
}

edgeq_status edgeq_calibrator_load_stats(edgeq_calibrator* calibrator, const char* path) {
  if (!calibrator || !path) return fail(EDGEQ_INVALID_ARGUMENT, "null argument");
  return guarded([&] { return to_c(calibrator->calibrator->load_stats(path)); });
}

edgeq_status edgeq_calibrator_write(const edgeq_calibrator* calibrator, const edgeq_calibration_options* options,
                                    const char* path) {
  if (!calibrator || !path) return fail(EDGEQ_INVALID_ARGUMENT, "null argument");
  if (options && options->struct_size != sizeof(edgeq_calibration_options))
    return fail(EDGEQ_INVALID_ARGUMENT, "edgeq_calibration_options not initialized (call edgeq_calibration_options_init)");
  edgeq_calibration_options defaults;
  edgeq_calibration_options_init(&defaults);
  const edgeq_calibration_options& c = options ? *options : defaults;
  return guarded([&] {
    edgeq::quant::CalibrationOptions o;
    if (!edgeq::quant::parse_method(c.method ? c.method : "minmax", &o.method))
      return to_c(edgeq::InvalidArgument(std::string("unknown calibration method '") + c.method + "'"));
    if (c.act_dtype != EDGEQ_U8 && c.act_dtype != EDGEQ_S8)
      return to_c(edgeq::InvalidArgument("act_dtype must be EDGEQ_U8 or EDGEQ_S8"));
    o.act_dtype = c.act_dtype == EDGEQ_S8 ? edgeq::DType::kS8 : edgeq::DType::kU8;
    o.per_channel_weights = c.per_channel != 0;
    o.observer.percentile = c.percentile;
    if (c.exclude) {
      std::string list = c.exclude;
      for (size_t at = 0; at <= list.size();) {
        const size_t comma = std::min(list.find(',', at), list.size());
        if (comma > at) o.exclude.push_back(list.substr(at, comma - at));
        at = comma + 1;
      }
    }
    edgeq::Graph g;
    edgeq_status st = to_c(calibrator->calibrator->quantize(o, &g));
    if (st != EDGEQ_OK) return st;
    g.producer = "edgeq_calibrator_write " + std::string(c.method ? c.method : "minmax");
    return to_c(edgeq::write_graph_file(g, path));
  });
}

void edgeq_calibrator_destroy(edgeq_calibrator* calibrator) { delete calibrator; }

}  // extern "C"
