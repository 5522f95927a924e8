// The prepared-op side of kern::QMatMulOp (kernels/qmatmul.h), shared by the ops that run
// on it: MatMul (int8, dynamic, float out) and the fully connected layers with a
// run-time quantized input or a float output. One base holds the engine, makes it with
// the session's memory rules (what a run rewrites is a workspace in the arena) and
// reports its kernel, bytes and workspace; each op keeps its reference path.
// Included by runtime/ops/*.cc only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kernels/qmatmul.h"
#include "runtime/ops/common.h"

namespace edgeq {
namespace ops {

// The constant-weight part of a dynamically quantized layer's engine parameters: node n's
// int8 weights (input 1) with their scales, its float bias and its output clamp.
inline void set_dynamic_weights(const Graph& g, const Node& n, const std::vector<float>& w_scale, const float* bias,
                                kern::QMatMulParams* p) {
  p->weight = g.tensors[n.inputs[1]].as<int8_t>();
  p->weight_scale = w_scale.data();
  p->per_channel = w_scale.size() > 1;
  p->bias = bias;
  p->act_min = n.attrs.act_min;
  p->act_max = n.attrs.act_max;
}

class QMatMulEngineOp : public PreparedOp {
 public:
  size_t packed_bytes() const override { return engine_ ? engine_->scratch_bytes() : reference_bytes(); }
  size_t workspace_bytes() const override { return engine_ ? engine_->workspace_bytes() : 0; }
  void set_workspace(uint8_t* workspace) override {
    if (engine_) engine_->set_workspace(workspace);
  }
  const char* kernel_name() const override { return name_; }

 protected:
  // Bytes the op's reference path allocated (when the level declined the engine).
  virtual size_t reference_bytes() const { return 0; }

  // Makes the engine of `kernel` for `params` (left null when the kernel declines
  // them); `name` is what the profile calls it.
  Status make_engine(const Node& n, kern::QMatMulParams params, const kern::QGemmKernel& kernel, const char* name,
                     const OpContext& ctx) {
    engine_.reset();
    auto e = std::make_unique<kern::QMatMulOp>();
    params.external_workspace = true;  // what a run rewrites: the session's arena
    const kern::InitResult r = e->init(params, kernel);
    if (r.code() == kern::InitResult::kOutOfMemory)
      return OutOfMemory("node '" + n.name + "' (" + op_name(n.op) + "): out of memory for the product's buffers");
    if (!r) return Status::Ok();
    engine_ = std::move(e);
    scheduler_ = ctx.scheduler;
    name_ = name;
    return Status::Ok();
  }

  // The engine's run (engine() must be set).
  void run_engine(const void* a, const void* b, void* y) const { scheduler_->run(*engine_, a, b, y); }
  bool engine() const { return engine_ != nullptr; }
  kern::QMatMulOp& engine_op() const { return *engine_; }

 private:
  std::unique_ptr<kern::QMatMulOp> engine_;
  const Scheduler* scheduler_ = nullptr;
  const char* name_ = "ref";
};

}  // namespace ops
}  // namespace edgeq
