// edgeq C++ wrapper: RAII ownership over the C API (edgeq.h). Header-only, no
// exceptions: calls return edgeq_status, and error() gives the message.
//
//   edgeq::api::Model model;
//   if (model.load("net.edgeq") != EDGEQ_OK) { std::cerr << edgeq::api::error(); return 1; }
//   edgeq::api::Session session;
//   session.create(model);
//   session.set_input(0, pixels);            // std::vector<float>
//   session.run();
//   std::vector<float> scores = session.output_f32(0);
#ifndef EDGEQ_EDGEQ_HPP_
#define EDGEQ_EDGEQ_HPP_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "edgeq/edgeq.h"

namespace edgeq {
namespace api {

inline std::string error() { return edgeq_last_error(); }

class Model {
 public:
  Model() = default;
  ~Model() { edgeq_model_release(model_); }
  Model(Model&& o) noexcept : model_(std::exchange(o.model_, nullptr)) {}
  Model& operator=(Model&& o) noexcept {
    std::swap(model_, o.model_);
    return *this;
  }
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  edgeq_status load(const std::string& path) {
    reset();
    return edgeq_model_load_file(path.c_str(), &model_);
  }
  edgeq_status load(const void* data, size_t size) {
    reset();
    return edgeq_model_load_memory(data, size, &model_);
  }
  const edgeq_model* get() const { return model_; }
  // Load time, file bytes and the packed weights the model holds (zeros on error).
  edgeq_model_stats stats() const {
    edgeq_model_stats s{};
    s.struct_size = sizeof(s);
    if (edgeq_model_get_stats(model_, &s) != EDGEQ_OK) s = edgeq_model_stats{};
    return s;
  }

 private:
  void reset() {
    edgeq_model_release(model_);
    model_ = nullptr;
  }
  edgeq_model* model_ = nullptr;
};

class Session {
 public:
  Session() = default;
  ~Session() { edgeq_session_destroy(session_); }
  Session(Session&& o) noexcept : session_(std::exchange(o.session_, nullptr)) {}
  Session& operator=(Session&& o) noexcept {
    std::swap(session_, o.session_);
    return *this;
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  edgeq_status create(const Model& model, int num_threads = 1, const char* isa = nullptr) {
    edgeq_session_destroy(session_);
    session_ = nullptr;
    edgeq_session_options o;
    edgeq_session_options_init(&o);
    o.num_threads = num_threads;
    o.isa = isa;
    return edgeq_session_create(model.get(), &o, &session_);
  }

  size_t input_count() const { return edgeq_session_input_count(session_); }
  size_t output_count() const { return edgeq_session_output_count(session_); }
  edgeq_tensor_info input_info(size_t i) const {
    edgeq_tensor_info info{};
    edgeq_session_input_info(session_, i, &info);
    return info;
  }
  edgeq_tensor_info output_info(size_t i) const {
    edgeq_tensor_info info{};
    edgeq_session_output_info(session_, i, &info);
    return info;
  }
  edgeq_status set_input(size_t i, const std::vector<float>& values) {
    return edgeq_session_set_input_f32(session_, i, values.data(), values.size());
  }
  edgeq_status set_input_raw(size_t i, const void* data, size_t bytes) {
    return edgeq_session_set_input_raw(session_, i, data, bytes);
  }
  // Integer inputs (token ids, masks) of an s32 or s64 tensor.
  edgeq_status set_input(size_t i, const std::vector<int64_t>& values) {
    return edgeq_session_set_input_s64(session_, i, values.data(), values.size());
  }
  edgeq_status set_input(size_t i, const std::vector<int32_t>& values) {
    return edgeq_session_set_input_s32(session_, i, values.data(), values.size());
  }
  // Fails (see edgeq::api::error()) when a Gather index is outside its table.
  edgeq_status run() { return edgeq_session_run(session_); }
  // Dequantized output values (empty on error; see edgeq::api::error()).
  std::vector<float> output_f32(size_t i) const {
    std::vector<float> v(output_info(i).num_elements);
    if (edgeq_session_get_output_f32(session_, i, v.data(), v.size()) != EDGEQ_OK) v.clear();
    return v;
  }
  // The values of an s32 or s64 output (empty on error).
  std::vector<int64_t> output_s64(size_t i) const {
    std::vector<int64_t> v(output_info(i).num_elements);
    if (edgeq_session_get_output_s64(session_, i, v.data(), v.size()) != EDGEQ_OK) v.clear();
    return v;
  }
  edgeq_status output_raw(size_t i, void* data, size_t bytes) const {
    return edgeq_session_get_output_raw(session_, i, data, bytes);
  }
  size_t arena_bytes() const { return edgeq_session_arena_bytes(session_); }
  // Creation time, arena and own bytes (zeros on error).
  edgeq_session_stats stats() const {
    edgeq_session_stats s{};
    s.struct_size = sizeof(s);
    if (edgeq_session_get_stats(session_, &s) != EDGEQ_OK) s = edgeq_session_stats{};
    return s;
  }
  edgeq_session* get() { return session_; }

 private:
  edgeq_session* session_ = nullptr;
};

}  // namespace api
}  // namespace edgeq

#endif  // EDGEQ_EDGEQ_HPP_
