// Lowering of the ONNX ops attention masks and unfused normalizations are built from
// (conventions as in lower_ops.cc), when an input is computed at run time (on constants
// the constant evaluator folds them first):
//  * Equal, Less, Greater, LessOrEqual, GreaterOrEqual (float, int32, int64 or bool
//    operands) -> IR Equal / Less / Greater (the -OrEqual forms as Or of two), bool out:
//    DistilBERT's `mask == 0`, a bool key_padding_mask compared with true.
//  * And, Or, Xor, Not -> the IR logical ops: a padding mask merged with a causal one.
//  * Where(cond, X, Y) -> IR Where: a bool mask turned into -inf / 0 scores, or applied
//    to the scores directly (masked_fill).
//  * Pow with a constant scalar exponent, Sqrt, Reciprocal, Exp, Log, Neg, Abs -> the IR
//    unary ops (RMSNorm's x.pow(2) and rsqrt, a LayerNorm whose pieces are used
//    elsewhere and so stay unfused).
//  * ReduceMean / Sum / Max / Min over any block of contiguous axes other than an
//    image's spatial pair (that one stays a global pool: lower_ops.cc) -> the IR reduce
//    ops with keepdims, plus a Reshape for keepdims = 0; ReduceL1, ReduceL2,
//    ReduceSumSquare and ReduceLogSumExp, and LogSoftmax, as their pieces.
// Bool values are IR kBool tensors: one byte each. All results here keep ONNX order.
#include <algorithm>
#include <cmath>

#include "graph/onnx/internal.h"

namespace edgeq {
namespace onnx_import {

using onnx::TensorProto;
using Ints = std::vector<int64_t>;

namespace {

bool mask_operand_type(int32_t t) {
  return t == TensorProto::FLOAT || t == TensorProto::INT64 || t == TensorProto::INT32 || t == TensorProto::BOOL;
}

DType mask_dtype(int32_t t) {
  switch (t) {
    case TensorProto::INT64: return DType::kS64;
    case TensorProto::INT32: return DType::kS32;
    case TensorProto::BOOL: return DType::kBool;
    default: return DType::kF32;
  }
}

}  // namespace

// Operands of an elementwise mask op brought to the result's rank: NHWC when one of them
// is an image tensor (as Add does), else ONNX order; *nhwc says which.
Status Importer::MaskOperands(const onnx::NodeProto& n, const std::vector<Value*>& in, Shape* out_shape,
                              std::vector<int32_t>* irs, bool* nhwc) {
  *out_shape = in[0]->shape;
  for (size_t k = 1; k < in.size(); ++k) {
    Shape s;
    if (!broadcast_shapes(*out_shape, in[k]->shape, &s))
      return Fail(n, StatusCode::kInvalidModel,
                  "shapes " + shape_str(*out_shape) + " and " + shape_str(in[k]->shape) + " do not broadcast");
    *out_shape = s;
  }
  if (out_shape->size() > 6) return Fail(n, StatusCode::kUnsupported, "rank above 6");
  irs->clear();
  *nhwc = ResultNhwc(std::vector<const Value*>(in.begin(), in.end()));
  for (Value* v : in) {
    int32_t ir;
    EDGEQ_RETURN_IF_ERROR(BroadcastOperand(n, v, out_shape->size(), &ir, *nhwc));
    irs->push_back(ir);
  }
  return Status::Ok();
}

Status Importer::LowerLogical(const onnx::NodeProto& n) {
  const std::string& op = n.op_type();
  const bool unary = op == "Not";
  std::vector<Value*> in(unary ? 1 : 2);
  for (size_t k = 0; k < in.size(); ++k) {
    EDGEQ_RETURN_IF_ERROR(Input(n, static_cast<int>(k), &in[k]));
    if (!mask_operand_type(in[k]->type) || (op != "Equal" && op != "Less" && op != "Greater" &&
                                             op != "LessOrEqual" && op != "GreaterOrEqual" &&
                                             in[k]->type != TensorProto::BOOL))
      return Fail(n, StatusCode::kUnsupported,
                  "input '" + in[k]->name + "' has type " + onnx_type_name(in[k]->type) +
                      " (supported: float, int32, int64 and bool; logical ops: bool)");
  }
  if (!unary && in[0]->type != in[1]->type)
    return Fail(n, StatusCode::kInvalidModel, "the inputs differ in element type");
  Shape shape;
  std::vector<int32_t> irs;
  bool nhwc;
  EDGEQ_RETURN_IF_ERROR(MaskOperands(n, in, &shape, &irs, &nhwc));
  static const std::map<std::string, OpType> kOps = {
      {"Equal", OpType::kEqual}, {"Less", OpType::kLess}, {"Greater", OpType::kGreater},
      {"And", OpType::kAnd},     {"Or", OpType::kOr},     {"Xor", OpType::kXor},
      {"Not", OpType::kNot}};
  int32_t out;
  if (op == "LessOrEqual" || op == "GreaterOrEqual") {
    // a <= b is (a < b) or (a == b): false when either is NaN, as ONNX defines it.
    int32_t strict, equal;
    Status s = NewTensor(n.output(0) + ".strict", false, DType::kBool, IrShape(shape, nhwc), &strict);
    if (s.ok()) s = NewTensor(n.output(0) + ".equal", false, DType::kBool, IrShape(shape, nhwc), &equal);
    if (!s.ok()) return Fail(n, s.code(), s.message());
    if (shape.size() == 4 && !nhwc) plain_.insert({strict, equal});
    Emit(n, "strict", op == "LessOrEqual" ? OpType::kLess : OpType::kGreater, irs, {strict});
    Emit(n, "equal", OpType::kEqual, irs, {equal});
    EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, DType::kBool, shape, &out, nhwc));
    Emit(n, "", OpType::kOr, {strict, equal}, {out});
    return Status::Ok();
  }
  EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, DType::kBool, shape, &out, nhwc));
  Emit(n, "", kOps.at(op), irs, {out});
  return Status::Ok();
}

