// More of the constant evaluator (const_eval.cc calls eval_const_more() for the ops it
// does not know): the shape arithmetic PyTorch writes around transformer layers.
// Exports of expand(), masks and -1 reshapes carry chains such as
//   Shape -> ConstantOfShape -> Mul -> Equal -> Where -> Expand
// that are constant once the input shapes are fixed, and scalar math on constants
// (Sqrt of the head size, Pow, Reciprocal). Comparisons, Not/And/Or, Where, Expand, Range,
// Min/Max, Pow, unary math, Floor/Ceil/Round and Trilu (causal masks) are folded here with
// numpy broadcasting; all inputs are
// constants in ONNX order. Results follow ONNX types: comparisons give BOOL, the others
// their first (Where: second) input's type.
#include <cmath>
#include <functional>
#include <limits>

#include "graph/onnx/internal.h"

namespace edgeq {
namespace onnx_import {

using onnx::TensorProto;

namespace {

// Both operands broadcast to their common shape, as values of the same kind.
Status broadcast_pair(const ConstTensor& a, const ConstTensor& b, ConstTensor* ea,
                      ConstTensor* eb) {
  Shape os;
  if (!broadcast_shapes(a.dims, b.dims, &os))
    return InvalidModel("shapes " + shape_str(a.dims) + " and " + shape_str(b.dims) +
                        " do not broadcast");
  EDGEQ_RETURN_IF_ERROR(const_broadcast(a, os, ea));
  return const_broadcast(b, os, eb);
}

Status compare(const std::string& op, const ConstTensor& a, const ConstTensor& b,
               ConstTensor* r) {
  ConstTensor ea, eb;
  EDGEQ_RETURN_IF_ERROR(broadcast_pair(a, b, &ea, &eb));
  r->type = TensorProto::BOOL;
  r->dims = ea.dims;
  const int64_t n = ea.numel();
  r->i.resize(n);
  for (int64_t k = 0; k < n; ++k) {
    // Integers compare exactly as int64, floats as double.
    const bool ints = !ea.is_float() && !eb.is_float();
    const int64_t xi = ints ? ea.i[k] : 0, yi = ints ? eb.i[k] : 0;
    const double x = ea.at(k), y = eb.at(k);
    bool v;
    if (op == "Equal") v = ints ? xi == yi : x == y;
    else if (op == "Less") v = ints ? xi < yi : x < y;
    else if (op == "Greater") v = ints ? xi > yi : x > y;
    else if (op == "LessOrEqual") v = ints ? xi <= yi : x <= y;
    else if (op == "GreaterOrEqual") v = ints ? xi >= yi : x >= y;
    else if (op == "And") v = xi != 0 && yi != 0;
    else v = xi != 0 || yi != 0;  // Or
    r->i[k] = v ? 1 : 0;
  }
  return Status::Ok();
}

// Elementwise float math of one or two float operands (a second operand broadcast).
Status float_math(const ConstTensor& a, const ConstTensor* b,
                  const std::function<float(float, float)>& fn, ConstTensor* r) {
  if (!a.is_float() || (b && !b->is_float()))
    return Unsupported("integer operands are not folded");
  ConstTensor ea = a, eb;
  if (b) EDGEQ_RETURN_IF_ERROR(broadcast_pair(a, *b, &ea, &eb));
  r->type = a.type;
  r->dims = ea.dims;
  r->f.resize(ea.f.size());
  for (size_t k = 0; k < ea.f.size(); ++k) r->f[k] = fn(ea.f[k], b ? eb.f[k] : 0.f);
  return Status::Ok();
}

}  // namespace

Status eval_const_more(const onnx::NodeProto& n, int opset,
                       const std::vector<const ConstTensor*>& in,
                       std::vector<ConstTensor>* outs, bool* handled) {
  const std::string& op = n.op_type();
  const std::string label = node_label(n);
  auto fail = [&](const Status& s) { return Status(s.code(), label + ": " + s.message()); };
  auto input = [&](size_t k) -> const ConstTensor* { return k < in.size() ? in[k] : nullptr; };
  const ConstTensor* x = input(0);
  if (!x) return Status::Ok();
  ConstTensor r;
  Status s;
  if (op == "Equal" || op == "Less" || op == "Greater" || op == "LessOrEqual" ||
      op == "GreaterOrEqual" || op == "And" || op == "Or") {
    if (!input(1)) return InvalidModel(label + ": needs two inputs");
    s = compare(op, *x, *input(1), &r);
  } else if (op == "Not") {
    r = *x;
    r.type = TensorProto::BOOL;
    for (int64_t& v : r.i) v = v == 0 ? 1 : 0;
    if (x->is_float()) return InvalidModel(label + ": input must be bool");
  } else if (op == "Where") {
    const ConstTensor *a = input(1), *b = input(2);
    if (!a || !b) return InvalidModel(label + ": needs three inputs");
    if (a->is_float() != b->is_float()) return InvalidModel(label + ": X and Y types differ");
    Shape ab, os;
    if (!broadcast_shapes(a->dims, b->dims, &ab) || !broadcast_shapes(x->dims, ab, &os))
      return InvalidModel(label + ": shapes do not broadcast");
    ConstTensor c, ea, eb;
    s = const_broadcast(*x, os, &c);
    if (s.ok()) s = const_broadcast(*a, os, &ea);
    if (s.ok()) s = const_broadcast(*b, os, &eb);
    if (!s.ok()) return fail(s);
    r = ea;
    for (int64_t k = 0; k < r.numel(); ++k) {
      if (c.at(k) != 0) continue;
      if (r.is_float())
        r.f[k] = eb.f[k];
      else
        r.i[k] = eb.i[k];
    }
  } else if (op == "Expand") {
    std::vector<int64_t> shape;
    if (!input(1) || !input(1)->to_ints(&shape)) return InvalidModel(label + ": invalid shape");
    Shape os;
    if (!broadcast_shapes(x->dims, shape, &os))
      return InvalidModel(label + ": " + shape_str(x->dims) + " does not expand to " +
                          shape_str(shape));
    s = const_broadcast(*x, os, &r);
  } else if (op == "Range") {
    const ConstTensor *lim = input(1), *delta = input(2);
    if (!lim || !delta || x->numel() != 1 || lim->numel() != 1 || delta->numel() != 1)
      return InvalidModel(label + ": start, limit and delta must be scalars");
    if (x->is_float() != lim->is_float() || x->is_float() != delta->is_float())
      return InvalidModel(label + ": start, limit and delta differ in type");
    const double start = x->at(0), stop = lim->at(0), step = delta->at(0);
    if (step == 0 || !std::isfinite(start) || !std::isfinite(stop) || !std::isfinite(step))
      return InvalidModel(label + ": invalid range");
    const double cnt = std::max(0.0, std::ceil((stop - start) / step));
    if (cnt > kMaxFoldElements) return Unsupported(label + ": constant result too large to fold");
    r.type = x->type;
    r.dims = {static_cast<int64_t>(cnt)};
    for (int64_t k = 0; k < static_cast<int64_t>(cnt); ++k) {
      if (x->is_float())
        r.f.push_back(static_cast<float>(start + k * step));
      else
        r.i.push_back(x->i[0] + k * delta->i[0]);
    }
  } else if (op == "Mod") {  // as ref::mod (an integer x mod 0 is 0)
    int64_t fmod = 0;
    s = attr_int(n, "fmod", 0, &fmod);
    if (!s.ok()) return fail(s);
    const ConstTensor* y = input(1);
    if (!y || y->is_float() != x->is_float() || (x->is_float() && fmod != 1))
      return InvalidModel(label + ": invalid inputs");
    ConstTensor ea, eb;
    s = broadcast_pair(*x, *y, &ea, &eb);
    if (!s.ok()) return fail(s);
    for (int64_t e = 0; e < ea.numel(); ++e) {
      if (ea.is_float()) {
        ea.f[e] = std::fmod(ea.f[e], eb.f[e]);
        continue;
      }
      const int64_t a = ea.i[e], b = eb.i[e];
      int64_t m = b == 0 || b == -1 ? 0 : a % b;
      if (fmod == 0 && m != 0 && ((m < 0) != (b < 0))) m += b;
      ea.i[e] = m;
    }
    r = std::move(ea);
  } else if (op == "Min" || op == "Max") {
    const bool mx = op == "Max";
    r = *x;
    for (int k = 1; k < n.input_size() && s.ok(); ++k) {
      const ConstTensor* y = input(k);
      if (!y || y->is_float() != r.is_float()) return InvalidModel(label + ": invalid inputs");
      ConstTensor ea, eb;
      s = broadcast_pair(r, *y, &ea, &eb);
      if (!s.ok()) break;
      for (int64_t e = 0; e < ea.numel(); ++e) {
        if (ea.is_float())
          ea.f[e] = mx ? std::max(ea.f[e], eb.f[e]) : std::min(ea.f[e], eb.f[e]);
        else
          ea.i[e] = mx ? std::max(ea.i[e], eb.i[e]) : std::min(ea.i[e], eb.i[e]);
      }
      r = std::move(ea);
    }
  } else if (op == "ReduceProd" || (op == "ReduceSum" && !x->is_float())) {
    // Shape arithmetic: torch.std / var count their elements as ReduceProd of a Shape.
    std::vector<int64_t> axes;
    bool have_axes = false;
    if (op == "ReduceSum" ? opset >= 13 : opset >= 18) {  // axes became an input
      if (input(1) != nullptr) {
        if (!input(1)->to_ints(&axes)) return InvalidModel(label + ": invalid axes");
        have_axes = true;
      }
    } else {
      const onnx::AttributeProto* a = find_attr(n, "axes");
      if (a != nullptr) {
        axes.assign(a->ints().begin(), a->ints().end());
        have_axes = true;
      }
    }
    int64_t keepdims = 1, noop = 0;
    s = attr_int(n, "keepdims", 1, &keepdims);
    if (s.ok()) s = attr_int(n, "noop_with_empty_axes", 0, &noop);
    if (!s.ok()) return s;
    const size_t rank = x->dims.size();
    std::vector<bool> reduced(rank, !have_axes || axes.empty());
    if (have_axes && axes.empty() && noop) std::fill(reduced.begin(), reduced.end(), false);
    for (int64_t axis : axes) {
      int64_t a;
      if (!normalize_axis(axis, rank, &a).ok()) return InvalidModel(label + ": axis out of range");
      reduced[static_cast<size_t>(a)] = true;
    }
    Shape out_dims;
    for (size_t d = 0; d < rank; ++d)
      if (!reduced[d] || keepdims) out_dims.push_back(reduced[d] ? 1 : x->dims[d]);
    r.type = x->type;
    r.dims = out_dims;
    int64_t count = 1;
    for (int64_t d : out_dims) count *= d;
    const bool prod = op == "ReduceProd";
    if (x->is_float()) r.f.assign(static_cast<size_t>(count), prod ? 1.f : 0.f);
    else r.i.assign(static_cast<size_t>(count), prod ? 1 : 0);
    std::vector<int64_t> idx(rank, 0);
    for (int64_t e = 0; e < x->numel(); ++e) {
      int64_t o = 0;  // the output element of input element e (idx its index)
      for (size_t d = 0; d < rank; ++d) o = o * (reduced[d] ? 1 : x->dims[d]) + (reduced[d] ? 0 : idx[d]);
      if (x->is_float()) r.f[static_cast<size_t>(o)] = prod ? r.f[o] * x->f[e] : r.f[o] + x->f[e];
      else r.i[static_cast<size_t>(o)] = static_cast<int64_t>(prod ? static_cast<uint64_t>(r.i[o]) * static_cast<uint64_t>(x->i[e])
                                                                   : static_cast<uint64_t>(r.i[o]) + static_cast<uint64_t>(x->i[e]));
      for (size_t d = rank; d-- > 0 && ++idx[d] == x->dims[d];) idx[d] = 0;
    }
  } else if (op == "Trilu") {  // causal masks: torch.triu / tril of a constant matrix
    int64_t upper = 1, k = 0;
    s = attr_int(n, "upper", 1, &upper);
    if (!s.ok()) return s;
    if (input(1) != nullptr) {
      std::vector<int64_t> kv;
      if (!input(1)->to_ints(&kv) || kv.size() != 1) return InvalidModel(label + ": k must be one integer");
      k = kv[0];
    }
    if (x->dims.size() < 2) return InvalidModel(label + ": the input must have rank 2 or more");
    r = *x;
    const int64_t rows = x->dims[x->dims.size() - 2], cols = x->dims.back();
    const int64_t count = r.numel();
    for (int64_t e = 0; e < count; ++e) {
      const int64_t i = e / cols % rows, j = e % cols;
      // Kept: j - i >= k (upper) or j - i <= k (lower); the rest becomes 0.
      if (upper != 0 ? j - i >= k : j - i <= k) continue;
      if (r.is_float())
        r.f[e] = 0.f;
      else
        r.i[e] = 0;
    }
  } else if ((op == "Floor" || op == "Ceil" || op == "Round") && x->is_float()) {
    // F.interpolate(recompute_scale_factor=True) sizes its output with Floor.
    std::function<float(float, float)> fn;
    if (op == "Floor") fn = [](float a, float) { return std::floor(a); };
    else if (op == "Ceil") fn = [](float a, float) { return std::ceil(a); };
    else fn = [](float a, float) { return std::nearbyint(a); };  // half to even (the default rounding mode)
    s = float_math(*x, nullptr, fn, &r);
  } else if (op == "Abs" && !x->is_float()) {  // integers: exact (T5's relative positions)
    r = *x;
    for (int64_t& v : r.i) v = v < 0 ? static_cast<int64_t>(0 - static_cast<uint64_t>(v)) : v;
  } else if ((op == "Pow" || op == "Sqrt" || op == "Reciprocal" || op == "Erf" || op == "Tanh" ||
              op == "Exp" || op == "Log" || op == "Abs" || op == "Sigmoid") &&
             !x->is_float()) {
    return Status::Ok();  // integer math is not folded
  } else if (op == "Pow") {
    if (!input(1)) return InvalidModel(label + ": needs two inputs");
    ConstTensor e;
    s = cast_const(*input(1), TensorProto::FLOAT, &e);
    if (s.ok()) s = float_math(*x, &e, [](float a, float b) { return std::pow(a, b); }, &r);
  } else if ((op == "Sin" || op == "Cos") && x->is_float()) {  // positional encodings from constant positions
    s = float_math(*x, nullptr,
                   op == "Sin" ? std::function<float(float, float)>([](float a, float) { return std::sin(a); })
                               : std::function<float(float, float)>([](float a, float) { return std::cos(a); }),
                   &r);
  } else if (op == "Sqrt" || op == "Reciprocal" || op == "Erf" || op == "Tanh" || op == "Exp" ||
             op == "Log" || op == "Abs" || op == "Sigmoid") {
    std::function<float(float, float)> fn;
    if (op == "Sqrt") fn = [](float a, float) { return std::sqrt(a); };
    else if (op == "Reciprocal") fn = [](float a, float) { return 1.f / a; };
    else if (op == "Erf") fn = [](float a, float) { return std::erf(a); };
    else if (op == "Tanh") fn = [](float a, float) { return std::tanh(a); };
    else if (op == "Exp") fn = [](float a, float) { return std::exp(a); };
    else if (op == "Log") fn = [](float a, float) { return std::log(a); };
    else if (op == "Sigmoid") fn = [](float a, float) { return 1.f / (1.f + std::exp(-a)); };
    else fn = [](float a, float) { return std::fabs(a); };
    s = float_math(*x, nullptr, fn, &r);
  } else {
    return Status::Ok();
  }
  if (!s.ok()) return fail(s);
  outs->push_back(std::move(r));
  *handled = true;
  return Status::Ok();
}

}  // namespace onnx_import
}  // namespace edgeq
