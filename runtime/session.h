// Model and Session: the C++ core behind the C API.
//
// Model: a loaded `.edgeq` file. load_file() mmaps it read-only (falling back to
// reading it into 64-byte-aligned memory); parse_graph() verifies it and the graph's
// constant tensors point into that memory. A mapped file truncated while the model
// lives makes the next touch of a lost page raise SIGBUS (documented in edgeq.h);
// load_memory() copies and is immune. Immutable after loading, so any number of
// sessions on any threads may share one through shared_ptr, except for its cache of
// packed weights (runtime/pack_cache.h), which is thread-safe: every session of a
// model packs through it, so the model holds one packed copy per node and kernel
// layout however many sessions use it.
//
// Session: plans the arena (runtime/planner.h), builds the table of tensor pointers
// (arena offsets, constants in the model, Reshape views aliasing their source) and
// prepares one op per node (runtime/ops/ops.h). run() calls the ops in order.
//
// NaN and infinities: setting a float input notes whether it holds a value that is
// not finite. Nodes whose op does not propagate those as IEEE arithmetic does (the
// float ops on XNNPACK) also get their reference op at creation, and a run with such an
// input runs those reference ops instead, so a NaN reaches every output that depends
// on it (include/edgeq/edgeq.h). Finite runs are untouched.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/status.h"
#include "runtime/ops/ops.h"
#include "runtime/pack_cache.h"
#include "runtime/schedule.h"
#include "runtime/planner.h"

namespace edgeq {

class Model {
 public:
  static Status load_file(const std::string& path, std::shared_ptr<const Model>* out);
  // Copies the bytes into aligned memory owned by the model.
  static Status load_memory(const void* data, size_t size, std::shared_ptr<const Model>* out);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const Graph& graph() const { return graph_; }
  size_t file_bytes() const { return size_; }
  // Seconds load_file() / load_memory() took.
  double load_seconds() const { return load_seconds_; }
  // The packed weights shared by this model's sessions.
  PackCache& pack_cache() const { return cache_; }
  // Bytes of pre-packed weights in the file whose layout version this build packs.
  size_t prepacked_bytes() const;
  // Why pre-packed weights of the file go unused (another layout version), one line each.
  const std::vector<std::string>& notes() const { return notes_; }
  // The graph with its float MatMuls' Slice / Reshape / Transpose chains folded into
  // strided operands (runtime/view_fold.h), which sessions run unless told otherwise;
  // null when nothing folds. Same tensors and node indices as graph().
  const std::shared_ptr<const Graph>& folded_graph() const { return folded_; }

 private:
  Model() = default;
  void finish_load(const std::string& label);
  Graph graph_;
  std::shared_ptr<const Graph> folded_;
  mutable PackCache cache_;
  std::vector<std::string> notes_;
  double load_seconds_ = 0;
  void* map_ = nullptr;      // mmapped file, or null
  uint8_t* buffer_ = nullptr;  // aligned copy, or null
  size_t size_ = 0;
};

struct SessionOptions {
  int32_t num_threads = 1;  // 0: one per core; capped at kMaxThreadsPerCore per core (schedule.h)
  // "" or "auto": the EDGEQ_ISA environment variable if set, else the best level the
  // CPU runs; otherwise a level name (kern::isa_name), which must be supported.
  std::string isa;
  // Run the model's folded graph (Model::folded_graph()): the folded nodes' outputs are
  // then never computed. Off for callers that read every intermediate tensor
  // (run_observed: calibration, error reports).
  bool fold_views = true;
};

class Session {
 public:
  static Status create(std::shared_ptr<const Model> model, const SessionOptions& options,
                       std::unique_ptr<Session>* out);
  ~Session();

  const Graph& graph() const { return model_->graph(); }
  // The graph this session runs: graph(), or the model's folded graph (whose folded
  // nodes are OpType::kCount no-ops). Node indices are the same in both.
  const Graph& exec_graph() const { return *exec_; }
  const Tensor& input(size_t i) const { return graph().tensors[graph().inputs[i]]; }
  const Tensor& output(size_t i) const { return graph().tensors[graph().outputs[i]]; }