Status Importer::LowerWhere(const onnx::NodeProto& n) {
  std::vector<Value*> in(3);
  for (int k = 0; k < 3; ++k) EDGEQ_RETURN_IF_ERROR(Input(n, k, &in[k]));
  if (in[0]->type != TensorProto::BOOL)
    return Fail(n, StatusCode::kInvalidModel, "the condition '" + in[0]->name + "' is not bool");
  if (!mask_operand_type(in[1]->type) || in[1]->type != in[2]->type)
    return Fail(n, StatusCode::kUnsupported,
                "the values have types " + std::string(onnx_type_name(in[1]->type)) + " and " +
                    onnx_type_name(in[2]->type) + " (supported: both float, int32, int64 or bool)");
  Shape shape;
  std::vector<int32_t> irs;
  bool nhwc;
  EDGEQ_RETURN_IF_ERROR(MaskOperands(n, in, &shape, &irs, &nhwc));
  int32_t out;
  EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, mask_dtype(in[1]->type), shape, &out, nhwc));
  Emit(n, "", OpType::kWhere, irs, {out});
  return Status::Ok();
}

// Pow(x, constant scalar) -> unary Pow with the exponent as alpha.
Status Importer::LowerPow(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
  std::vector<float> e;
  bool have = false;
  EDGEQ_RETURN_IF_ERROR(ConstFloats(n, 1, &e, &have));
  if (!have || e.size() != 1 || !std::isfinite(e[0]))
    return Fail(n, StatusCode::kUnsupported, "the exponent must be a finite constant scalar");
  Attrs a;
  a.alpha = e[0];
  int32_t x_ir, out;
  EDGEQ_RETURN_IF_ERROR(AsTensor(n, x, &x_ir));
  EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, DType::kF32, x->shape, &out, Nhwc(*x)));
  Emit(n, "", OpType::kPow, {x_ir}, {out}, a);
  return Status::Ok();
}

