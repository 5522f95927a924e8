// What the op families of the runtime's op layer share (see ops.h): operand access,
// quantization parameters, the requantization of GEMM-like ops, the weights of
// quantized conv / fully connected nodes, and the glue that builds a prepared op.
// Included by runtime/ops/*.cc only.
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/memory.h"
#include "kernels/ref/ref.h"
#include "runtime/ops/ops.h"
#include "runtime/pack_cache.h"

namespace edgeq {
namespace ops {

template <typename T>
T* at(uint8_t* const* ptrs, int32_t index) {
  return reinterpret_cast<T*>(ptrs[index]);
}

inline Status op_error(const Node& n, const std::string& what) {
  return Unsupported("node '" + n.name + "' (" + op_name(n.op) + "): " + what);
}

struct QParam {
  float scale;
  int32_t zero_point;
};
inline QParam qparam(const Tensor& t) { return {t.quant.scale[0], t.quant.zero_point[0]}; }

inline int64_t product(const std::vector<int32_t>& s, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end && i < s.size(); ++i) p *= s[i];
  return p;
}

inline ref::Scheme scheme_of(const Graph& g) {
  return g.requant == RequantScheme::kFixedPoint ? ref::Scheme::kFixedPoint : ref::Scheme::kFp32;
}

// The int8 or the uint8 variant of an optimized kernel, or `fallback` (the reference)
// when the session's level has none.
template <typename T, template <typename> class Fn>
Fn<T> pick(Fn<int8_t> s8, Fn<uint8_t> u8, Fn<T> fallback) {
  Fn<T> f = nullptr;
  if constexpr (std::is_same<T, int8_t>::value) f = s8;
  else f = u8;
  return f ? f : fallback;
}

// Requantization parameters per output channel, owned by the op.
struct RequantStore {
  std::vector<float> scale;
  std::vector<int32_t> multiplier, exponent;
  ref::Requant rq;

  // acc has scale s_in * s_w[c]; the output has scale s_out.
  Status init(const Node& n, ref::Scheme scheme, float s_in, const std::vector<float>& s_w, const Tensor& y,
              float act_min, float act_max) {
    const QParam out = qparam(y);
    for (float sw : s_w) {
      const float s = (s_in * sw) / out.scale;  // float, in this order, as ONNX Runtime does
      if (const char* why = ref::requant_unrepresentable(s_in, sw, out.scale, scheme))
        return op_error(n, "requantization scale " + std::to_string(s) + " " + why);
      scale.push_back(s);
      int32_t m = 0, e = 0;
      ref::quantize_multiplier(static_cast<double>(s_in) * sw / out.scale, &m, &e);
      multiplier.push_back(m);
      exponent.push_back(e);
    }
    rq.scheme = scheme;
    rq.per_channel = s_w.size() > 1;
    rq.scale = scale.data();
    rq.multiplier = multiplier.data();
    rq.exponent = exponent.data();
    rq.zero_point = out.zero_point;
    quantized_output_range(y, act_min, act_max, &rq.qmin, &rq.qmax);
    return Status::Ok();
  }
};

// Shared by quantized conv and fully connected: weight zero points, bias, requant.
struct QWeights {
  std::vector<int32_t> w_zero_point;
  const int32_t* bias = nullptr;
  int32_t x_zero_point = 0;
  RequantStore rs;

  Status init(const Graph& g, const Node& n) {
    const Tensor &x = g.tensors[n.inputs[0]], &w = g.tensors[n.inputs[1]], &y = g.tensors[n.outputs[0]];
    w_zero_point = w.quant.zero_point;
    for (int32_t z : w_zero_point)
      if (z < -128 || z > 127) return op_error(n, "weight zero point outside int8");
    if (n.inputs.size() > 2 && n.inputs[2] >= 0) bias = g.tensors[n.inputs[2]].as<int32_t>();
    x_zero_point = qparam(x).zero_point;
    return rs.init(n, scheme_of(g), qparam(x).scale, w.quant.scale, y, n.attrs.act_min, n.attrs.act_max);
  }
  bool per_channel() const { return w_zero_point.size() > 1; }

