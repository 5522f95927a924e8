// Fuzzer: a .edgeq file from memory through the C API, as an app loads an untrusted
// model: edgeq_model_load_memory, then (for models small enough to run, fuzz_util.h)
// a session at the reference level and one at the best level the CPU has, each run on
// inputs made from the file's size.
//
// Besides crashes and sanitizer reports it checks two promises: a model that loads
// gets a session or an error status with a message, and a model with no float tensor
// gives the same output bytes at every kernel level (kernels/ref is the oracle).
// Integer inputs (s32 / s64 ids) get small integers from the seed, some outside any
// table: a run may then fail, with EDGEQ_INVALID_ARGUMENT and a message, never read
// outside the table (ASan would see it).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "edgeq/edgeq.h"
#include "fuzz/fuzz_util.h"
#include "runtime/c_api_internal.h"

namespace {

// The outputs of one run at `isa`, concatenated; empty when the session failed.
std::vector<uint8_t> run_at(const edgeq_model* model, const char* isa, size_t seed) {
  edgeq_session_options o;
  edgeq_session_options_init(&o);
  o.isa = isa;
  edgeq_session* session = nullptr;
  if (edgeq_session_create(model, &o, &session) != EDGEQ_OK) {
    if (edgeq_last_error()[0] == '\0') std::abort();  // every error has a message
    return {};
  }
  for (size_t i = 0; i < edgeq_session_input_count(session); ++i) {
    edgeq_tensor_info info;
    if (edgeq_session_input_info(session, i, &info) != EDGEQ_OK) std::abort();
    const std::vector<float> x = edgeq::fuzz::floats_from_seed(info.num_elements, static_cast<uint32_t>(seed + i));
    if (info.dtype == EDGEQ_S32 || info.dtype == EDGEQ_S64 || info.dtype == EDGEQ_BOOL) {
      std::vector<int64_t> ids(x.size());  // ids in [-16, 16); bools: non-zero is true
      for (size_t k = 0; k < x.size(); ++k) ids[k] = static_cast<int64_t>(x[k] * 8.f);
      if (edgeq_session_set_input_s64(session, i, ids.data(), ids.size()) != EDGEQ_OK) std::abort();
    } else if (edgeq_session_set_input_f32(session, i, x.data(), x.size()) != EDGEQ_OK) {
      std::abort();
    }
  }
  const edgeq_status run = edgeq_session_run(session);
  if (run != EDGEQ_OK) {
    if (run != EDGEQ_INVALID_ARGUMENT || edgeq_last_error()[0] == '\0') std::abort();
    edgeq_session_destroy(session);
    return {};
  }
  std::vector<uint8_t> out;
  for (size_t i = 0; i < edgeq_session_output_count(session); ++i) {
    edgeq_tensor_info info;
    if (edgeq_session_output_info(session, i, &info) != EDGEQ_OK) std::abort();
    const size_t at = out.size();
    out.resize(at + info.byte_size);
    if (edgeq_session_get_output_raw(session, i, out.data() + at, info.byte_size) != EDGEQ_OK) std::abort();
  }
  edgeq_session_destroy(session);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  edgeq_model* model = nullptr;
  if (edgeq_model_load_memory(data, size, &model) != EDGEQ_OK) {
    if (edgeq_last_error()[0] == '\0') std::abort();
    return 0;
  }
  const edgeq::Graph& g = model->model->graph();
  if (edgeq::fuzz::small_enough(g)) {
    bool has_float = false;
    for (const edgeq::Tensor& t : g.tensors) has_float |= t.dtype == edgeq::DType::kF32;
    const std::vector<uint8_t> ref = run_at(model, "ref", size);
    const std::vector<uint8_t> best = run_at(model, nullptr, size);
    if (!has_float && ref != best) std::abort();  // an int8 model gives the reference's bytes
  }
  edgeq_model_release(model);
  return 0;
}