// The reductions over contiguous axes (axes given, or all), not the spatial pair of an
// image (LowerReduce keeps that one): ReduceMean / Sum / Max / Min as one IR op;
// ReduceL1 (Abs, sum), ReduceL2 (x*x, sum, Sqrt), ReduceSumSquare (x*x, sum) and
// ReduceLogSumExp (max m, then m + log(sum(exp(x - m))), ONNX Runtime's stable form) as
// their pieces. keepdims = 0 adds a Reshape.
Status Importer::LowerReduceAxes(const onnx::NodeProto& n, Ints axes, bool keepdims) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  const bool integer = x->type == TensorProto::INT64 || x->type == TensorProto::INT32;
  if (!integer) EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
  const DType dt = mask_dtype(x->type);  // F32, or the integers' own type (sum / max / min)
  const size_t r = x->shape.size();
  if (r == 0 || r > 6) return Fail(n, StatusCode::kUnsupported, "input rank must be 1 to 6");
  if (axes.empty())
    for (size_t d = 0; d < r; ++d) axes.push_back(static_cast<int64_t>(d));
  std::vector<bool> reduced(r, false);
  for (int64_t a : axes) reduced[a] = true;
  Shape kept = x->shape, dropped;
  for (size_t d = 0; d < r; ++d) {
    if (reduced[d]) kept[d] = 1;
    else dropped.push_back(x->shape[d]);
  }
  const std::string& op = n.op_type();
  const bool chainable = op == "ReduceMean" || op == "ReduceSum" || op == "ReduceMax" || op == "ReduceMin" ||
                         op == "GlobalAveragePool" || op == "GlobalMaxPool";
  // Blocks of contiguous reduced axes (size-1 axes between join them): a mean, sum, max
  // or min over several blocks is the same reduction block after block (the mean of
  // equal-sized means is the mean).
  std::vector<std::pair<size_t, size_t>> blocks;
  for (size_t d = 0; d < r; ++d) {
    if (!reduced[d] || x->shape[d] == 1) continue;
    if (!blocks.empty()) {
      bool joined = true;
      for (size_t k = blocks.back().second + 1; k < d; ++k) joined &= x->shape[k] == 1;
      if (joined) {
        blocks.back().second = d;
        continue;
      }
    }
    blocks.push_back({d, d});
  }
  if (blocks.size() > 1 && !chainable)
    return Fail(n, StatusCode::kUnsupported, "the reduced axes must be contiguous");
  int32_t x_ir;
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, false, &x_ir));
  auto piece = [&](const std::string& suffix, const Shape& s, int32_t* ir) -> Status {
    Status st = NewTensor(n.output(0) + "." + suffix, false, dt, s, ir);
    if (!st.ok()) return Fail(n, st.code(), st.message());
    if (s.size() == 4) plain_.insert(*ir);
    return Status::Ok();
  };
  // The reduction's value with kept dimensions: the node's output, or a piece before
  // the Reshape that drops them.
  int32_t result;
  auto result_tensor = [&]() -> Status {
    return keepdims ? OutputTensor(n, 0, dt, kept, &result, false) : piece("keepdims", kept, &result);
  };
  if (op == "ReduceMean" || op == "ReduceSum" || op == "ReduceMax" || op == "ReduceMin" ||
      op == "GlobalAveragePool" || op == "GlobalMaxPool") {
    const OpType t = op == "ReduceMean" || op == "GlobalAveragePool" ? OpType::kReduceMean
                     : op == "ReduceSum"                             ? OpType::kReduceSum
                     : op == "ReduceMax" || op == "GlobalMaxPool"    ? OpType::kReduceMax
                                                                     : OpType::kReduceMin;
    int32_t cur = x_ir;
    Shape cur_shape = x->shape;
    for (size_t b = 0; b + 1 < blocks.size(); ++b) {  // every block but the last into a piece
      for (size_t d = blocks[b].first; d <= blocks[b].second; ++d) cur_shape[d] = 1;
      int32_t next;
      EDGEQ_RETURN_IF_ERROR(piece("block" + std::to_string(b), cur_shape, &next));
      Emit(n, "block" + std::to_string(b), t, {cur}, {next});
      cur = next;
    }
    EDGEQ_RETURN_IF_ERROR(result_tensor());
    Emit(n, "", t, {cur}, {result});
  } else if (op == "ReduceL1" || op == "ReduceL2" || op == "ReduceSumSquare") {
    int32_t e;
    EDGEQ_RETURN_IF_ERROR(piece(op == "ReduceL1" ? "abs" : "square", x->shape, &e));
    Attrs square;
    square.alpha = 2.f;  // Pow 2: x * x exactly
    if (op == "ReduceL1") Emit(n, "abs", OpType::kAbs, {x_ir}, {e});
    else Emit(n, "square", OpType::kPow, {x_ir}, {e}, square);
    if (op == "ReduceL2") {
      int32_t sum;
      EDGEQ_RETURN_IF_ERROR(piece("sum", kept, &sum));
      Emit(n, "sum", OpType::kReduceSum, {e}, {sum});
      EDGEQ_RETURN_IF_ERROR(result_tensor());
      Emit(n, "", OpType::kSqrt, {sum}, {result});
    } else {
      EDGEQ_RETURN_IF_ERROR(result_tensor());
      Emit(n, "", OpType::kReduceSum, {e}, {result});
    }
  } else if (op == "ReduceLogSumExp") {
    int32_t m, d, e, sum, lg;
    EDGEQ_RETURN_IF_ERROR(piece("max", kept, &m));
    EDGEQ_RETURN_IF_ERROR(piece("shifted", x->shape, &d));
    EDGEQ_RETURN_IF_ERROR(piece("exp", x->shape, &e));
    EDGEQ_RETURN_IF_ERROR(piece("sum", kept, &sum));
    EDGEQ_RETURN_IF_ERROR(piece("log", kept, &lg));
    Emit(n, "max", OpType::kReduceMax, {x_ir}, {m});
    Emit(n, "shift", OpType::kSub, {x_ir, m}, {d});
    Emit(n, "exp", OpType::kExp, {d}, {e});
    Emit(n, "sum", OpType::kReduceSum, {e}, {sum});
    Emit(n, "log", OpType::kLog, {sum}, {lg});
    EDGEQ_RETURN_IF_ERROR(result_tensor());
    Emit(n, "", OpType::kAdd, {lg, m}, {result});
  } else {
    return Fail(n, StatusCode::kUnsupported, "operator is not supported");
  }
  if (keepdims) return Status::Ok();
  return ReshapeToOutput(n, result, x->type, kept, dropped);
}

