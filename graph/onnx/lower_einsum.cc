// Einsum (attention written with torch.einsum: "bhid,bhjd->bhij", "bij,bjk->bik",
// permutations such as "bchw->bhwc") rewritten as the ONNX ops it amounts to, each
// lowered as usual: for two operands, Transposes bring each to [batch, free, contracted]
// and [batch, contracted, free], Reshapes merge each group, a MatMul multiplies, and a
// Reshape and a Transpose give the output's order; one operand is a Transpose (after a
// ReduceSum of the labels the output drops). Ellipses stand for the same dimensions in
// every operand. Refused: three or more operands, a label repeated in one operand (a
// diagonal), a label summed that appears in one of two operands only, and dimensions
// that would broadcast.
#include <algorithm>
#include <map>

#include "graph/onnx/internal.h"

namespace edgeq {
namespace onnx_import {

using onnx::TensorProto;
using Ints = std::vector<int64_t>;

namespace {

// An operand's labels, ellipsis expanded: `rank` dimensions, the ellipsis covering those
// the letters do not; its labels are '0', '1', ... counted from the right.
bool expand_labels(const std::string& term, size_t rank, size_t* ellipsis_dims, std::string* out) {
  const size_t dots = term.find("...");
  std::string letters = term;
  if (dots != std::string::npos) letters.erase(dots, 3);
  for (char c : letters)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  if (dots == std::string::npos) {
    *ellipsis_dims = 0;
    *out = term;
    return letters.size() == rank;
  }
  if (letters.size() > rank) return false;
  *ellipsis_dims = rank - letters.size();
  std::string e;
  for (size_t k = *ellipsis_dims; k-- > 0;) e += static_cast<char>('0' + k);
  *out = term.substr(0, dots) + e + term.substr(dots + 3);
  return true;
}

}  // namespace

Status Importer::LowerEinsum(const onnx::NodeProto& n) {
  std::string eq;
  EDGEQ_RETURN_IF_ERROR(attr_string(n, "equation", "", &eq));
  eq.erase(std::remove(eq.begin(), eq.end(), ' '), eq.end());
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != static_cast<size_t>(n.input_size()) || terms.empty())
    return Fail(n, StatusCode::kInvalidModel, "the equation does not match the inputs");
  if (terms.size() > 2) return Fail(n, StatusCode::kUnsupported, "einsum of more than two operands");
  std::vector<Value*> in(terms.size());
  std::vector<std::string> labels(terms.size());
  size_t ellipsis = 0;
  std::map<char, int64_t> size;
  std::map<char, int> uses;
  for (size_t i = 0; i < terms.size(); ++i) {
    EDGEQ_RETURN_IF_ERROR(RequireTensor(n, static_cast<int>(i), &in[i]));
    size_t dims;
    if (!expand_labels(terms[i], in[i]->shape.size(), &dims, &labels[i]))
      return Fail(n, StatusCode::kInvalidModel, "term '" + terms[i] + "' does not fit its operand's rank");
    if (i > 0 && dims != ellipsis && dims != 0 && ellipsis != 0)
      return Fail(n, StatusCode::kUnsupported, "ellipses of different ranks (broadcasting)");
    ellipsis = std::max(ellipsis, dims);
    for (size_t d = 0; d < labels[i].size(); ++d) {
      const char c = labels[i][d];
      if (labels[i].find(c) != d)
        return Fail(n, StatusCode::kUnsupported, std::string("label '") + c + "' repeats in one operand (a diagonal)");
      const int64_t s = in[i]->shape[d];
      if (size.count(c) && size[c] != s)
        return Fail(n, StatusCode::kUnsupported, std::string("label '") + c + "' has sizes " +
                                                     std::to_string(size[c]) + " and " + std::to_string(s) +
                                                     " (broadcasting)");
      size[c] = s;
      ++uses[c];
    }
  }
  std::string out;
  if (arrow == std::string::npos) {  // implicit: the ellipsis, then letters used once, sorted
    for (size_t k = ellipsis; k-- > 0;) out += static_cast<char>('0' + k);
    std::string once;
    for (const auto& [c, u] : uses)
      if (u == 1 && !(c >= '0' && c <= '9')) once += c;
    std::sort(once.begin(), once.end());
    out += once;
  } else {
    size_t dims;
    std::string term = eq.substr(arrow + 2);
    if (term.find("...") != std::string::npos) {
      if (!expand_labels(term, term.size() - 3 + ellipsis, &dims, &out))
        return Fail(n, StatusCode::kInvalidModel, "invalid output term '" + term + "'");
    } else {
      out = term;
    }
    for (size_t d = 0; d < out.size(); ++d)
      if (!size.count(out[d]) || out.find(out[d]) != d)
        return Fail(n, StatusCode::kInvalidModel, "invalid output term '" + term + "'");
  }