  // Whether an optimized kernel may take the node: constant weights, zero points 0.
  bool optimizable(const Graph& g, const Node& n, const OpContext& ctx) const {
    if (!ctx.kernels || !g.tensors[n.inputs[1]].is_constant()) return false;
    for (int32_t z : w_zero_point)
      if (z != 0) return false;
    return true;
  }
  // The parameters of an engine (kern::QConvParams, kern::QDwConvParams) for node n.
  template <typename Params>
  Params engine_params(const Graph& g, const Node& n, const ref::ConvShape& shape, bool act_s8) const {
    Params p;
    p.shape = shape;
    p.act_s8 = act_s8;
    p.x_zero_point = x_zero_point;
    p.weight = g.tensors[n.inputs[1]].as<int8_t>();
    p.bias = bias;
    p.rq = rs.rq;
    return p;
  }
};

inline int32_t node_index(const Graph& g, const Node& n) { return static_cast<int32_t>(&n - g.nodes.data()); }

// Node n's pre-packed segment (graph/ir.h, PackedWeights) for layout `kernel` at layout
// version `version` (this build's for that layout), or null.
inline const PackedWeights* find_prepacked(const Graph& g, const Node& n, const std::string& kernel,
                                           uint32_t version) {
  for (const PackedWeights& pw : g.packed)
    if (pw.node == node_index(g, n) && pw.layout == version && pw.kernel == kernel) return &pw;
  return nullptr;
}

// Node n's optional float input i (a bias) when present, else null.
inline const float* optional_f32(const Graph& g, const Node& n, size_t i) {
  return n.inputs.size() > i && n.inputs[i] >= 0 ? g.tensors[static_cast<size_t>(n.inputs[i])].as<float>() : nullptr;
}

// Node n's packed data for layout `key`: the model's shared copy (ctx.cache), built by
// make(&value, &heap_bytes) on first use, or without a cache built here for this op.
template <typename T, typename Make>
Status shared_packed(const Graph& g, const Node& n, const OpContext& ctx, const std::string& key, Make&& make,
                     std::shared_ptr<const T>* out) {
  if (ctx.cache == nullptr) {
    size_t bytes = 0;
    return make(out, &bytes);
  }
  return ctx.cache->get<T>(node_index(g, n), key, make, out);
}

// What kernel_name() says for an op on a level's misc kernel: the family's name
// (kern::MiscKernelNames) when `fn` is not the reference `ref_fn`, else "ref".
template <typename Fn>
const char* misc_kernel_name(Fn fn, Fn ref_fn, const char* family) {
  return fn == ref_fn || family == nullptr ? "ref" : family;
}

// fn(begin, end) over [0, count) elements on the scheduler, in ranges of whole chunks
// (chunk: a multiple of the kernels' blocks) so that no split cuts a vector block.
template <typename Fn>
void element_ranges(const Scheduler* scheduler, int64_t count, int64_t chunk, const Fn& fn) {
  const int64_t chunks = (count + chunk - 1) / chunk;
  scheduler->ranges(chunks, count, [&](int64_t c0, int64_t c1) {
    const int64_t begin = c0 * chunk, end = std::min(count, c1 * chunk);
    if (begin < end) fn(static_cast<size_t>(begin), static_cast<size_t>(end));
  });
}

// The GEMM kernel's name for the activation type T (its u8 or s8 symbol).
template <typename T>
const char* gemm_kernel_name(const kern::QGemmKernel& k) {
  return std::is_same<T, int8_t>::value ? k.name_s8 : k.name;
}

// ------------------------------------------------------------------ building a prepared op

template <typename Op>
struct HasInit {
  template <typename U>
  static auto test(int) -> decltype(std::declval<U&>().init(std::declval<const Graph&>(), std::declval<const OpContext&>()),
                                        std::true_type());
  template <typename>
  static std::false_type test(...);
  static constexpr bool value = decltype(test<Op>(0))::value;
};

template <typename Op>
Status own(std::unique_ptr<Op> op, const Graph& g, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  if constexpr (HasInit<Op>::value) EDGEQ_RETURN_IF_ERROR(op->init(g, ctx));
  *out = std::move(op);
  return Status::Ok();
}

template <template <typename> class Op, typename... Args>
Status own_typed(DType t, const Graph& g, const OpContext& ctx, std::unique_ptr<PreparedOp>* out,
                 const Args&... args) {
  if (t == DType::kS8) return own(std::make_unique<Op<int8_t>>(args...), g, ctx, out);
  return own(std::make_unique<Op<uint8_t>>(args...), g, ctx, out);
}

// The prepare function of every op family (the Prepare column of graph/op_table.h):
// prepare_<Prepare>(g, n, ctx, out), defined in the family's file.
#define EDGEQ_OP_PREPARE_DECL(Name, Opts, Shape, Prepare, Flags) \
  Status prepare_##Prepare(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out);
EDGEQ_OPS(EDGEQ_OP_PREPARE_DECL)
#undef EDGEQ_OP_PREPARE_DECL

// Add, Sub, Mul on int32 / int64 tensors (logical.cc).
Status prepare_integer_binary(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out);

// A Conv2D node's shape for the kernels (gemm.cc).
ref::ConvShape conv_shape(const Graph& g, const Node& n);

// The depthwise engine for a quantized Conv2D with groups == in_c == out_c: *out null
// when the node is not depthwise or the level's depthwise kernels decline it.
Status prepare_depthwise(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out);

// Conv2D with a float input and int8 weights, `dynamic` 1 (dynamic_conv.cc).
Status prepare_dynamic_conv(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out);

// Whether the level's float GEMM runs float Conv2D node n (not depthwise, constant
// weights) as a fully connected layer per group over its windows, with the weights
// packed once per model (float_fc.cc), and that op for it: on every level with a float
// GEMM (all but the reference level).
bool float_conv_takes(const Graph& g, const Node& n, const OpContext& ctx);
Status prepare_float_conv(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out);

// Whether float Conv2D node n is a depthwise convolution (groups == in_c == out_c,
// constant weights) that kern::FDwConvOp runs with its weights packed once per model
// (float_dw.cc), and that op for it: on the levels with a float GEMM (the ones that run
// float convolutions on edgeq's kernels).
bool float_dw_takes(const Graph& g, const Node& n, const OpContext& ctx);
Status prepare_float_dw(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out);

// FullyConnected with every operand float (float_fc.cc).
Status prepare_float_fc(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out);

// FullyConnected and MatMul with quantized inputs and a float output (qgemm_float.cc).
Status prepare_fc_float_out(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out);
Status prepare_matmul_float_out(const Graph& g, const Node& n, const ref::MatMulShape& s, const OpContext& ctx,
                                std::unique_ptr<PreparedOp>* out);

}  // namespace ops
}  // namespace edgeq