// Add, Sub, Mul, Div of two int32 or two int64 values, at least one computed at run time
// (position ids from token ids, as RoBERTa computes them; a heatmap's argmax split into
// row and column): wrapping integer ops, Div truncating.
Status Importer::LowerIntegerBinary(const onnx::NodeProto& n, Value* a, Value* b) {
  const std::string& op = n.op_type();
  return EmitElementwise(n, {a, b},
                         op == "Add"   ? OpType::kAdd
                         : op == "Sub" ? OpType::kSub
                         : op == "Mul" ? OpType::kMul
                                       : OpType::kDiv,
                         Attrs());
}

// Mod (idx % W: a heatmap's argmax split into row and column) of two int32 / int64 values,
// or of floats with fmod 1 (std::fmod), at least one computed at run time.
Status Importer::LowerMod(const onnx::NodeProto& n) {
  Value *a, *b;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &a));
  EDGEQ_RETURN_IF_ERROR(Input(n, 1, &b));
  int64_t fmod;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "fmod", 0, &fmod));
  if (fmod != 0 && fmod != 1) return Fail(n, StatusCode::kInvalidModel, "fmod must be 0 or 1");
  const bool ints = a->type == TensorProto::INT64 || a->type == TensorProto::INT32;
  if ((!ints && a->type != TensorProto::FLOAT) || b->type != a->type)
    return Fail(n, StatusCode::kUnsupported, "operands must both be int32, int64 or float");
  if (!ints && fmod != 1) return Fail(n, StatusCode::kInvalidModel, "a float Mod needs fmod 1");
  Attrs at;
  at.fmod = static_cast<int32_t>(fmod);
  return EmitElementwise(n, {a, b}, OpType::kMod, at);
}