  Status set_input_f32(size_t index, const float* data, size_t count);
  Status set_input_raw(size_t index, const void* data, size_t bytes);
  // Integer values (token ids, masks) for an s32 or s64 input, converted to its dtype;
  // a value outside int32 for an s32 input is an error naming the tensor.
  Status set_input_s64(size_t index, const int64_t* data, size_t count);
  Status set_input_s32(size_t index, const int32_t* data, size_t count);
  // Runs every node in order. Fails only when an op's run-time check fails
  // (PreparedOp::check: a Gather index outside its table), before that op runs; the
  // outputs are then undefined.
  Status run();
  // run(), timing every node: node_seconds[i] is node i's wall time (resized to fit).
  Status run_profiled(std::vector<double>* node_seconds);
  // run(), calling after_node(i) once node i has run, while its outputs are still in
  // the arena (tensor_data()). Calibration observes activations this way, in place.
  Status run_observed(const std::function<void(size_t node)>& after_node);
  Status get_output_f32(size_t index, float* data, size_t count) const;
  Status get_output_raw(size_t index, void* data, size_t bytes) const;
  // The values of an s32 or s64 output as int64.
  Status get_output_s64(size_t index, int64_t* data, size_t count) const;

  // Memory of tensor i (null for unused tensors). For tests and tools.
  const uint8_t* tensor_data(size_t i) const { return ptrs_[i]; }
  const GraphMemoryPlan& memory_plan() const { return plan_; }
  size_t arena_bytes() const { return plan_.plan.arena_size; }
  int32_t num_threads() const { return num_threads_; }
  const std::string& isa() const { return isa_; }
  // Bytes the prepared ops allocated for this session alone (tables, indirection
  // buffers), beside the arena; the packed weights they share are the model's
  // (Model::pack_cache()).
  size_t packed_bytes() const;
  const PreparedOp& op(size_t node) const { return *ops_[node]; }
  // Seconds create() took.
  double create_seconds() const { return create_seconds_; }
  const Model& model() const { return *model_; }

 private:
  Session() = default;
  // Checks an input (or output) index and its buffer pointer for the I/O calls.
  Status check_io(size_t index, bool input, const void* data) const;
  // check_io, and that the tensor is s32 or s64 and has `count` elements.
  Status check_index_io(size_t index, bool input, const void* data, size_t count) const;
  template <typename T>
  Status set_input_int(size_t index, const T* data, size_t count);
  // The op to run for node i: its IEEE reference op when the inputs are not all
  // finite and it has one.
  PreparedOp& op_to_run(size_t i, bool nonfinite) const {
    return nonfinite && ieee_ops_[i] ? *ieee_ops_[i] : *ops_[i];
  }
  bool nonfinite_inputs() const;
  // Node i's run-time check (PreparedOp::check), when it has one.
  Status check_node(size_t i) const { return checked_[i] ? ops_[i]->check(ptrs_.data()) : Status::Ok(); }
  std::shared_ptr<const Model> model_;
  const Graph* exec_ = nullptr;  // model_'s graph or folded graph
  GraphMemoryPlan plan_;
  uint8_t* arena_ = nullptr;
  std::vector<uint8_t*> ptrs_;
  std::vector<std::unique_ptr<PreparedOp>> ops_;
  // Per node: the reference op for runs with non-finite inputs, where ops_[i] does not
  // propagate them (PreparedOp::propagates_nonfinite()); else null.
  std::vector<std::unique_ptr<PreparedOp>> ieee_ops_;
  std::vector<uint8_t> checked_;  // per node: its op checks its inputs at run time
  std::vector<uint8_t> input_nonfinite_;  // per graph input: its last value held NaN or inf
  int32_t num_threads_ = 1;
  double create_seconds_ = 0;
  std::string isa_ = "ref";
  const kern::KernelSet* kernels_ = &kern::kernel_set(kern::Isa::kRef);  // the level's (quantized inputs and outputs)
  pthreadpool_t pool_ = nullptr;
  Scheduler scheduler_;  // splits work over pool_ (runtime/schedule.h)
};

}  // namespace edgeq
