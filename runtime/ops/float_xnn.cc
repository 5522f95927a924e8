// XNNPACK f32 operators behind edgeq's float nodes (see float_xnn.h).
//
// One PreparedOp class, XnnOp, owns an xnn_operator_t and a setup function that binds one
// or two inputs and the output; each op family below checks the node, creates the operator
// (packing weights) and says how to set it up. Preparing also sets the operator up once on
// placeholder pointers of the real shapes, so XNNPACK sizes its indirection buffers then:
// a later setup with the session's pointers only rebinds them.
//
// Where XNNPACK computes something else than the reference op, the node keeps the
// reference op (prepare returns null):
//  * AvgPool2D with count_include_pad and padding: XNNPACK divides by the in-image taps only.
//  * Softmax along any axis but the innermost (XNNPACK's softmax is over the rows of [N, C]).
//  * HardSigmoid and Tanh: this XNNPACK has no f32 operator for them.
//  * Weights or bias that are not constants (XNNPACK packs them at creation).
//  * Parameters XNNPACK refuses at creation or setup (1x1 pooling, an empty clamp range...).
//
// Numerics: XNNPACK sums convolutions, matrix products and pools in float, in its own
// order, with FMA where the CPU has it, and its sigmoid/softmax use polynomial exponentials;
// the reference sums in double and calls std::exp. Results agree to a few float rounding
// errors, not bit for bit; test/xnn_float_test.cc states and checks the bounds. NaN is
// another matter: XNNPACK's output clamps (present even when unbounded) turn a NaN into
// the clamp's bound, so every op here says it does not propagate non-finite values and
// a session runs the reference ops for a run whose inputs hold NaN or infinities
// (runtime/session.h).
#include "runtime/ops/float_xnn.h"

#include "runtime/ops/common.h"

#include <xnnpack.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace edgeq {
namespace {

bool xnn_initialized() {
  static const bool ok = xnn_initialize(nullptr) == xnn_status_success;
  return ok;
}

struct OperatorDeleter {
  void operator()(xnn_operator_t op) const { xnn_delete_operator(op); }
};
using Operator = std::unique_ptr<xnn_operator, OperatorDeleter>;

// Binds an operator to its input(s) and output; b is null for one-input ops.
using SetupFn = std::function<xnn_status(xnn_operator_t, const float* a, const float* b, float* y, pthreadpool_t)>;

// What a finished XNNPACK call means for preparing node `n`: Ok with *go_on true (go on),
// Ok with *go_on false (XNNPACK refused these parameters: keep the reference op), or an
// error (out of memory, anything else unexpected).
Status accept(const Node& n, xnn_status s, const char* what, bool* go_on) {
  *go_on = s == xnn_status_success;
  if (*go_on || s == xnn_status_invalid_parameter || s == xnn_status_unsupported_parameter) return Status::Ok();
  const std::string m = "node '" + n.name + "' (" + op_name(n.op) + "): XNNPACK " + what + " failed (status " +
                        std::to_string(static_cast<int>(s)) + ")";
  return Status(s == xnn_status_out_of_memory ? StatusCode::kOutOfMemory : StatusCode::kInternal, m);
}

class XnnOp : public PreparedOp {
 public:
  XnnOp(Operator op, SetupFn setup, const char* name, int32_t a, int32_t b, int32_t y, size_t y_count, size_t packed,
        pthreadpool_t pool)
      : op_(std::move(op)),
        setup_(std::move(setup)),
        name_(name),
        a_index_(a),
        b_index_(b),
        y_index_(y),
        y_count_(y_count),
        packed_(packed),
        pool_(pool) {}

  // Sets the operator up once on placeholder pointers (see the top of the file).
  xnn_status presetup() {
    static float placeholder[2];
    return setup_(op_.get(), &placeholder[0], b_index_ >= 0 ? &placeholder[1] : nullptr, &placeholder[0], pool_);
  }