// One broadcasting IR op on float / integer operands in a common layout (MaskOperands),
// its output of the first operand's type.
Status Importer::EmitElementwise(const onnx::NodeProto& n, const std::vector<Value*>& in, OpType op,
                                 const Attrs& attrs) {
  Shape shape;
  std::vector<int32_t> irs;
  bool nhwc;
  EDGEQ_RETURN_IF_ERROR(MaskOperands(n, in, &shape, &irs, &nhwc));
  int32_t out;
  EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, mask_dtype(in[0]->type), shape, &out, nhwc));
  Emit(n, "", op, irs, {out}, attrs);
  return Status::Ok();
}

// CastLike (opset 15; exporters built on onnxscript write it for type_as): the Cast to
// its second input's element type.
Status Importer::LowerCastLike(const onnx::NodeProto& n) {
  if (n.input_size() != 2 || n.input(1).empty()) return Fail(n, StatusCode::kInvalidModel, "needs two inputs");
  Value* like;
  EDGEQ_RETURN_IF_ERROR(Input(n, 1, &like));
  return LowerSynthetic(n, "Cast", {n.input(0)}, n.output(0), {int_attr("to", like->type)});
}

// ONNX Runtime's FusedMatMul (contrib_ops.cc hands it over in the standard domain):
// alpha * op(A) op(B), op swapping the last two axes where transA / transB ask: the
// Transposes, the MatMul and the Mul as synthetic nodes.
Status Importer::LowerFusedMatMul(const onnx::NodeProto& n) {
  if (n.input_size() < 2) return Fail(n, StatusCode::kInvalidModel, "needs two inputs");
  float alpha;
  int64_t trans_a, trans_b;
  EDGEQ_RETURN_IF_ERROR(attr_float(n, "alpha", 1.f, &alpha));
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "transA", 0, &trans_a));
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "transB", 0, &trans_b));
  const std::string base = n.output(0) + ".fused_matmul_";
  std::string operands[2];
  for (int k = 0; k < 2; ++k) {
    operands[k] = n.input(k);
    if ((k == 0 ? trans_a : trans_b) == 0) continue;
    Value* v;
    EDGEQ_RETURN_IF_ERROR(Input(n, k, &v));
    const size_t rank = v->shape.size();
    if (rank < 2) return Fail(n, StatusCode::kInvalidModel, "a transposed operand needs a rank of 2 or more");
    std::vector<int64_t> perm(rank);  // the last two axes swapped
    for (size_t d = 0; d < rank; ++d) perm[d] = static_cast<int64_t>(d < rank - 2 ? d : 2 * rank - 3 - d);
    operands[k] = base + (k == 0 ? "a_t" : "b_t");
    EDGEQ_RETURN_IF_ERROR(LowerSynthetic(n, "Transpose", {n.input(k)}, operands[k], {ints_attr("perm", perm)}));
  }
  if (alpha == 1.f) return LowerSynthetic(n, "MatMul", {operands[0], operands[1]}, n.output(0));
  EDGEQ_RETURN_IF_ERROR(LowerSynthetic(n, "MatMul", {operands[0], operands[1]}, base + "product"));
  const std::string a = DefineConst(base + "alpha", TensorProto::FLOAT, {}, {alpha}, {});
  return LowerSynthetic(n, "Mul", {base + "product", a}, n.output(0));
}

// Hardmax (opset 13: along one axis): 1 at the first largest value of each slice, 0
// elsewhere, as the ArgMax along the axis compared with the indices 0 .. n-1 there and
// cast to float. Before opset 13 the input was flattened to 2-D at the axis; there
// only the last axis, where both agree, is taken.
Status Importer::LowerHardmax(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  const int64_t rank = static_cast<int64_t>(x->shape.size());
  if (rank == 0) return Fail(n, StatusCode::kInvalidModel, "the input needs a rank of 1 or more");
  int64_t axis;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "axis", opset_ >= 13 ? -1 : 1, &axis));
  Status s = normalize_axis(axis, static_cast<size_t>(rank), &axis);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (opset_ < 13 && axis != rank - 1)
    return Fail(n, StatusCode::kUnsupported, "Hardmax before opset 13 on an axis other than the last");
  const int64_t count = x->shape[static_cast<size_t>(axis)];
  if (count > (int64_t{1} << 24))
    return Fail(n, StatusCode::kUnsupported, "Hardmax over more than 2^24 values is not supported");
  Shape iota_shape(static_cast<size_t>(rank), 1);
  iota_shape[static_cast<size_t>(axis)] = count;
  std::vector<int64_t> iota(static_cast<size_t>(count));
  for (int64_t k = 0; k < count; ++k) iota[static_cast<size_t>(k)] = k;
  const std::string base = n.output(0) + ".hardmax_";
  const std::string indices = DefineConst(base + "indices", TensorProto::INT64, iota_shape, {}, iota);
  EDGEQ_RETURN_IF_ERROR(
      LowerSynthetic(n, "ArgMax", {n.input(0)}, base + "argmax", {int_attr("axis", axis), int_attr("keepdims", 1)}));
  EDGEQ_RETURN_IF_ERROR(LowerSynthetic(n, "Equal", {base + "argmax", indices}, base + "onehot"));
  return LowerSynthetic(n, "Cast", {base + "onehot"}, n.output(0), {int_attr("to", x->type)});
}

