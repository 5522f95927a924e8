// The C API (include/edgeq/edgeq.h) over Model and Session. Every entry point checks
// its pointers, converts Status to edgeq_status, records the message in a
// thread-local last error, and catches everything so no exception leaves the library.
#include "edgeq/edgeq.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "graph/format.h"
#include "quant/calibrator.h"
#include "runtime/session.h"

struct edgeq_model {
  std::shared_ptr<const edgeq::Model> model;
};

struct edgeq_session {
  std::unique_ptr<edgeq::Session> session;
};

struct edgeq_calibrator {
  std::unique_ptr<edgeq::quant::Calibrator> calibrator;
};

namespace {

thread_local std::string g_last_error;

edgeq_status to_c(const edgeq::Status& s) {
  if (s.ok()) return EDGEQ_OK;
  g_last_error = s.message();
  switch (s.code()) {
    case edgeq::StatusCode::kInvalidArgument: return EDGEQ_INVALID_ARGUMENT;
    case edgeq::StatusCode::kInvalidModel: return EDGEQ_INVALID_MODEL;
    case edgeq::StatusCode::kUnsupported: return EDGEQ_UNSUPPORTED;
    case edgeq::StatusCode::kIoError: return EDGEQ_IO_ERROR;
    case edgeq::StatusCode::kOutOfMemory: return EDGEQ_OUT_OF_MEMORY;
    default: return EDGEQ_INTERNAL;
  }
}

edgeq_status fail(edgeq_status code, const char* message) {
  g_last_error = message;
  return code;
}

// Runs f, turning exceptions (allocation failures in std containers) into statuses.
template <typename F>
edgeq_status guarded(F&& f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return fail(EDGEQ_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(EDGEQ_INTERNAL, e.what());
  } catch (...) {
    return fail(EDGEQ_INTERNAL, "unknown internal error");
  }
}

void fill_info(const edgeq::Tensor& t, edgeq_tensor_info* info) {
  info->name = t.name.c_str();
  info->dtype = static_cast<edgeq_dtype>(t.dtype);
  info->rank = static_cast<int32_t>(t.shape.size());
  info->shape = t.shape.data();
  info->num_elements = static_cast<size_t>(t.num_elements());
  info->byte_size = t.byte_size();
  info->num_scales = static_cast<int32_t>(t.quant.scale.size());
  info->scales = t.quant.scale.empty() ? nullptr : t.quant.scale.data();
  info->zero_points = t.quant.zero_point.empty() ? nullptr : t.quant.zero_point.data();
}

edgeq_status find_by_name(const edgeq_session* s, const char* name, size_t* index, bool inputs) {
  if (!s || !name || !index) return fail(EDGEQ_INVALID_ARGUMENT, "null argument");
  const edgeq::Graph& g = s->session->graph();
  const auto& list = inputs ? g.inputs : g.outputs;
  for (size_t i = 0; i < list.size(); ++i)
    if (g.tensors[list[i]].name == name) {
      *index = i;
      return EDGEQ_OK;
    }
  g_last_error = std::string("no ") + (inputs ? "input" : "output") + " named '" + name + "'";
  return EDGEQ_INVALID_ARGUMENT;
}

}  // namespace