  void run(uint8_t* const* p) override {
    const float* a = reinterpret_cast<const float*>(p[a_index_]);
    const float* b = b_index_ >= 0 ? reinterpret_cast<const float*>(p[b_index_]) : nullptr;
    float* y = reinterpret_cast<float*>(p[y_index_]);
    if (a != a_ || b != b_ || y != y_) {
      if (setup_(op_.get(), a, b, y, pool_) != xnn_status_success) {
        // Not expected: presetup() succeeded with the same shapes. Make it visible.
        std::fill(y, y + y_count_, std::numeric_limits<float>::quiet_NaN());
        a_ = nullptr;
        return;
      }
      a_ = a;
      b_ = b;
      y_ = y;
    }
    xnn_run_operator(op_.get(), pool_);
  }
  size_t packed_bytes() const override { return packed_; }
  const char* kernel_name() const override { return name_; }
  // XNNPACK's min/max clamps (even unbounded ones) return the bound for a NaN.
  bool propagates_nonfinite() const override { return false; }

 private:
  Operator op_;
  SetupFn setup_;
  const char* name_;
  int32_t a_index_, b_index_, y_index_;
  size_t y_count_, packed_;
  pthreadpool_t pool_;
  const float* a_ = nullptr;
  const float* b_ = nullptr;
  float* y_ = nullptr;
};

// Everything a family's prepare function needs.
struct Prep {
  const Graph& g;
  const Node& n;
  pthreadpool_t pool;
  std::unique_ptr<PreparedOp>* out;

  const Tensor& in(size_t i) const { return g.tensors[n.inputs[i]]; }
  const Tensor& y() const { return g.tensors[n.outputs[0]]; }
  bool has_in(size_t i) const { return n.inputs.size() > i && n.inputs[i] >= 0; }