// Sum and Mean of one or more values (numpy broadcasting): a chain of Adds in input
// order, Mean then divided by the count; one input is passed through.
Status Importer::LowerSumMean(const onnx::NodeProto& n) {
  if (n.input_size() < 1) return Fail(n, StatusCode::kInvalidModel, "no inputs");
  if (n.input_size() == 1) return LowerPassThrough(n);
  const bool mean = n.op_type() == "Mean";
  std::string acc = n.input(0);
  for (int k = 1; k < n.input_size(); ++k) {
    const bool last = k + 1 == n.input_size() && !mean;
    const std::string next = last ? n.output(0) : n.output(0) + ".sum" + std::to_string(k);
    EDGEQ_RETURN_IF_ERROR(LowerSynthetic(n, "Add", {acc, n.input(k)}, next));
    acc = next;
  }
  if (!mean) return Status::Ok();
  const std::string count =
      DefineConst(n.output(0) + ".count", TensorProto::FLOAT, {}, {static_cast<float>(n.input_size())}, {});
  return LowerSynthetic(n, "Div", {acc, count}, n.output(0));
}

// Max / Min of two or more float, int32 or int64 values (at least one computed at run
// time): a chain of the binary IR ops, numpy broadcasting.
Status Importer::LowerMinMax(const onnx::NodeProto& n) {
  if (n.input_size() < 1) return Fail(n, StatusCode::kInvalidModel, "no inputs");
  std::vector<Value*> in(static_cast<size_t>(n.input_size()));
  for (int k = 0; k < n.input_size(); ++k) {
    EDGEQ_RETURN_IF_ERROR(Input(n, k, &in[k]));
    if ((in[k]->type != TensorProto::FLOAT && in[k]->type != TensorProto::INT64 && in[k]->type != TensorProto::INT32) ||
        in[k]->type != in[0]->type)
      return Fail(n, StatusCode::kUnsupported, "input '" + in[k]->name + "' has type " + onnx_type_name(in[k]->type) +
                                                   " (supported: float, int32, int64, all the same)");
  }
  if (in.size() == 1) return LowerPassThrough(n);
  Shape shape = in[0]->shape;
  for (size_t k = 1; k < in.size(); ++k) {
    Shape s;
    if (!broadcast_shapes(shape, in[k]->shape, &s))
      return Fail(n, StatusCode::kInvalidModel, "shapes " + shape_str(shape) + " and " + shape_str(in[k]->shape) +
                                                    " do not broadcast");
    shape = s;
  }
  if (shape.size() > 6) return Fail(n, StatusCode::kUnsupported, "rank above 6");
  // Elementwise: an image operand keeps the result NHWC, as Add does.
  const bool nhwc = ResultNhwc(std::vector<const Value*>(in.begin(), in.end()));
  std::vector<int32_t> irs;
  for (Value* v : in) {
    int32_t ir;
    EDGEQ_RETURN_IF_ERROR(BroadcastOperand(n, v, shape.size(), &ir, nhwc));
    irs.push_back(ir);
  }
  const OpType t = n.op_type() == "Max" ? OpType::kMax : OpType::kMin;
  int32_t acc = irs[0];
  for (size_t k = 1; k < irs.size(); ++k) {
    int32_t out;
    if (k + 1 == irs.size()) {
      EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, mask_dtype(in[0]->type), shape, &out, nhwc));
    } else {
      Status s = NewTensor(n.output(0) + "." + std::to_string(k), false, mask_dtype(in[0]->type),
                           IrShape(shape, nhwc), &out);
      if (!s.ok()) return Fail(n, s.code(), s.message());
      if (shape.size() == 4 && !nhwc) plain_.insert(out);
    }
    Emit(n, k + 1 == irs.size() ? "" : std::to_string(k), t, {acc, irs[k]}, {out});
    acc = out;
  }
  return Status::Ok();
}