extern "C" {

const char* edgeq_last_error(void) { return g_last_error.c_str(); }

const char* edgeq_status_string(edgeq_status status) {
  switch (status) {
    case EDGEQ_OK: return "ok";
    case EDGEQ_INVALID_ARGUMENT: return "invalid argument";
    case EDGEQ_INVALID_MODEL: return "invalid model";
    case EDGEQ_UNSUPPORTED: return "unsupported";
    case EDGEQ_IO_ERROR: return "I/O error";
    case EDGEQ_OUT_OF_MEMORY: return "out of memory";
    case EDGEQ_INTERNAL: return "internal error";
  }
  return "unknown status";
}

const char* edgeq_version(void) { return "0.1.0"; }

edgeq_status edgeq_model_load_file(const char* path, edgeq_model** model) {
  if (!path || !model) return fail(EDGEQ_INVALID_ARGUMENT, "null argument to edgeq_model_load_file");
  *model = nullptr;
  return guarded([&] {
    std::shared_ptr<const edgeq::Model> m;
    edgeq_status st = to_c(edgeq::Model::load_file(path, &m));
    if (st == EDGEQ_OK) *model = new edgeq_model{std::move(m)};
    return st;
  });
}

edgeq_status edgeq_model_load_memory(const void* data, size_t size, edgeq_model** model) {
  if (!data || !model) return fail(EDGEQ_INVALID_ARGUMENT, "null argument to edgeq_model_load_memory");
  *model = nullptr;
  return guarded([&] {
    std::shared_ptr<const edgeq::Model> m;
    edgeq_status st = to_c(edgeq::Model::load_memory(data, size, &m));
    if (st == EDGEQ_OK) *model = new edgeq_model{std::move(m)};
    return st;
  });
}

void edgeq_model_release(edgeq_model* model) { delete model; }

void edgeq_session_options_init(edgeq_session_options* options) {
  if (!options) return;
  options->struct_size = sizeof(edgeq_session_options);
  options->num_threads = 1;
  options->isa = nullptr;
}

namespace {

// Checks and converts C session options (null: the defaults).
edgeq_status session_options(const edgeq_session_options* options, edgeq::SessionOptions* out) {
  if (options && options->struct_size != sizeof(edgeq_session_options))
    return fail(EDGEQ_INVALID_ARGUMENT, "edgeq_session_options not initialized (call edgeq_session_options_init)");
  if (options) {
    out->num_threads = options->num_threads;
    out->isa = options->isa ? options->isa : "";
  }
  return EDGEQ_OK;
}

}  // namespace

edgeq_status edgeq_session_create(const edgeq_model* model, const edgeq_session_options* options,
                                  edgeq_session** session) {
  if (!model || !session) return fail(EDGEQ_INVALID_ARGUMENT, "null argument to edgeq_session_create");
  *session = nullptr;
  edgeq::SessionOptions o;
  if (edgeq_status st = session_options(options, &o)) return st;
  return guarded([&] {
    std::unique_ptr<edgeq::Session> s;
    edgeq_status st = to_c(edgeq::Session::create(model->model, o, &s));
    if (st == EDGEQ_OK) *session = new edgeq_session{std::move(s)};
    return st;
  });
}

void edgeq_session_destroy(edgeq_session* session) { delete session; }

size_t edgeq_session_input_count(const edgeq_session* s) { return s ? s->session->graph().inputs.size() : 0; }
size_t edgeq_session_output_count(const edgeq_session* s) { return s ? s->session->graph().outputs.size() : 0; }

edgeq_status edgeq_session_input_info(const edgeq_session* s, size_t index, edgeq_tensor_info* info) {
  if (!s || !info) return fail(EDGEQ_INVALID_ARGUMENT, "null argument");
  if (index >= s->session->graph().inputs.size()) return fail(EDGEQ_INVALID_ARGUMENT, "input index out of range");
  fill_info(s->session->input(index), info);
  return EDGEQ_OK;
}

edgeq_status edgeq_session_output_info(const edgeq_session* s, size_t index, edgeq_tensor_info* info) {
  if (!s || !info) return fail(EDGEQ_INVALID_ARGUMENT, "null argument");
  if (index >= s->session->graph().outputs.size()) return fail(EDGEQ_INVALID_ARGUMENT, "output index out of range");
  fill_info(s->session->output(index), info);
  return EDGEQ_OK;
}

edgeq_status edgeq_session_find_input(const edgeq_session* s, const char* name, size_t* index) {
  return find_by_name(s, name, index, true);
}
edgeq_status edgeq_session_find_output(const edgeq_session* s, const char* name, size_t* index) {
  return find_by_name(s, name, index, false);
}

edgeq_status edgeq_session_set_input_f32(edgeq_session* s, size_t index, const float* data, size_t count) {
  if (!s) return fail(EDGEQ_INVALID_ARGUMENT, "null session");
  return to_c(s->session->set_input_f32(index, data, count));
}

edgeq_status edgeq_session_set_input_raw(edgeq_session* s, size_t index, const void* data, size_t bytes) {
  if (!s) return fail(EDGEQ_INVALID_ARGUMENT, "null session");
  return to_c(s->session->set_input_raw(index, data, bytes));
}

edgeq_status edgeq_session_run(edgeq_session* s) {
  if (!s) return fail(EDGEQ_INVALID_ARGUMENT, "null session");
  s->session->run();
  return EDGEQ_OK;
}

edgeq_status edgeq_session_get_output_f32(const edgeq_session* s, size_t index, float* data, size_t count) {
  if (!s) return fail(EDGEQ_INVALID_ARGUMENT, "null session");
  return to_c(s->session->get_output_f32(index, data, count));
}

edgeq_status edgeq_session_get_output_raw(const edgeq_session* s, size_t index, void* data, size_t bytes) {
  if (!s) return fail(EDGEQ_INVALID_ARGUMENT, "null session");
  return to_c(s->session->get_output_raw(index, data, bytes));
}

size_t edgeq_session_arena_bytes(const edgeq_session* s) { return s ? s->session->arena_bytes() : 0; }

}  // extern "C"

// ---------------------------------------------------------------- calibration

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
  if (edgeq_status st = session_options(options, &o)) return st;
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
