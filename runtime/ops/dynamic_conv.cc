// Dynamically quantized Conv2D (ONNX Runtime's DynamicQuantizeLinear -> ConvInteger form,
// ref::dynamic_conv2d): the float input quantized as one tensor at run time, the
// convolution as int32 sums, scaled to float per output channel.
//
// On the level's GEMM kernels (groups == 1) it is a fully connected layer over the
// output pixels: the input's range (the level's range loop) gives DynamicQuantizeLinear's
// scale and zero point, the input is quantized once (the level's quantize kernel), and
// each output pixel's row of kernel_h * kernel_w * in_c bytes is gathered from it (the
// zero point where the window leaves the image; a 1x1 stride-1 unpadded conv uses the
// quantized input itself). kern::QMatMulOp then runs it as a mode 1 layer on those
// pre-quantized rows: weights [out_c][kh][kw][in_c] are already its [n][k] rows, their
// zero points (asymmetric weights) taken as the layer's (kern::QMatMulParams). Both
// buffers are the node's workspace in the arena. An input with a NaN or an infinity, a
// grouped conv, and levels without a GEMM kernel take the reference (exact, slower).
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/ref/internal.h"
#include "runtime/ops/qmatmul_op.h"

namespace edgeq {
namespace ops {
namespace {

constexpr size_t kAlign = 64;
constexpr size_t kRowSlack = 128;  // past the last row: round_up(k, kr) - k + 64 bytes, kr <= 64

size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

class DynamicConv : public QMatMulEngineOp {
 public:
  DynamicConv(const Graph& g, const Node& n)
      : n_(n), s_(conv_shape(g, n)), w_scale_(g.tensors[n.inputs[1]].quant.scale),
        w_zero_point_(g.tensors[n.inputs[1]].quant.zero_point) {}

  Status init(const Graph& g, const OpContext& ctx) {
    bias_ = optional_f32(g, n_, 2);
    in_count_ = static_cast<size_t>(s_.batch) * s_.in_h * s_.in_w * s_.in_c;
    k_ = static_cast<size_t>(s_.kernel_h) * s_.kernel_w * s_.in_c;
    rows_ = static_cast<size_t>(s_.batch) * s_.out_h * s_.out_w;
    direct_ = s_.kernel_h == 1 && s_.kernel_w == 1 && s_.stride_h == 1 && s_.stride_w == 1 && s_.pad_top == 0 &&
              s_.pad_left == 0 && s_.out_h == s_.in_h && s_.out_w == s_.in_w;
    bool ok = false;
    const kern::QMatMulParams p = dynamic_conv_engine_params(g, n_, w_scale_, &ok);
    if (ok) {
      const kern::QGemmKernel& k = ctx.kernels->gemm;
      EDGEQ_RETURN_IF_ERROR(make_fc_engine(g, n_, p, k, k.name, ctx));
    }
    if (engine()) {
      quantize_ = ctx.kernels->misc.quantize_u8 ? ctx.kernels->misc.quantize_u8 : &ref::quantize<uint8_t>;
      range_ = ctx.kernels->gemm.range_f32;
      // The quantized input, then (unless direct) the gathered rows, each with slack.
      q_bytes_ = round_up(in_count_ + kRowSlack, kAlign);
      rows_bytes_ = direct_ ? 0 : round_up(rows_ * k_ + kRowSlack, kAlign);
      return Status::Ok();
    }
    q_.resize(in_count_);
    return Status::Ok();
  }

  size_t workspace_bytes() const override {
    return engine() ? QMatMulEngineOp::workspace_bytes() + q_bytes_ + rows_bytes_ : 0;
  }
  void set_workspace(uint8_t* workspace) override {
    if (!engine()) return;
    const size_t own = round_up(QMatMulEngineOp::workspace_bytes(), kAlign);
    QMatMulEngineOp::set_workspace(workspace);
    q_ws_ = workspace + own;
    rows_ws_ = q_ws_ + q_bytes_;
  }
  size_t reference_bytes() const override { return q_.size(); }

