// The prepared-op side of kern::QMatMulOp (kernels/qmatmul.h), shared by the ops that run
// on it: MatMul (int8, dynamic, float out) and the fully connected layers with a
// run-time quantized input or a float output. One base holds the engine, makes it with
// the session's memory rules (what a run rewrites is a workspace in the arena) and
// reports its kernel, bytes and workspace; each op keeps its reference path.
// A fully connected layer's packed weights and column sums (kern::QMatMulPacked) are the
// model's, shared by its sessions through its PackCache (runtime/pack_cache.h): the
// session's op holds only what a run needs besides them.
// Included by runtime/ops/*.cc only.
#pragma once

#include <algorithm>
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
  const std::vector<int32_t>& wz = g.tensors[n.inputs[1]].quant.zero_point;
  // Mode 1 only (graph/shape.cc): one for the tensor, or one per column.
  if (!wz.empty() && std::any_of(wz.begin(), wz.end(), [&](int32_t z) { return z != wz[0]; }))
    p->weight_zero_points = wz.data();
  else
    p->weight_zero_point = wz.empty() ? 0 : wz[0];
  p->weight_scale = w_scale.data();
  p->per_channel = w_scale.size() > 1;
  p->bias = bias;
  p->act_min = n.attrs.act_min;
  p->act_max = n.attrs.act_max;
}

// Node n's constant weights packed for `layout` as a pre-packed segment (graph/ir.h,
// PackedWeights) named for the kernel function `name` reading them (the layout's u8 or
// s8 name) and the offset folded into their bias, appended to *out; nothing when the
// layout declines the params.
inline Status prepack_fc_engine(const Graph& g, const Node& n, const kern::QMatMulParams& params,
                                const kern::QGemmKernel& layout, const char* name, std::vector<PackedWeights>* out) {
  std::shared_ptr<const kern::QMatMulPacked> packed;
  const kern::InitResult r = kern::QMatMulPacked::pack_layout(params, layout, &packed);
  if (r.code() == kern::InitResult::kOutOfMemory)
    return OutOfMemory("node '" + n.name + "' (" + op_name(n.op) + "): out of memory packing the weights");
  if (!packed) return Status::Ok();
  PackedWeights pw;
  pw.node = node_index(g, n);
  pw.kernel = kern::qmatmul_layout_name(name, kern::QMatMulPacked::a_offset(params, layout));
  pw.layout = kern::kQMatMulPackLayout;
  pw.data = packed->segment_data();
  pw.nbytes = packed->segment_size();
  pw.owner = packed;
  out->push_back(std::move(pw));
  return Status::Ok();
}

// The engine parameters of the nodes whose constant weights kern::QMatMulOp packs (for
// prepack_qmatmul, ops.h): *ok false when the node's op does not run them on the engine
// (it runs the reference). `w_scale` is the storage params.weight_scale points into.
// A dynamically quantized fully connected layer (gemm.cc).
kern::QMatMulParams dynamic_fc_engine_params(const Graph& g, const Node& n, const std::vector<float>& w_scale,
                                             bool* ok);
// An int8 fully connected layer with a float output (qgemm_float.cc).
kern::QMatMulParams float_out_fc_engine_params(const Graph& g, const Node& n, const std::vector<float>& w_scale,
                                               bool* ok);
// A dynamically quantized convolution (dynamic_conv.cc).
kern::QMatMulParams dynamic_conv_engine_params(const Graph& g, const Node& n, const std::vector<float>& w_scale,
                                               bool* ok);

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
  // them); `name` is what the profile calls it. A fully connected layer
  // (params.weight set) is made by make_fc_engine() instead.
  Status make_engine(const Node& n, kern::QMatMulParams params, const kern::QGemmKernel& kernel, const char* name,
                     const OpContext& ctx, std::shared_ptr<const kern::QMatMulPacked> packed = nullptr) {
    engine_.reset();
    auto e = std::make_unique<kern::QMatMulOp>();
    params.external_workspace = true;  // what a run rewrites: the session's arena
    const kern::InitResult r = e->init(params, kernel, std::move(packed));
    if (r.code() == kern::InitResult::kOutOfMemory)
      return OutOfMemory("node '" + n.name + "' (" + op_name(n.op) + "): out of memory for the product's buffers");
    if (!r) return Status::Ok();
    engine_ = std::move(e);
    scheduler_ = ctx.scheduler;
    name_ = name;
    return Status::Ok();
  }

  // The engine of a fully connected layer (params.weight: node n's constant weights),
  // its weights packed once per model for the kernel's layout and the offset folded
  // into their bias (the cache key names both: kern::qmatmul_layout_name), or used in
  // place from the graph's pre-packed segment of that name (an error when its size
  // does not fit). Once packed from the raw weights, their pages of a mapped file are
  // dropped: a reference path that reads them (a ref-level session, a non-finite
  // input's exact path) faults them back in from the file.
  Status make_fc_engine(const Graph& g, const Node& n, const kern::QMatMulParams& params,
                        const kern::QGemmKernel& kernel, const char* name, const OpContext& ctx) {
    engine_.reset();
    if (name == nullptr || (kernel.u8 == nullptr && kernel.s8 == nullptr)) return Status::Ok();  // no GEMM
    const std::string key = kern::qmatmul_layout_name(name, kern::QMatMulPacked::a_offset(params, kernel));
    std::shared_ptr<const kern::QMatMulPacked> packed;
    EDGEQ_RETURN_IF_ERROR((shared_packed<kern::QMatMulPacked>(
        g, n, ctx, key,
        [&](std::shared_ptr<const kern::QMatMulPacked>* out, size_t* bytes) {
          if (const PackedWeights* pw = find_prepacked(g, n, key, kern::kQMatMulPackLayout)) {
            if (pw->nbytes != kern::QMatMulPacked::segment_bytes(params, kernel))
              return InvalidModel("node '" + n.name + "' (" + op_name(n.op) + "): its pre-packed weights for " + key +
                                  " hold " + std::to_string(pw->nbytes) +
                                  " bytes, which is not the size of its packed layout");
            kern::QMatMulPacked::from_segment(params, kernel, pw->data, pw->nbytes, out);
            *bytes = 0;
            return Status::Ok();  // declined (misaligned, which the loader rules out): the reference runs
          }
          const kern::InitResult r = kern::QMatMulPacked::pack_weights(params, kernel, out);
          if (r.code() == kern::InitResult::kOutOfMemory)
            return OutOfMemory("node '" + n.name + "' (" + op_name(n.op) + "): out of memory packing the weights");
          if (!*out) return Status::Ok();  // declined: the reference runs the node
          *bytes = (*out)->heap_bytes();
          if (ctx.cache != nullptr)
            ctx.cache->drop_pages(params.weight, static_cast<size_t>(params.shape.k) * params.shape.n);
          return Status::Ok();
        },
        &packed)));
    if (!packed) return Status::Ok();
    return make_engine(n, params, kernel, name, ctx, std::move(packed));
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