// CumSum along a constant axis (float, int32 or int64), not exclusive, not reversed.
Status Importer::LowerCumSum(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  if (x->type != TensorProto::FLOAT && x->type != TensorProto::INT64 && x->type != TensorProto::INT32)
    return Fail(n, StatusCode::kUnsupported, std::string("input type ") + onnx_type_name(x->type) +
                                                 " (supported: float, int32, int64)");
  Ints axis;
  bool have = false;
  EDGEQ_RETURN_IF_ERROR(ConstInts(n, 1, &axis, &have));
  if (!have || axis.size() != 1) return Fail(n, StatusCode::kInvalidModel, "the axis must be a constant scalar");
  int64_t exclusive, reverse;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "exclusive", 0, &exclusive));
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "reverse", 0, &reverse));
  if (exclusive || reverse) return Fail(n, StatusCode::kUnsupported, "exclusive or reverse sums are not supported");
  const size_t r = x->shape.size();
  if (r == 0 || r > 6) return Fail(n, StatusCode::kUnsupported, "input rank must be 1 to 6");
  Status s = normalize_axis(axis[0], r, &axis[0]);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  int32_t x_ir, out;
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, false, &x_ir));
  EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, mask_dtype(x->type), x->shape, &out, false));
  Attrs a;
  a.axis = static_cast<int32_t>(axis[0]);
  Emit(n, "", OpType::kCumSum, {x_ir}, {out}, a);
  return Status::Ok();
}

// LogSoftmax as its stable pieces: d = x - max(x), y = d - log(sum(exp(d))) over the
// axis (before opset 13: over every axis from `axis` on, the input seen as 2-D).
Status Importer::LowerLogSoftmax(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
  const size_t r = x->shape.size();
  if (r == 0 || r > 6) return Fail(n, StatusCode::kUnsupported, "input rank must be 1 to 6");
  int64_t axis;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "axis", opset_ >= 13 ? -1 : 1, &axis));
  Status s = normalize_axis(axis, r, &axis);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  Shape kept = x->shape;
  for (size_t d = static_cast<size_t>(axis); d < (opset_ >= 13 ? static_cast<size_t>(axis) + 1 : r); ++d) kept[d] = 1;
  int32_t x_ir, m, d, e, sum, lg, out;
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, false, &x_ir));
  const std::pair<const char*, std::pair<const Shape*, int32_t*>> pieces[] = {
      {"max", {&kept, &m}}, {"shifted", {&x->shape, &d}}, {"exp", {&x->shape, &e}},
      {"sum", {&kept, &sum}}, {"log", {&kept, &lg}}};
  for (const auto& p : pieces) {
    s = NewTensor(n.output(0) + "." + p.first, false, DType::kF32, *p.second.first, p.second.second);
    if (!s.ok()) return Fail(n, s.code(), s.message());
    if (r == 4) plain_.insert(*p.second.second);
  }
  Emit(n, "max", OpType::kReduceMax, {x_ir}, {m});
  Emit(n, "shift", OpType::kSub, {x_ir, m}, {d});
  Emit(n, "exp", OpType::kExp, {d}, {e});
  Emit(n, "sum", OpType::kReduceSum, {e}, {sum});
  Emit(n, "log", OpType::kLog, {sum}, {lg});
  EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, DType::kF32, x->shape, &out, false));
  Emit(n, "", OpType::kSub, {d, lg}, {out});
  return Status::Ok();
}

}  // namespace onnx_import
}  // namespace edgeq