  void run(uint8_t* const* p) override {
    const float* x = at<float>(p, n_.inputs[0]);
    float* y = at<float>(p, n_.outputs[0]);
    const int8_t* w = at<int8_t>(p, n_.inputs[1]);
    float lo, hi;
    const bool finite = engine() && (range_ != nullptr ? range_(in_count_, x, &lo, &hi)
                                                       : ref::internal::finite_range(in_count_, x, 1, &lo, &hi));
    if (!finite) {  // no GEMM, or no quantization holds the input: the reference
      uint8_t* q = engine() ? q_ws_ : q_.data();
      ref::dynamic_conv2d(s_, x, w, w_zero_point_.empty() ? nullptr : w_zero_point_.data(), w_zero_point_.size() > 1,
                          w_scale_.data(), w_scale_.size() > 1, bias_, n_.attrs.act_min, n_.attrs.act_max, q, y);
      return;
    }
    float scale;
    int32_t zp;
    ref::dynamic_uint8_params(lo, hi, &scale, &zp);
    quantize_(in_count_, x, scale, zp, q_ws_);
    const uint8_t* a = direct_ ? q_ws_ : gather_rows(static_cast<uint8_t>(zp));
    engine_op().set_a_quantization(scale, zp);
    run_engine(a, nullptr, y);
  }

 private:
  // Each output pixel's window of the quantized input, (ky, kx, c) in order, the zero
  // point outside the image.
  const uint8_t* gather_rows(uint8_t zp) const {
    const size_t cin = static_cast<size_t>(s_.in_c);
    uint8_t* row = rows_ws_;
    for (int32_t b = 0; b < s_.batch; ++b)
      for (int32_t oy = 0; oy < s_.out_h; ++oy)
        for (int32_t ox = 0; ox < s_.out_w; ++ox)
          for (int32_t ky = 0; ky < s_.kernel_h; ++ky) {
            const int32_t iy = oy * s_.stride_h - s_.pad_top + ky * s_.dilation_h;
            for (int32_t kx = 0; kx < s_.kernel_w; ++kx, row += cin) {
              const int32_t ix = ox * s_.stride_w - s_.pad_left + kx * s_.dilation_w;
              if (iy < 0 || iy >= s_.in_h || ix < 0 || ix >= s_.in_w) {
                std::memset(row, zp, cin);
              } else {
                std::memcpy(row, q_ws_ + ((static_cast<size_t>(b) * s_.in_h + iy) * s_.in_w + ix) * cin, cin);
              }
            }
          }
    return rows_ws_;
  }

  const Node& n_;
  ref::ConvShape s_;
  std::vector<float> w_scale_;
  std::vector<int32_t> w_zero_point_;  // one, or one per output channel (ONNX Runtime's asymmetric weights)
  const float* bias_ = nullptr;
  size_t in_count_ = 0, k_ = 0, rows_ = 0, q_bytes_ = 0, rows_bytes_ = 0;
  bool direct_ = false;
  kern::QuantizeFn<uint8_t> quantize_ = nullptr;
  kern::RangeF32Fn range_ = nullptr;
  uint8_t* q_ws_ = nullptr;
  uint8_t* rows_ws_ = nullptr;
  std::vector<uint8_t> q_;  // the reference's quantized input
};

}  // namespace

kern::QMatMulParams dynamic_conv_engine_params(const Graph& g, const Node& n, const std::vector<float>& w_scale,
                                               bool* ok) {
  kern::QMatMulParams p;
  const ref::ConvShape s = conv_shape(g, n);
  *ok = s.groups == 1;
  if (!*ok) return p;
  const int32_t rows = s.batch * s.out_h * s.out_w, k = s.kernel_h * s.kernel_w * s.in_c;
  const int32_t a_shape[2] = {rows, k}, b_shape[2] = {k, s.out_c};
  ref::make_matmul_shape(a_shape, 2, b_shape, 2, &p.shape);
  p.mode = 1;
  p.a_prequantized = true;
  set_dynamic_weights(g, n, w_scale, optional_f32(g, n, 2), &p);
  return p;
}

Status prepare_dynamic_conv(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<DynamicConv>(g, n), g, ctx, out);
}

}  // namespace ops
}  // namespace edgeq