  // Synthetic nodes lowered as usual; their values live under the Einsum's output name.
  int counter = 0;
  const auto fresh = [&](const std::string& what) { return n.output(0) + ".einsum_" + what + std::to_string(counter++); };
  // `perm`: a Transpose's; otherwise a ReduceSum gets keepdims 0.
  const auto lower = [&](const std::string& op, const std::vector<std::string>& ins, const std::string& output,
                         const Ints* perm) -> Status {
    std::vector<onnx::AttributeProto> attrs;
    if (perm != nullptr) {
      attrs.push_back(ints_attr("perm", *perm));
    } else if (op == "ReduceSum") {
      attrs.push_back(int_attr("keepdims", 0));
    }
    // (folded when its inputs are constants: a weight)
    return LowerSynthetic(n, op, ins, output, attrs);
  };
  const auto transpose = [&](const std::string& x, const std::string& from, const std::string& to,
                             std::string* result) -> Status {
    if (from == to) {
      *result = x;
      return Status::Ok();
    }
    Ints perm;
    for (char c : to) perm.push_back(static_cast<int64_t>(from.find(c)));
    *result = fresh("t");
    return lower("Transpose", {x}, *result, &perm);
  };
  // A 1-D int64 constant (a Reshape's shape, a ReduceSum's axes), named.
  const auto int_const = [&](const Ints& v, const std::string& what) {
    return DefineConst(fresh(what), TensorProto::INT64, {static_cast<int64_t>(v.size())}, {}, v);
  };
  const auto reshape = [&](const std::string& x, const Shape& shape, std::string* result) -> Status {
    *result = fresh("r");
    return lower("Reshape", {x, int_const(shape, "shape")}, *result, nullptr);
  };
  const auto dims_of = [&](const std::string& ls) {
    Shape s;
    for (char c : ls) s.push_back(size[c]);
    return s;
  };
  const auto product = [&](const std::string& ls) {
    int64_t p = 1;
    for (char c : ls) p *= size[c];
    return p;
  };
  std::string result, result_labels;
  if (terms.size() == 1) {
    std::string x = n.input(0), cur = labels[0];
    std::string kept;  // the operand's labels the output keeps, in operand order
    for (char c : cur)
      if (out.find(c) != std::string::npos) kept += c;
    if (kept != cur) {  // sum the dropped labels: ReduceSum over their axes, keepdims 0
      Ints axes;
      for (size_t d = 0; d < cur.size(); ++d)
        if (out.find(cur[d]) == std::string::npos) axes.push_back(static_cast<int64_t>(d));
      if (opset_ < 13) return Fail(n, StatusCode::kUnsupported, "einsum sums need opset 13 or later");
      const std::string summed = fresh("sum");
      EDGEQ_RETURN_IF_ERROR(lower("ReduceSum", {x, int_const(axes, "axes")}, summed, nullptr));
      x = summed;
      cur = kept;
    }
    result = x;
    result_labels = cur;
  } else {
    const std::string &la = labels[0], &lb = labels[1];
    std::string batch, free_a, free_b, contracted;
    for (char c : la) {
      const bool in_b = lb.find(c) != std::string::npos, in_out = out.find(c) != std::string::npos;
      if (in_b && in_out) batch += c;
      else if (in_b) contracted += c;
      else if (in_out) free_a += c;
      else return Fail(n, StatusCode::kUnsupported, std::string("label '") + c + "' is summed within one operand");
    }
    for (char c : lb) {
      if (la.find(c) != std::string::npos) continue;
      if (out.find(c) == std::string::npos)
        return Fail(n, StatusCode::kUnsupported, std::string("label '") + c + "' is summed within one operand");
      free_b += c;
    }
    std::string a_t, b_t, a_r, b_r, prod;
    EDGEQ_RETURN_IF_ERROR(transpose(n.input(0), la, batch + free_a + contracted, &a_t));
    EDGEQ_RETURN_IF_ERROR(transpose(n.input(1), lb, batch + contracted + free_b, &b_t));
    // Batch dimensions as they are (at most 2 kept apart; more are merged into one).
    Shape bdims = dims_of(batch);
    if (bdims.size() > 2) bdims = {product(batch)};
    Shape a_shape = bdims, b_shape = bdims;
    a_shape.push_back(product(free_a));
    a_shape.push_back(product(contracted));
    b_shape.push_back(product(contracted));
    b_shape.push_back(product(free_b));
    EDGEQ_RETURN_IF_ERROR(reshape(a_t, a_shape, &a_r));
    EDGEQ_RETURN_IF_ERROR(reshape(b_t, b_shape, &b_r));
    prod = fresh("mm");
    EDGEQ_RETURN_IF_ERROR(lower("MatMul", {a_r, b_r}, prod, nullptr));
    result_labels = batch + free_a + free_b;
    EDGEQ_RETURN_IF_ERROR(reshape(prod, dims_of(result_labels), &result));
  }
  // The output's order, into the Einsum's output name.
  const Value& r = values_.at(result);
  if (result_labels == out) {
    Value v = r;
    v.name.clear();
    values_[n.output(0)] = v;
    return Status::Ok();
  }
  Ints perm;
  for (char c : out) perm.push_back(static_cast<int64_t>(result_labels.find(c)));
  return lower("Transpose", {result}, n.output(0), &perm);
}

}  // namespace onnx_import
}  // namespace edgeq
