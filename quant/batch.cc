// Typed batches of graph inputs (see batch.h).
#include "quant/batch.h"

#include <string>

namespace edgeq {
namespace quant {
namespace {

std::string describe(const Tensor& t) {
  return "input '" + t.name + "' (" + dtype_name(t.dtype) + " " + shape_string(t.shape) + ")";
}

}  // namespace

Status set_batch(Session* s, const std::vector<InputBuffer>& inputs) {
  const Graph& g = s->graph();
  if (inputs.size() != g.inputs.size())
    return InvalidArgument("the model has " + std::to_string(g.inputs.size()) + " input(s), a batch of " +
                           std::to_string(inputs.size()) + " given");
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = s->input(i);
    const InputBuffer& b = inputs[i];
    if (!b.data) return InvalidArgument(describe(t) + ": null data");
    const bool ok = b.dtype == DType::kF32 ? !is_integer_valued(t.dtype)
                    : is_index_type(b.dtype) ? is_integer_valued(t.dtype)
                                             : (is_quantized_type(b.dtype) || b.dtype == DType::kBool) && b.dtype == t.dtype;
    if (!ok)
      return InvalidArgument(describe(t) + " cannot take " + dtype_name(b.dtype) + " data" +
                             (is_integer_valued(t.dtype) ? ": give its values as int64 or int32" : ""));
    if (b.count != static_cast<size_t>(t.num_elements()))
      return InvalidArgument(describe(t) + " has " + std::to_string(t.num_elements()) + " elements, " +
                             std::to_string(b.count) + " given");
    Status st;
    switch (b.dtype) {
      case DType::kF32: st = s->set_input_f32(i, static_cast<const float*>(b.data), b.count); break;
      case DType::kS64: st = s->set_input_s64(i, static_cast<const int64_t*>(b.data), b.count); break;
      case DType::kS32: st = s->set_input_s32(i, static_cast<const int32_t*>(b.data), b.count); break;
      default: st = s->set_input_raw(i, b.data, b.count); break;
    }
    EDGEQ_RETURN_IF_ERROR(st);
  }
  return Status::Ok();
}

Status float_batch(const Graph& g, const std::vector<const float*>& inputs, std::vector<InputBuffer>* out) {
  out->clear();
  if (inputs.size() != g.inputs.size())
    return InvalidArgument("the model has " + std::to_string(g.inputs.size()) + " input(s), a batch of " +
                           std::to_string(inputs.size()) + " given");
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = g.tensors[g.inputs[i]];
    if (is_integer_valued(t.dtype))
      return InvalidArgument(describe(t) + " is an integer input: give its values as int64 or int32 "
                             "(quant::InputBuffer), not float");
    out->push_back(InputBuffer::f32(inputs[i], static_cast<size_t>(t.num_elements())));
  }
  return Status::Ok();
}

}  // namespace quant
}  // namespace edgeq
