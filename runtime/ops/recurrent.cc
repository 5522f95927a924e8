// The recurrent family: ONNX's LSTM and GRU in float on their reference kernels
// (kernels/ref/recurrent.cc), one node a layer. The shape rule (graph/shape.cc) made
// every input present, float and of the sizes the kernels read.
#include "runtime/ops/common.h"

namespace edgeq {
namespace ops {
namespace {

class Recurrent : public PreparedOp {
 public:
  Recurrent(const Graph& g, const Node& n) : n_(n) {
    const Tensor& x = g.tensors[n.inputs[0]];
    s_.seq = x.shape[0];
    s_.batch = x.shape[1];
    s_.input = x.shape[2];
    s_.hidden = n.attrs.hidden_size;
    s_.direction = n.attrs.direction;
    s_.clip = n.attrs.clip;
  }
  void run(uint8_t* const* p) override {
    const auto in = [&](size_t i) { return at<const float>(p, n_.inputs[i]); };
    const auto out = [&](size_t i) { return at<float>(p, n_.outputs[i]); };
    if (n_.op == OpType::kLSTM) {
      ref::lstm_f32(s_, in(0), in(1), in(2), in(3), in(4), in(5), in(6), out(0), out(1), out(2));
    } else {
      ref::gru_f32(s_, n_.attrs.linear_before_reset != 0, in(0), in(1), in(2), in(3), in(4), out(0), out(1));
    }
  }

 private:
  const Node& n_;
  ref::RecurrentShape s_;
};

}  // namespace

Status prepare_recurrent(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<Recurrent>(g, n), g, ctx, out);
}

}  // namespace ops
}  // namespace edgeq
