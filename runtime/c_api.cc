// The C API (include/edgeq/edgeq.h) over Model and Session. Every entry point checks
// its pointers, converts Status to edgeq_status, records the message in a
// thread-local last error, and catches everything so no exception leaves the library
// (runtime/c_api_internal.h). The calibrator's entry points live beside the
// calibrator, in quant/calibrator_c_api.cc.
#include "edgeq/edgeq.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "graph/format.h"
#include "runtime/c_api_internal.h"
#include "runtime/session.h"

namespace edgeq {
namespace capi {

std::string& last_error() {
  thread_local std::string message;
  return message;
}

edgeq_status to_c(const Status& s) {
  if (s.ok()) return EDGEQ_OK;
  last_error() = s.message();
  switch (s.code()) {
    case StatusCode::kInvalidArgument: return EDGEQ_INVALID_ARGUMENT;
    case StatusCode::kInvalidModel: return EDGEQ_INVALID_MODEL;
    case StatusCode::kUnsupported: return EDGEQ_UNSUPPORTED;
    case StatusCode::kIoError: return EDGEQ_IO_ERROR;
    case StatusCode::kOutOfMemory: return EDGEQ_OUT_OF_MEMORY;
    default: return EDGEQ_INTERNAL;
  }
}

edgeq_status fail(edgeq_status code, const char* message) {
  last_error() = message;
  return code;
}

// Checks and converts C session options (null: the defaults).
edgeq_status session_options(const edgeq_session_options* options, SessionOptions* out) {
  if (options && options->struct_size != sizeof(edgeq_session_options))
    return fail(EDGEQ_INVALID_ARGUMENT, "edgeq_session_options not initialized (call edgeq_session_options_init)");
  if (options) {
    out->num_threads = options->num_threads;
    out->isa = options->isa ? options->isa : "";
  }
  return EDGEQ_OK;
}

}  // namespace capi
}  // namespace edgeq

namespace {

using edgeq::capi::fail;
using edgeq::capi::guarded;
using edgeq::capi::to_c;

// edgeq_dtype is edgeq::DType value for value.
static_assert(EDGEQ_F32 == static_cast<int>(edgeq::DType::kF32) && EDGEQ_S8 == static_cast<int>(edgeq::DType::kS8) &&
                  EDGEQ_U8 == static_cast<int>(edgeq::DType::kU8) && EDGEQ_S32 == static_cast<int>(edgeq::DType::kS32) &&
                  EDGEQ_S64 == static_cast<int>(edgeq::DType::kS64) &&
                  EDGEQ_BOOL == static_cast<int>(edgeq::DType::kBool),
              "edgeq_dtype and DType differ");

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
  return fail(EDGEQ_INVALID_ARGUMENT, (std::string("no ") + (inputs ? "input" : "output") + " named '" + name + "'").c_str());
}

}  // namespace

extern "C" {

const char* edgeq_last_error(void) { return edgeq::capi::last_error().c_str(); }

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


edgeq_status edgeq_session_create(const edgeq_model* model, const edgeq_session_options* options,
                                  edgeq_session** session) {
  if (!model || !session) return fail(EDGEQ_INVALID_ARGUMENT, "null argument to edgeq_session_create");
  *session = nullptr;
  edgeq::SessionOptions o;
  if (edgeq_status st = edgeq::capi::session_options(options, &o)) return st;
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

edgeq_status edgeq_session_set_input_s64(edgeq_session* s, size_t index, const int64_t* data, size_t count) {
  if (!s) return fail(EDGEQ_INVALID_ARGUMENT, "null session");
  return to_c(s->session->set_input_s64(index, data, count));
}

edgeq_status edgeq_session_set_input_s32(edgeq_session* s, size_t index, const int32_t* data, size_t count) {
  if (!s) return fail(EDGEQ_INVALID_ARGUMENT, "null session");
  return to_c(s->session->set_input_s32(index, data, count));
}

edgeq_status edgeq_session_run(edgeq_session* s) {
  if (!s) return fail(EDGEQ_INVALID_ARGUMENT, "null session");
  return to_c(s->session->run());
}

edgeq_status edgeq_session_get_output_f32(const edgeq_session* s, size_t index, float* data, size_t count) {
  if (!s) return fail(EDGEQ_INVALID_ARGUMENT, "null session");
  return to_c(s->session->get_output_f32(index, data, count));
}

edgeq_status edgeq_session_get_output_raw(const edgeq_session* s, size_t index, void* data, size_t bytes) {
  if (!s) return fail(EDGEQ_INVALID_ARGUMENT, "null session");
  return to_c(s->session->get_output_raw(index, data, bytes));
}

edgeq_status edgeq_session_get_output_s64(const edgeq_session* s, size_t index, int64_t* data, size_t count) {
  if (!s) return fail(EDGEQ_INVALID_ARGUMENT, "null session");
  return to_c(s->session->get_output_s64(index, data, count));
}

size_t edgeq_session_arena_bytes(const edgeq_session* s) { return s ? s->session->arena_bytes() : 0; }

edgeq_status edgeq_model_get_stats(const edgeq_model* m, edgeq_model_stats* stats) {
  if (!m || !stats) return fail(EDGEQ_INVALID_ARGUMENT, "null argument");
  if (stats->struct_size != sizeof(edgeq_model_stats))
    return fail(EDGEQ_INVALID_ARGUMENT, "edgeq_model_stats.struct_size must be sizeof(edgeq_model_stats)");
  const edgeq::Model& model = *m->model;
  stats->load_seconds = model.load_seconds();
  stats->file_bytes = model.file_bytes();
  stats->packed_bytes = model.pack_cache().heap_bytes();
  stats->prepacked_bytes = model.prepacked_bytes();
  stats->packed_layers = model.pack_cache().builds();
  return EDGEQ_OK;
}

edgeq_status edgeq_session_get_stats(const edgeq_session* s, edgeq_session_stats* stats) {
  if (!s || !stats) return fail(EDGEQ_INVALID_ARGUMENT, "null argument");
  if (stats->struct_size != sizeof(edgeq_session_stats))
    return fail(EDGEQ_INVALID_ARGUMENT, "edgeq_session_stats.struct_size must be sizeof(edgeq_session_stats)");
  stats->create_seconds = s->session->create_seconds();
  stats->arena_bytes = s->session->arena_bytes();
  stats->own_bytes = s->session->packed_bytes();
  return EDGEQ_OK;
}

}  // extern "C"