  // Takes the result of an xnn_create_* call and finishes the op. `b_input`: the node
  // input bound as the second operand, or -1. `packed`: bytes of weights XNNPACK copied.
  // The caller owns the operator (`owner`) from the moment it is created: the other
  // arguments (the setup function's captures) may allocate, and a failure there must
  // not leak it.
  Status finish(xnn_status created, Operator& owner, SetupFn setup, const char* name, int b_input = -1,
                size_t packed = 0) const {
    Operator op(std::move(owner));
    bool go_on = false;
    EDGEQ_RETURN_IF_ERROR(accept(n, created, "operator creation", &go_on));
    if (!go_on) return Status::Ok();
    auto x = std::make_unique<XnnOp>(std::move(op), std::move(setup), name, n.inputs[0],
                                     b_input >= 0 ? n.inputs[b_input] : -1, n.outputs[0],
                                     static_cast<size_t>(y().num_elements()), packed, pool);
    EDGEQ_RETURN_IF_ERROR(accept(n, x->presetup(), "setup", &go_on));
    if (!go_on) return Status::Ok();
    *out = std::move(x);
    return Status::Ok();
  }
};

// ------------------------------------------------------------------ conv, fully connected

// Weights and bias must be constants: XNNPACK packs them when the operator is created.
bool constant_weights(const Prep& p) { return p.in(1).is_constant() && (!p.has_in(2) || p.in(2).is_constant()); }

size_t weight_bytes(const Prep& p) { return p.in(1).nbytes + (p.has_in(2) ? p.in(2).nbytes : 0); }

const float* bias_of(const Prep& p) { return p.has_in(2) ? p.in(2).as<float>() : nullptr; }

// Our weights [Cout, KH, KW, Cin/groups], Cout = groups x (Cout/groups) group-major, are
// XNNPACK's grouped layout [groups][Cout/groups][KH][KW][Cin/groups]; for a depthwise
// convolution (Cin/groups = 1) it is the [groups][KH][KW] layout XNNPACK expects without
// XNN_FLAG_DEPTHWISE_CONVOLUTION.
Status prepare_conv(const Prep& p) {
  if (!constant_weights(p)) return Status::Ok();
  const Attrs& a = p.n.attrs;
  const auto& xs = p.in(0).shape;
  const auto& ws = p.in(1).shape;
  const size_t cin = xs[3], cout = p.y().shape[3], groups = a.groups;
  xnn_operator_t op = nullptr;
  const xnn_status s = xnn_create_convolution2d_nhwc_f32(
      a.pad_top, a.pad_right, a.pad_bottom, a.pad_left, ws[1], ws[2], a.stride_h, a.stride_w, a.dilation_h,
      a.dilation_w, static_cast<uint32_t>(groups), cin / groups, cout / groups, cin, cout, p.in(1).as<float>(),
      bias_of(p), a.act_min, a.act_max, 0, &op);
  const size_t n = xs[0], h = xs[1], w = xs[2];
  Operator owner(op);
  return p.finish(
      s, owner,
      [=](xnn_operator_t o, const float* x, const float*, float* y, pthreadpool_t pool) {
        return xnn_setup_convolution2d_nhwc_f32(o, n, h, w, x, y, pool);
      },
      "xnnpack_convolution2d_nhwc_f32", -1, weight_bytes(p));
}

Status prepare_fc(const Prep& p) {
  if (!constant_weights(p)) return Status::Ok();
  const size_t k = p.in(1).shape[1], n = p.in(1).shape[0];
  if (k == 0) return Status::Ok();
  const size_t m = static_cast<size_t>(p.in(0).num_elements()) / k;
  xnn_operator_t op = nullptr;
  const xnn_status s = xnn_create_fully_connected_nc_f32(k, n, k, n, p.in(1).as<float>(), bias_of(p), p.n.attrs.act_min,
                                                         p.n.attrs.act_max, 0, &op);
  Operator owner(op);
  return p.finish(
      s, owner,
      [=](xnn_operator_t o, const float* x, const float*, float* y, pthreadpool_t pool) {
        return xnn_setup_fully_connected_nc_f32(o, m, x, y, pool);
      },
      "xnnpack_fully_connected_nc_f32", -1, weight_bytes(p));
}

// ------------------------------------------------------------------ binary (numpy broadcasting)

using BinaryCreate = xnn_status (*)(float, float, uint32_t, xnn_operator_t*);
using BinarySetup = xnn_status (*)(xnn_operator_t, size_t, const size_t*, size_t, const size_t*, const float*,
                                   const float*, float*, pthreadpool_t);

Status prepare_binary(const Prep& p) {
  BinaryCreate create = xnn_create_add_nd_f32;
  BinarySetup setup = xnn_setup_add_nd_f32;
  const char* name = "xnnpack_add_nd_f32";
  switch (p.n.op) {
    case OpType::kSub:
      create = xnn_create_subtract_nd_f32;
      setup = xnn_setup_subtract_nd_f32;
      name = "xnnpack_subtract_nd_f32";
      break;
    case OpType::kMul:
      create = xnn_create_multiply_nd_f32;
      setup = xnn_setup_multiply_nd_f32;
      name = "xnnpack_multiply_nd_f32";
      break;
    case OpType::kDiv:
      create = xnn_create_divide_nd_f32;
      setup = xnn_setup_divide_nd_f32;
      name = "xnnpack_divide_nd_f32";
      break;
    default:
      break;
  }
  if (p.in(1).dtype != DType::kF32) return Status::Ok();
  const std::vector<size_t> a(p.in(0).shape.begin(), p.in(0).shape.end());
  const std::vector<size_t> b(p.in(1).shape.begin(), p.in(1).shape.end());
  if (a.size() > XNN_MAX_TENSOR_DIMS || b.size() > XNN_MAX_TENSOR_DIMS) return Status::Ok();
  xnn_operator_t op = nullptr;
  const xnn_status s = create(p.n.attrs.act_min, p.n.attrs.act_max, 0, &op);
  Operator owner(op);
  return p.finish(
      s, owner,
      [=](xnn_operator_t o, const float* x0, const float* x1, float* y, pthreadpool_t pool) {
        return setup(o, a.size(), a.data(), b.size(), b.data(), x0, x1, y, pool);
      },
      name, 1);
}

// ------------------------------------------------------------------ rows x channels ops

using NcSetup = xnn_status (*)(xnn_operator_t, size_t, const float*, float*, pthreadpool_t);

// Finishes an [rows, channels] operator created with `channels` = the innermost dimension.
Status finish_nc(const Prep& p, xnn_status created, Operator& owner, NcSetup setup, size_t channels,
                 const char* name) {
  const size_t rows = static_cast<size_t>(p.y().num_elements()) / channels;
  return p.finish(
      created, owner,
      [=](xnn_operator_t o, const float* x, const float*, float* y, pthreadpool_t pool) {
        return setup(o, rows, x, y, pool);
      },
      name);
}

size_t inner_dim(const Tensor& t) { return t.shape.empty() ? 1 : static_cast<size_t>(t.shape.back()); }

Status prepare_unary(const Prep& p) {
  const size_t c = inner_dim(p.y());
  if (c == 0 || p.y().num_elements() == 0) return Status::Ok();
  const Attrs& a = p.n.attrs;
  xnn_operator_t op = nullptr;
  xnn_status s;
  NcSetup setup;
  const char* name;
  switch (p.n.op) {
    case OpType::kRelu:
    case OpType::kClip: {
      const float lo = p.n.op == OpType::kRelu ? 0.f : a.alpha;
      const float hi = p.n.op == OpType::kRelu ? std::numeric_limits<float>::infinity() : a.beta;
      s = xnn_create_clamp_nc_f32(c, c, c, lo, hi, 0, &op);
      setup = xnn_setup_clamp_nc_f32;
      name = "xnnpack_clamp_nc_f32";
      break;
    }
    case OpType::kLeakyRelu:
      s = xnn_create_leaky_relu_nc_f32(c, c, c, a.alpha, 0, &op);
      setup = xnn_setup_leaky_relu_nc_f32;
      name = "xnnpack_leaky_relu_nc_f32";
      break;
    case OpType::kSigmoid:
      s = xnn_create_sigmoid_nc_f32(c, c, c, 0, &op);
      setup = xnn_setup_sigmoid_nc_f32;
      name = "xnnpack_sigmoid_nc_f32";
      break;
    case OpType::kHardSwish:
      s = xnn_create_hardswish_nc_f32(c, c, c, 0, &op);
      setup = xnn_setup_hardswish_nc_f32;
      name = "xnnpack_hardswish_nc_f32";
      break;
    default:
      return Status::Ok();  // HardSigmoid, Tanh
  }
  Operator owner(op);
  return finish_nc(p, s, owner, setup, c, name);
}

Status prepare_softmax(const Prep& p) {
  const Tensor& x = p.in(0);
  if (x.shape.empty() || p.n.attrs.axis != static_cast<int32_t>(x.shape.size()) - 1) return Status::Ok();
  const size_t c = inner_dim(x);
  if (c == 0 || x.num_elements() == 0) return Status::Ok();
  xnn_operator_t op = nullptr;
  const xnn_status s = xnn_create_softmax_nc_f32(c, c, c, 0, &op);
  Operator owner(op);
  return finish_nc(p, s, owner, xnn_setup_softmax_nc_f32, c, "xnnpack_softmax_nc_f32");
}

// ------------------------------------------------------------------ pooling

using NhwcSetup = xnn_status (*)(xnn_operator_t, size_t, size_t, size_t, const float*, float*, pthreadpool_t);

Status prepare_pool(const Prep& p) {
  const Attrs& a = p.n.attrs;
  const auto& xs = p.in(0).shape;
  const size_t n = xs[0], h = xs[1], w = xs[2], c = xs[3];
  xnn_operator_t op = nullptr;
  if (p.n.op == OpType::kGlobalAvgPool) {
    const xnn_status s = xnn_create_global_average_pooling_nwc_f32(c, c, c, a.act_min, a.act_max, 0, &op);
    Operator owner(op);
    return p.finish(
        s, owner,
        [=](xnn_operator_t o, const float* x, const float*, float* y, pthreadpool_t pool) {
          return xnn_setup_global_average_pooling_nwc_f32(o, n, h * w, x, y, pool);
        },
        "xnnpack_global_average_pooling_nwc_f32");
  }
  xnn_status s;
  NhwcSetup setup;
  const char* name;
  if (p.n.op == OpType::kMaxPool2D) {
    s = xnn_create_max_pooling2d_nhwc_f32(a.pad_top, a.pad_right, a.pad_bottom, a.pad_left, a.kernel_h, a.kernel_w,
                                          a.stride_h, a.stride_w, a.dilation_h, a.dilation_w, c, c, c, a.act_min,
                                          a.act_max, 0, &op);
    setup = xnn_setup_max_pooling2d_nhwc_f32;
    name = "xnnpack_max_pooling2d_nhwc_f32";
  } else {
    if (a.count_include_pad && (a.pad_top | a.pad_bottom | a.pad_left | a.pad_right) != 0) return Status::Ok();
    s = xnn_create_average_pooling2d_nhwc_f32(a.pad_top, a.pad_right, a.pad_bottom, a.pad_left, a.kernel_h, a.kernel_w,
                                              a.stride_h, a.stride_w, c, c, c, a.act_min, a.act_max, 0, &op);
    setup = xnn_setup_average_pooling2d_nhwc_f32;
    name = "xnnpack_average_pooling2d_nhwc_f32";
  }
  Operator owner(op);
  return p.finish(
      s, owner,
      [=](xnn_operator_t o, const float* x, const float*, float* y, pthreadpool_t pool) {
        return setup(o, n, h, w, x, y, pool);
      },
      name);
}

using PrepareFn = Status (*)(const Prep&);

// XNNPACK's operator for each op family that has one (the op table's Prepare column);
// null for the others (data movement and quantization ops keep the reference op).
namespace family {
#define EDGEQ_OP_FAMILY(Name, Opts, Shape, Prepare, Flags) struct Prepare;
EDGEQ_OPS(EDGEQ_OP_FAMILY)
#undef EDGEQ_OP_FAMILY
}  // namespace family
template <typename Family>
constexpr PrepareFn kXnnFamily = nullptr;
template <>
constexpr PrepareFn kXnnFamily<family::conv> = &prepare_conv;
template <>
constexpr PrepareFn kXnnFamily<family::fully_connected> = &prepare_fc;
template <>
constexpr PrepareFn kXnnFamily<family::binary> = &prepare_binary;
template <>
constexpr PrepareFn kXnnFamily<family::unary> = &prepare_unary;
template <>
constexpr PrepareFn kXnnFamily<family::softmax> = &prepare_softmax;
template <>
constexpr PrepareFn kXnnFamily<family::pool> = &prepare_pool;

constexpr PrepareFn kXnnOps[] = {
#define EDGEQ_OP_XNN(Name, Opts, Shape, Prepare, Flags) kXnnFamily<family::Prepare>,
    EDGEQ_OPS(EDGEQ_OP_XNN)
#undef EDGEQ_OP_XNN
};

// Every operand float (a FullyConnected with int8 weights is dynamically quantized).
bool float_node(const Graph& g, const Node& n) {
  if (n.inputs.empty() || n.inputs[0] < 0 || n.outputs.size() != 1) return false;
  for (int32_t t : n.inputs)
    if (t >= 0 && g.tensors[t].dtype != DType::kF32) return false;
  return g.tensors[n.outputs[0]].dtype == DType::kF32;
}

}  // namespace

bool xnn_float_available() {
  const char* env = std::getenv("EDGEQ_XNNPACK");
  if (env != nullptr && std::strcmp(env, "0") == 0) return false;
  return xnn_initialized();
}

Status prepare_xnn_float_op(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  out->reset();
  if (!float_node(g, n) || !xnn_float_available()) return Status::Ok();
  const auto i = static_cast<size_t>(n.op);
  if (i >= static_cast<size_t>(OpType::kCount) || kXnnOps[i] == nullptr) return Status::Ok();
  // Softmax runs on the level's own kernel where it has one: several times faster than
  // XNNPACK's on attention rows (bench/norm_bench.cc, softmax_f32).
  if (n.op == OpType::kSoftmax && ctx.kernels->misc.softmax_f32 != nullptr) return Status::Ok();
  // Layers with weights never go to XNNPACK, which packs them per operator, so per
  // session: on every level with a float GEMM, fully connected layers and convolutions
  // run on it (float_fc.cc) and depthwise convolutions on edgeq's float depthwise
  // kernels (float_dw.cc), their weights packed once per model.
  if ((n.op == OpType::kFullyConnected && ctx.kernels->fgemm.fn != nullptr) || ops::float_conv_takes(g, n, ctx) ||
      ops::float_dw_takes(g, n, ctx))
    return Status::Ok();
  return kXnnOps[i](Prep{g, n, ctx.scheduler->pool(), out});
}

}  // namespace edgeq
