// Constants for the ONNX importer: decoding TensorProto (raw_data or typed fields,
// with size checks), attribute access, shape rules shared with the lowering, and a
// small evaluator that folds constant subgraphs (Shape, Gather, Unsqueeze, Squeeze,
// Concat, Slice, Reshape, Cast, ConstantOfShape, elementwise arithmetic, ...).
//
// Values are kept in ONNX element order; floats as float, integers as int64, so
// every integer type round-trips exactly.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "graph/onnx/internal.h"

namespace edgeq {
namespace onnx_import {

using onnx::TensorProto;

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 0) return -1;
    if (d != 0 && n > kMaxElements / d) return -1;
    n *= d;
  }
  return n > kMaxElements ? -1 : n;
}

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t k = 0; k < s.size(); ++k) r += (k ? "," : "") + std::to_string(s[k]);
  return r + "]";
}

bool is_float_type(int32_t t) {
  return t == TensorProto::FLOAT || t == TensorProto::DOUBLE || t == TensorProto::FLOAT16 ||
         t == TensorProto::BFLOAT16;
}

bool is_int_type(int32_t t) {
  switch (t) {
    case TensorProto::UINT8:
    case TensorProto::INT8:
    case TensorProto::UINT16:
    case TensorProto::INT16:
    case TensorProto::INT32:
    case TensorProto::INT64:
    case TensorProto::BOOL:
    case TensorProto::UINT32:
    case TensorProto::UINT64: return true;
    default: return false;
  }
}

const char* onnx_type_name(int32_t t) {
  switch (t) {
    case TensorProto::FLOAT: return "float";
    case TensorProto::UINT8: return "uint8";
    case TensorProto::INT8: return "int8";
    case TensorProto::UINT16: return "uint16";
    case TensorProto::INT16: return "int16";
    case TensorProto::INT32: return "int32";
    case TensorProto::INT64: return "int64";
    case TensorProto::STRING: return "string";
    case TensorProto::BOOL: return "bool";
    case TensorProto::FLOAT16: return "float16";
    case TensorProto::DOUBLE: return "double";
    case TensorProto::UINT32: return "uint32";
    case TensorProto::UINT64: return "uint64";
    case TensorProto::BFLOAT16: return "bfloat16";
    default: return "unknown type";
  }
}

bool ConstTensor::to_ints(std::vector<int64_t>* out) const {
  if (!is_float()) {
    *out = i;
    return true;
  }
  out->clear();
  for (float v : f) {
    if (!std::isfinite(v) || std::fabs(v) > 9.0e18f) return false;
    out->push_back(static_cast<int64_t>(v));
  }
  return true;
}

bool ConstTensor::to_floats(std::vector<float>* out) const {
  if (is_float()) {
    *out = f;
    return true;
  }
  out->clear();
  for (int64_t v : i) out->push_back(static_cast<float>(v));
  return true;
}

// ------------------------------------------------------------------ decoding

namespace {

float half_to_float(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v;
  if (exp == 0) {
    v = std::ldexp(static_cast<float>(mant), -24);
  } else if (exp == 31) {
    v = mant ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  } else {
    v = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  }
  return sign ? -v : v;
}

float bf16_to_float(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float v;
  std::memcpy(&v, &bits, 4);
  return v;
}

size_t elem_bytes(int32_t t) {
  switch (t) {
    case TensorProto::FLOAT:
    case TensorProto::INT32:
    case TensorProto::UINT32: return 4;
    case TensorProto::DOUBLE:
    case TensorProto::INT64:
    case TensorProto::UINT64: return 8;
    case TensorProto::FLOAT16:
    case TensorProto::BFLOAT16:
    case TensorProto::INT16:
    case TensorProto::UINT16: return 2;
    case TensorProto::UINT8:
    case TensorProto::INT8:
    case TensorProto::BOOL: return 1;
    default: return 0;
  }
}

template <typename T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Wraps an int64 to the range of integer type t (two's complement).
int64_t wrap_int(int64_t v, int32_t t) {
  switch (t) {
    case TensorProto::UINT8: return static_cast<uint8_t>(v);
    case TensorProto::INT8: return static_cast<int8_t>(v);
    case TensorProto::UINT16: return static_cast<uint16_t>(v);
    case TensorProto::INT16: return static_cast<int16_t>(v);
    case TensorProto::INT32: return static_cast<int32_t>(v);
    case TensorProto::UINT32: return static_cast<uint32_t>(v);
    case TensorProto::BOOL: return v != 0;
    default: return v;
  }
}

}  // namespace

Status decode_tensor(const TensorProto& t, const std::string& what, ConstTensor* out) {
  if (t.data_location() == TensorProto::EXTERNAL || t.external_data_size() > 0)
    return Unsupported(what + ": tensor data stored in an external file is not supported");
  if (t.has_segment()) return Unsupported(what + ": segmented tensors are not supported");
  const int32_t type = t.data_type();
  if (!is_float_type(type) && !is_int_type(type))
    return Unsupported(what + ": element type " + onnx_type_name(type) + " is not supported");
  out->type = type;
  out->dims.assign(t.dims().begin(), t.dims().end());
  const int64_t n = shape_numel(out->dims);
  if (n < 0) return InvalidModel(what + ": invalid or too large dims " + shape_str(out->dims));
  out->f.clear();
  out->i.clear();
  // The values must be there before any memory is taken for them: dims alone may claim
  // billions of elements.
  auto count_error = [&](int64_t have) {
    return InvalidModel(what + ": holds " + std::to_string(have) + " values, expected " +
                        std::to_string(n));
  };
  if (t.has_raw_data()) {
    const size_t eb = elem_bytes(type);
    if (t.raw_data().size() != static_cast<size_t>(n) * eb)
      return InvalidModel(what + ": raw_data holds " + std::to_string(t.raw_data().size()) +
                          " bytes, expected " + std::to_string(n * eb));
  } else {
    int64_t have = 0;
    switch (type) {
      case TensorProto::FLOAT: have = t.float_data_size(); break;
      case TensorProto::DOUBLE: have = t.double_data_size(); break;
      case TensorProto::INT64: have = t.int64_data_size(); break;
      case TensorProto::UINT32:
      case TensorProto::UINT64: have = t.uint64_data_size(); break;
      default: have = t.int32_data_size(); break;  // float16, bfloat16, 8/16/32-bit integers, bool
    }
    if (have != n) return count_error(have);
  }
  if (is_float_type(type))
    out->f.resize(n);
  else
    out->i.resize(n);

  if (t.has_raw_data()) {
    const std::string& raw = t.raw_data();
    const size_t eb = elem_bytes(type);
    const char* p = raw.data();
    for (int64_t k = 0; k < n; ++k, p += eb) {
      switch (type) {
        case TensorProto::FLOAT: out->f[k] = load<float>(p); break;
        case TensorProto::DOUBLE: out->f[k] = static_cast<float>(load<double>(p)); break;
        case TensorProto::FLOAT16: out->f[k] = half_to_float(load<uint16_t>(p)); break;
        case TensorProto::BFLOAT16: out->f[k] = bf16_to_float(load<uint16_t>(p)); break;
        case TensorProto::UINT8: out->i[k] = load<uint8_t>(p); break;
        case TensorProto::INT8: out->i[k] = load<int8_t>(p); break;
        case TensorProto::BOOL: out->i[k] = load<uint8_t>(p) != 0; break;
        case TensorProto::UINT16: out->i[k] = load<uint16_t>(p); break;
        case TensorProto::INT16: out->i[k] = load<int16_t>(p); break;
        case TensorProto::INT32: out->i[k] = load<int32_t>(p); break;
        case TensorProto::UINT32: out->i[k] = load<uint32_t>(p); break;
        case TensorProto::INT64: out->i[k] = load<int64_t>(p); break;
        case TensorProto::UINT64: out->i[k] = static_cast<int64_t>(load<uint64_t>(p)); break;
        default: break;
      }
    }
    return Status::Ok();
  }

  switch (type) {  // counts checked above
    case TensorProto::FLOAT:
      for (int64_t k = 0; k < n; ++k) out->f[k] = t.float_data(k);
      break;
    case TensorProto::DOUBLE:
      for (int64_t k = 0; k < n; ++k) out->f[k] = static_cast<float>(t.double_data(k));
      break;
    case TensorProto::FLOAT16:
    case TensorProto::BFLOAT16:
      for (int64_t k = 0; k < n; ++k) {
        auto bits = static_cast<uint16_t>(t.int32_data(k));
        out->f[k] = type == TensorProto::FLOAT16 ? half_to_float(bits) : bf16_to_float(bits);
      }
      break;
    case TensorProto::INT64:
      for (int64_t k = 0; k < n; ++k) out->i[k] = t.int64_data(k);
      break;
    case TensorProto::UINT32:
    case TensorProto::UINT64:
      for (int64_t k = 0; k < n; ++k)
        out->i[k] = wrap_int(static_cast<int64_t>(t.uint64_data(k)), type);
      break;
    default:  // 8/16/32-bit integers and bool live in int32_data
      for (int64_t k = 0; k < n; ++k) out->i[k] = wrap_int(t.int32_data(k), type);
      break;
  }
  return Status::Ok();
}

Status cast_const(const ConstTensor& in, int32_t to, ConstTensor* out) {
  if (!is_float_type(to) && !is_int_type(to))
    return Unsupported(std::string("Cast to ") + onnx_type_name(to) + " is not supported");
  ConstTensor r;
  r.type = to;
  r.dims = in.dims;
  if (is_float_type(to)) {
    if (in.is_float()) {
      r.f = in.f;
    } else {
      r.f.reserve(in.i.size());
      for (int64_t v : in.i) r.f.push_back(static_cast<float>(v));
    }
    if (to == TensorProto::FLOAT16 || to == TensorProto::BFLOAT16) {
      // Values are kept as float; rounding to half precision is not modelled.
    }
  } else if (in.is_float()) {
    r.i.reserve(in.f.size());
    for (float v : in.f) {
      int64_t x;
      if (std::isnan(v))
        x = 0;
      else if (v >= 9.2e18f)
        x = std::numeric_limits<int64_t>::max();
      else if (v <= -9.2e18f)
        x = std::numeric_limits<int64_t>::min();
      else
        x = static_cast<int64_t>(v);
      r.i.push_back(to == TensorProto::BOOL ? (v != 0.f) : wrap_int(x, to));
    }
  } else {
    r.i.reserve(in.i.size());
    for (int64_t v : in.i) r.i.push_back(wrap_int(v, to));
  }
  *out = std::move(r);
  return Status::Ok();
}

// ------------------------------------------------------------------ attributes

const onnx::AttributeProto* find_attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

std::string node_label(const onnx::NodeProto& n) {
  return "node '" + n.name() + "' (" + n.op_type() + ")";
}

namespace {
Status attr_type_error(const onnx::NodeProto& n, const std::string& name, const char* want) {
  return InvalidModel(node_label(n) + ": attribute '" + name + "' is not of type " + want);
}
}  // namespace

Status attr_int(const onnx::NodeProto& n, const std::string& name, int64_t def, int64_t* v) {
  const auto* a = find_attr(n, name);
  if (!a) {
    *v = def;
    return Status::Ok();
  }
  if (a->type() != onnx::AttributeProto::INT) return attr_type_error(n, name, "int");
  *v = a->i();
  return Status::Ok();
}

onnx::AttributeProto int_attr(const std::string& name, int64_t v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(v);
  return a;
}

onnx::AttributeProto ints_attr(const std::string& name, const std::vector<int64_t>& v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a.add_ints(x);
  return a;
}

onnx::AttributeProto float_attr(const std::string& name, float v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::FLOAT);
  a.set_f(v);
  return a;
}

onnx::AttributeProto string_attr(const std::string& name, const std::string& v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::STRING);
  a.set_s(v);
  return a;
}

Status attr_float(const onnx::NodeProto& n, const std::string& name, float def, float* v) {
  const auto* a = find_attr(n, name);
  if (!a) {
    *v = def;
    return Status::Ok();
  }
  if (a->type() == onnx::AttributeProto::FLOAT)
    *v = a->f();
  else if (a->type() == onnx::AttributeProto::INT)
    *v = static_cast<float>(a->i());
  else
    return attr_type_error(n, name, "float");
  return Status::Ok();
}

Status attr_ints(const onnx::NodeProto& n, const std::string& name, std::vector<int64_t>* v,
                 bool* present) {
  const auto* a = find_attr(n, name);
  v->clear();
  if (present) *present = a != nullptr;
  if (!a) return Status::Ok();
  if (a->type() != onnx::AttributeProto::INTS) return attr_type_error(n, name, "ints");
  v->assign(a->ints().begin(), a->ints().end());
  return Status::Ok();
}

Status attr_string(const onnx::NodeProto& n, const std::string& name, const std::string& def,
                   std::string* v) {
  const auto* a = find_attr(n, name);
  if (!a) {
    *v = def;
    return Status::Ok();
  }
  if (a->type() != onnx::AttributeProto::STRING) return attr_type_error(n, name, "string");
  *v = a->s();
  return Status::Ok();
}

// ------------------------------------------------------------------ shape rules

Status normalize_axis(int64_t axis, size_t rank, int64_t* out) {
  const int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r)
    return InvalidModel("axis " + std::to_string(axis) + " out of range for rank " +
                        std::to_string(rank));
  *out = axis < 0 ? axis + r : axis;
  return Status::Ok();
}

Status squeeze_shape(const Shape& in, const std::vector<int64_t>& axes, bool all_ones, Shape* out) {
  std::vector<bool> drop(in.size(), false);
  if (all_ones) {
    for (size_t k = 0; k < in.size(); ++k) drop[k] = in[k] == 1;
  } else {
    for (int64_t a : axes) {
      int64_t ax;
      EDGEQ_RETURN_IF_ERROR(normalize_axis(a, in.size(), &ax));
      if (in[ax] != 1)
        return InvalidModel("cannot squeeze axis " + std::to_string(a) + " of shape " +
                            shape_str(in));
      drop[ax] = true;
    }
  }
  out->clear();
  for (size_t k = 0; k < in.size(); ++k)
    if (!drop[k]) out->push_back(in[k]);
  return Status::Ok();
}

Status unsqueeze_shape(const Shape& in, const std::vector<int64_t>& axes, Shape* out) {
  const size_t rank = in.size() + axes.size();
  std::vector<bool> ins(rank, false);
  for (int64_t a : axes) {
    int64_t ax;
    EDGEQ_RETURN_IF_ERROR(normalize_axis(a, rank, &ax));
    if (ins[ax]) return InvalidModel("repeated unsqueeze axis " + std::to_string(a));
    ins[ax] = true;
  }
  out->clear();
  size_t j = 0;
  for (size_t k = 0; k < rank; ++k) out->push_back(ins[k] ? 1 : in[j++]);
  return Status::Ok();
}

Status reshape_shape(const Shape& in, const std::vector<int64_t>& spec, bool allowzero,
                     Shape* out) {
  const int64_t n = shape_numel(in);
  out->clear();
  int infer = -1;
  int64_t known = 1;
  for (size_t k = 0; k < spec.size(); ++k) {
    int64_t d = spec[k];
    if (d == 0 && !allowzero) {
      if (k >= in.size()) return InvalidModel("reshape: 0 refers to a missing input dimension");
      d = in[k];
    }
    if (d == -1) {
      if (infer >= 0) return InvalidModel("reshape: more than one -1 in " + shape_str(spec));
      infer = static_cast<int>(k);
      out->push_back(1);
      continue;
    }
    if (d < 0) return InvalidModel("reshape: invalid dimension in " + shape_str(spec));
    if (d > kMaxElements) return InvalidModel("reshape: dimension too large");
    known *= d;
    if (known > kMaxElements) return InvalidModel("reshape: shape too large");
    out->push_back(d);
  }
  if (infer >= 0) {
    if (known == 0 || n % known != 0)
      return InvalidModel("reshape: cannot infer -1 in " + shape_str(spec) + " from " +
                          shape_str(in));
    (*out)[infer] = n / known;
  }
  if (shape_numel(*out) != n)
    return InvalidModel("reshape: " + shape_str(in) + " cannot become " + shape_str(spec));
  return Status::Ok();
}

Status slice_dim(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t* first,
                 int64_t* count) {
  if (step == 0) return InvalidModel("slice step 0");
  if (start < 0) start = start < -dim ? 0 : start + dim;
  if (end < 0) end = end < -dim ? -1 : end + dim;
  // Written so that no intermediate overflows for any int64 step.
  if (step > 0) {
    start = std::min(std::max<int64_t>(start, 0), dim);
    end = std::min(std::max<int64_t>(end, 0), dim);
    *count = end > start ? 1 + (end - start - 1) / step : 0;
  } else {
    start = std::min(std::max<int64_t>(start, 0), dim - 1);
    end = std::min(std::max<int64_t>(end, -1), dim - 1);
    const uint64_t mag = 0ull - static_cast<uint64_t>(step);
    *count =
        start > end ? 1 + static_cast<int64_t>(static_cast<uint64_t>(start - end - 1) / mag) : 0;
  }
  *first = start;
  return Status::Ok();
}

Status slice_params(const Shape& in, const std::vector<int64_t>& starts,
                    const std::vector<int64_t>& ends, const std::vector<int64_t>& axes_in,
                    const std::vector<int64_t>& steps_in, SliceParams* out) {
  const size_t r = in.size();
  if (starts.size() != ends.size()) return InvalidModel("slice: starts and ends differ in length");
  std::vector<int64_t> axes = axes_in, steps = steps_in;
  if (axes.empty())
    for (size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<int64_t>(k));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size())
    return InvalidModel("slice: starts, ends, axes and steps differ in length");
  out->first.assign(r, 0);
  out->step.assign(r, 1);
  out->count.assign(in.begin(), in.end());
  std::vector<bool> seen(r, false);
  for (size_t k = 0; k < axes.size(); ++k) {
    int64_t ax;
    EDGEQ_RETURN_IF_ERROR(normalize_axis(axes[k], r, &ax));
    if (seen[ax]) return InvalidModel("slice: repeated axis");
    seen[ax] = true;
    EDGEQ_RETURN_IF_ERROR(
        slice_dim(in[ax], starts[k], ends[k], steps[k], &out->first[ax], &out->count[ax]));
    out->step[ax] = out->count[ax] <= 1 ? 1 : steps[k];  // one element: any step reads it
    if (out->count[ax] == 0) out->first[ax] = 0;
  }
  return Status::Ok();
}

bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out) {
  const size_t r = std::max(a.size(), b.size());
  Shape o(r);
  for (size_t k = 0; k < r; ++k) {
    int64_t da = k < r - a.size() ? 1 : a[k - (r - a.size())];
    int64_t db = k < r - b.size() ? 1 : b[k - (r - b.size())];
    if (da != db && da != 1 && db != 1) return false;
    o[k] = da == 1 ? db : da;
  }
  *out = o;
  return true;
}

// ------------------------------------------------------------------ evaluator

namespace {

// Strides of a dense row-major shape.
std::vector<int64_t> strides_of(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int k = static_cast<int>(s.size()) - 2; k >= 0; --k) st[k] = st[k + 1] * s[k + 1];
  return st;
}

// Calls fn(dst_index, src_index) for a gather described by per-output-dimension source
// strides (0 for broadcast dims) and an offset.
template <typename Fn>
void for_each_index(const Shape& out_shape, const std::vector<int64_t>& src_strides,
                    int64_t src_offset, Fn fn) {
  const size_t r = out_shape.size();
  const int64_t n = shape_numel(out_shape);
  std::vector<int64_t> idx(r, 0);
  int64_t src = src_offset;
  for (int64_t k = 0; k < n; ++k) {
    fn(k, src);
    for (int d = static_cast<int>(r) - 1; d >= 0; --d) {
      if (++idx[d] < out_shape[d]) {
        src += src_strides[d];
        break;
      }
      src -= src_strides[d] * (out_shape[d] - 1);
      idx[d] = 0;
    }
  }
}

// Copies elements of `in` at the source indices into a tensor of out_shape.
ConstTensor gather_elems(const ConstTensor& in, const Shape& out_shape,
                         const std::vector<int64_t>& src_strides, int64_t offset) {
  ConstTensor r;
  r.type = in.type;
  r.dims = out_shape;
  const int64_t n = shape_numel(out_shape);
  if (in.is_float()) {
    r.f.resize(n);
    for_each_index(out_shape, src_strides, offset, [&](int64_t d, int64_t s) { r.f[d] = in.f[s]; });
  } else {
    r.i.resize(n);
    for_each_index(out_shape, src_strides, offset, [&](int64_t d, int64_t s) { r.i[d] = in.i[s]; });
  }
  return r;
}

// Source strides of `in` broadcast to out_shape (right-aligned).
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  std::vector<int64_t> st = strides_of(in), r(out.size(), 0);
  const size_t off = out.size() - in.size();
  for (size_t k = 0; k < in.size(); ++k) r[off + k] = in[k] == 1 ? 0 : st[k];
  return r;
}

Status binary_op(const std::string& op, const ConstTensor& a, const ConstTensor& b,
                 ConstTensor* out) {
  Shape os;
  if (!broadcast_shapes(a.dims, b.dims, &os))
    return InvalidModel("shapes " + shape_str(a.dims) + " and " + shape_str(b.dims) +
                        " do not broadcast");
  const int64_t cnt = shape_numel(os);
  if (cnt < 0 || cnt > kMaxFoldElements) return Unsupported("constant result too large to fold");
  if (a.is_float() != b.is_float()) return InvalidModel("operand types differ");
  ConstTensor ea = gather_elems(a, os, broadcast_strides(a.dims, os), 0);
  ConstTensor eb = gather_elems(b, os, broadcast_strides(b.dims, os), 0);
  ConstTensor r;
  r.type = a.type;
  r.dims = os;
  const int64_t n = shape_numel(os);
  if (a.is_float()) {
    r.f.resize(n);
    for (int64_t k = 0; k < n; ++k) {
      float x = ea.f[k], y = eb.f[k];
      r.f[k] = op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : x / y;
    }
  } else {
    r.i.resize(n);
    for (int64_t k = 0; k < n; ++k) {
      // Unsigned arithmetic: wraps instead of overflowing.
      uint64_t x = static_cast<uint64_t>(ea.i[k]), y = static_cast<uint64_t>(eb.i[k]);
      if (op == "Add")
        r.i[k] = static_cast<int64_t>(x + y);
      else if (op == "Sub")
        r.i[k] = static_cast<int64_t>(x - y);
      else if (op == "Mul")
        r.i[k] = static_cast<int64_t>(x * y);
      else {
        if (eb.i[k] == 0) return InvalidModel("integer division by zero");
        if (ea.i[k] == std::numeric_limits<int64_t>::min() && eb.i[k] == -1)
          r.i[k] = ea.i[k];
        else
          r.i[k] = ea.i[k] / eb.i[k];
      }
      r.i[k] = wrap_int(r.i[k], a.type);
    }
  }
  *out = std::move(r);
  return Status::Ok();
}

Status ints_of(const ConstTensor* t, const std::string& what, std::vector<int64_t>* v) {
  if (!t) return InvalidModel(what + " is missing");
  if (!t->to_ints(v)) return InvalidModel(what + " holds values that are not integers");
  return Status::Ok();
}

}  // namespace

Status const_broadcast(const ConstTensor& in, const Shape& to, ConstTensor* out) {
  Shape os;
  if (!broadcast_shapes(in.dims, to, &os) || os != to)
    return InvalidModel("shape " + shape_str(in.dims) + " does not broadcast to " + shape_str(to));
  const int64_t cnt = shape_numel(to);
  if (cnt < 0 || cnt > kMaxFoldElements) return Unsupported("constant result too large to fold");
  *out = gather_elems(in, to, broadcast_strides(in.dims, to), 0);
  return Status::Ok();
}

Status const_transpose(const ConstTensor& in, const std::vector<int64_t>& perm, ConstTensor* out) {
  const size_t r = in.dims.size();
  if (perm.size() != r) return InvalidModel("transpose: perm has the wrong length");
  std::vector<bool> seen(r, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(r) || seen[p])
      return InvalidModel("transpose: invalid perm");
    seen[p] = true;
  }
  std::vector<int64_t> st = strides_of(in.dims), src(r);
  Shape os(r);
  for (size_t k = 0; k < r; ++k) {
    os[k] = in.dims[perm[k]];
    src[k] = st[perm[k]];
  }
  *out = gather_elems(in, os, src, 0);
  return Status::Ok();
}

Status eval_const_node(const onnx::NodeProto& n, int opset,
                       const std::vector<const ConstTensor*>& in,
                       const std::vector<const Shape*>& in_shapes, std::vector<ConstTensor>* outs,
                       bool* handled) {
  const std::string& op = n.op_type();
  const std::string label = node_label(n);
  *handled = false;
  outs->clear();
  auto input = [&](size_t k) -> const ConstTensor* { return k < in.size() ? in[k] : nullptr; };
  auto all_const = [&]() {
    for (int k = 0; k < n.input_size(); ++k)
      if (!n.input(k).empty() && !input(k)) return false;
    return true;
  };
  auto fail = [&](const Status& s) { return Status(s.code(), label + ": " + s.message()); };

  if (op == "Constant") {
    const auto& attrs = n.attribute();
    if (attrs.size() != 1) return InvalidModel(label + ": needs exactly one value attribute");
    const auto& a = attrs[0];
    ConstTensor c;
    if (a.name() == "value" && a.type() == onnx::AttributeProto::TENSOR) {
      EDGEQ_RETURN_IF_ERROR(decode_tensor(a.t(), label, &c));
    } else if (a.name() == "value_float" && a.type() == onnx::AttributeProto::FLOAT) {
      c.type = TensorProto::FLOAT;
      c.f = {a.f()};
    } else if (a.name() == "value_floats" && a.type() == onnx::AttributeProto::FLOATS) {
      c.type = TensorProto::FLOAT;
      c.f.assign(a.floats().begin(), a.floats().end());
      c.dims = {static_cast<int64_t>(c.f.size())};
    } else if (a.name() == "value_int" && a.type() == onnx::AttributeProto::INT) {
      c.type = TensorProto::INT64;
      c.i = {a.i()};
    } else if (a.name() == "value_ints" && a.type() == onnx::AttributeProto::INTS) {
      c.type = TensorProto::INT64;
      c.i.assign(a.ints().begin(), a.ints().end());
      c.dims = {static_cast<int64_t>(c.i.size())};
    } else {
      return Unsupported(label + ": value attribute '" + a.name() + "' is not supported");
    }
    outs->push_back(std::move(c));
    *handled = true;
    return Status::Ok();
  }

  if (op == "Shape") {
    if (in_shapes.empty() || !in_shapes[0]) return Status::Ok();
    const Shape& s = *in_shapes[0];
    int64_t r = static_cast<int64_t>(s.size()), start = 0, end = r;
    if (opset >= 15) {
      EDGEQ_RETURN_IF_ERROR(attr_int(n, "start", 0, &start));
      EDGEQ_RETURN_IF_ERROR(attr_int(n, "end", r, &end));
      if (start < 0) start += r;
      if (end < 0) end += r;
      start = std::min(std::max<int64_t>(start, 0), r);
      end = std::min(std::max<int64_t>(end, 0), r);
    }
    ConstTensor c;
    c.type = TensorProto::INT64;
    for (int64_t k = start; k < end; ++k) c.i.push_back(s[k]);
    c.dims = {static_cast<int64_t>(c.i.size())};
    outs->push_back(std::move(c));
    *handled = true;
    return Status::Ok();
  }
  if (op == "Size") {
    if (in_shapes.empty() || !in_shapes[0]) return Status::Ok();
    ConstTensor c;
    c.type = TensorProto::INT64;
    c.i = {shape_numel(*in_shapes[0])};
    outs->push_back(std::move(c));
    *handled = true;
    return Status::Ok();
  }

  if (!all_const() || n.input_size() == 0) return Status::Ok();
  const ConstTensor* x = input(0);
  ConstTensor r;

  if (op == "Identity") {
    r = *x;
  } else if (op == "Cast") {
    int64_t to;
    EDGEQ_RETURN_IF_ERROR(attr_int(n, "to", 0, &to));
    Status s = cast_const(*x, static_cast<int32_t>(to), &r);
    if (!s.ok()) return fail(s);
  } else if (op == "ConstantOfShape") {
    std::vector<int64_t> dims;
    EDGEQ_RETURN_IF_ERROR(ints_of(x, label + ": shape input", &dims));
    if (shape_numel(dims) < 0)
      return InvalidModel(label + ": invalid or too large shape " + shape_str(dims));
    if (shape_numel(dims) > kMaxFoldElements)
      return Unsupported(label + ": constant too large to fold (shape " + shape_str(dims) + ")");
    ConstTensor v;
    v.type = TensorProto::FLOAT;
    v.f = {0.f};
    if (const auto* a = find_attr(n, "value")) {
      if (a->type() != onnx::AttributeProto::TENSOR)
        return InvalidModel(label + ": attribute 'value' is not a tensor");
      EDGEQ_RETURN_IF_ERROR(decode_tensor(a->t(), label, &v));
      if (v.numel() != 1) return InvalidModel(label + ": value must hold one element");
    }
    r.type = v.type;
    r.dims = dims;
    const int64_t cnt = shape_numel(dims);
    if (v.is_float())
      r.f.assign(cnt, v.f[0]);
    else
      r.i.assign(cnt, v.i[0]);
  } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    if (!input(1)) return InvalidModel(label + ": needs two inputs");
    Status s = binary_op(op, *x, *input(1), &r);
    if (!s.ok()) return fail(s);
  } else if (op == "Neg") {
    r = *x;
    for (auto& v : r.f) v = -v;
    for (auto& v : r.i) v = wrap_int(static_cast<int64_t>(0ull - static_cast<uint64_t>(v)), r.type);
  } else if (op == "Gather") {
    const ConstTensor* idx = input(1);
    if (!idx) return InvalidModel(label + ": needs two inputs");
    int64_t axis;
    EDGEQ_RETURN_IF_ERROR(attr_int(n, "axis", 0, &axis));
    Status s = normalize_axis(axis, x->dims.size(), &axis);
    if (!s.ok()) return fail(s);
    std::vector<int64_t> ids;
    EDGEQ_RETURN_IF_ERROR(ints_of(idx, label + ": indices", &ids));
    const int64_t dim = x->dims[axis];
    int64_t outer = 1, inner = 1;
    for (int64_t k = 0; k < axis; ++k) outer *= x->dims[k];
    for (size_t k = axis + 1; k < x->dims.size(); ++k) inner *= x->dims[k];
    r.type = x->type;
    r.dims.assign(x->dims.begin(), x->dims.begin() + axis);
    r.dims.insert(r.dims.end(), idx->dims.begin(), idx->dims.end());
    r.dims.insert(r.dims.end(), x->dims.begin() + axis + 1, x->dims.end());
    const int64_t cnt = shape_numel(r.dims);
    if (cnt < 0 || cnt > kMaxFoldElements)
      return Unsupported(label + ": constant result too large to fold");
    for (int64_t& v : ids) {
      if (v < -dim || v >= dim) return InvalidModel(label + ": index out of range");
      if (v < 0) v += dim;
    }
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t id : ids)
        for (int64_t k = 0; k < inner; ++k) {
          int64_t src = (o * dim + id) * inner + k;
          if (x->is_float())
            r.f.push_back(x->f[src]);
          else
            r.i.push_back(x->i[src]);
        }
  } else if (op == "Unsqueeze" || op == "Squeeze") {
    std::vector<int64_t> axes;
    bool have = false;
    if (opset >= 13) {
      have = input(1) != nullptr;
      if (have) EDGEQ_RETURN_IF_ERROR(ints_of(input(1), label + ": axes", &axes));
    } else {
      EDGEQ_RETURN_IF_ERROR(attr_ints(n, "axes", &axes, &have));
    }
    r = *x;
    Status s = op == "Squeeze" ? squeeze_shape(x->dims, axes, !have, &r.dims)
                               : unsqueeze_shape(x->dims, axes, &r.dims);
    if (op == "Unsqueeze" && !have) s = InvalidModel("axes are required");
    if (!s.ok()) return fail(s);
  } else if (op == "Reshape") {
    std::vector<int64_t> spec;
    EDGEQ_RETURN_IF_ERROR(ints_of(input(1), label + ": shape input", &spec));
    int64_t allowzero = 0;
    if (opset >= 14) EDGEQ_RETURN_IF_ERROR(attr_int(n, "allowzero", 0, &allowzero));
    r = *x;
    Status s = reshape_shape(x->dims, spec, allowzero != 0, &r.dims);
    if (!s.ok()) return fail(s);
  } else if (op == "Flatten") {
    int64_t axis;
    EDGEQ_RETURN_IF_ERROR(attr_int(n, "axis", 1, &axis));
    const int64_t rank = static_cast<int64_t>(x->dims.size());
    if (axis < -rank || axis > rank) return InvalidModel(label + ": axis out of range");
    if (axis < 0) axis += rank;
    int64_t a = 1, b = 1;
    for (int64_t k = 0; k < rank; ++k) (k < axis ? a : b) *= x->dims[k];
    r = *x;
    r.dims = {a, b};
  } else if (op == "Transpose") {
    std::vector<int64_t> perm;
    bool have;
    EDGEQ_RETURN_IF_ERROR(attr_ints(n, "perm", &perm, &have));
    if (!have)
      for (int64_t k = static_cast<int64_t>(x->dims.size()) - 1; k >= 0; --k) perm.push_back(k);
    Status s = const_transpose(*x, perm, &r);
    if (!s.ok()) return fail(s);
  } else if (op == "Concat") {
    int64_t axis;
    EDGEQ_RETURN_IF_ERROR(attr_int(n, "axis", 0, &axis));
    Status s = normalize_axis(axis, x->dims.size(), &axis);
    if (!s.ok()) return fail(s);
    r.type = x->type;
    r.dims = x->dims;
    r.dims[axis] = 0;
    for (int k = 0; k < n.input_size(); ++k) {
      const ConstTensor* t = input(k);
      if (!t) return InvalidModel(label + ": missing input");
      if (t->type != x->type || t->dims.size() != x->dims.size())
        return InvalidModel(label + ": inputs differ in type or rank");
      for (size_t d = 0; d < x->dims.size(); ++d)
        if (static_cast<int64_t>(d) != axis && t->dims[d] != x->dims[d])
          return InvalidModel(label + ": input shapes differ");
      r.dims[axis] += t->dims[axis];
    }
    if (shape_numel(r.dims) < 0) return InvalidModel(label + ": result too large");
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= x->dims[d];
    for (int64_t o = 0; o < outer; ++o)
      for (int k = 0; k < n.input_size(); ++k) {
        const ConstTensor* t = input(k);
        const int64_t chunk = outer ? t->numel() / outer : 0;
        if (t->is_float())
          r.f.insert(r.f.end(), t->f.begin() + o * chunk, t->f.begin() + (o + 1) * chunk);
        else
          r.i.insert(r.i.end(), t->i.begin() + o * chunk, t->i.begin() + (o + 1) * chunk);
      }
  } else if (op == "Slice") {
    std::vector<int64_t> starts, ends, axes, steps;
    if (opset < 10) {
      EDGEQ_RETURN_IF_ERROR(attr_ints(n, "starts", &starts, nullptr));
      EDGEQ_RETURN_IF_ERROR(attr_ints(n, "ends", &ends, nullptr));
      EDGEQ_RETURN_IF_ERROR(attr_ints(n, "axes", &axes, nullptr));
    } else {
      EDGEQ_RETURN_IF_ERROR(ints_of(input(1), label + ": starts", &starts));
      EDGEQ_RETURN_IF_ERROR(ints_of(input(2), label + ": ends", &ends));
      if (input(3)) EDGEQ_RETURN_IF_ERROR(ints_of(input(3), label + ": axes", &axes));
      if (input(4)) EDGEQ_RETURN_IF_ERROR(ints_of(input(4), label + ": steps", &steps));
    }
    SliceParams sp;
    Status s = slice_params(x->dims, starts, ends, axes, steps, &sp);
    if (!s.ok()) return fail(s);
    std::vector<int64_t> st = strides_of(x->dims), src(x->dims.size());
    int64_t offset = 0;
    for (size_t d = 0; d < x->dims.size(); ++d) {
      src[d] = st[d] * sp.step[d];
      offset += st[d] * sp.first[d];
    }
    r = gather_elems(*x, sp.count, src, offset);
  } else if (op == "QuantizeLinear") {
    // Quantizing a constant (weights stored as float with Q -> DQ): per-tensor or per-axis.
    const ConstTensor* sc = input(1);
    const ConstTensor* zp = input(2);
    if (!sc || !x->is_float()) return InvalidModel(label + ": invalid inputs");
    int64_t axis = 1;
    if (opset >= 13) EDGEQ_RETURN_IF_ERROR(attr_int(n, "axis", 1, &axis));
    const int64_t cnt = sc->numel();
    int64_t ax = 0, inner = 1, dim = 1;
    if (cnt != 1) {
      Status s = normalize_axis(axis, x->dims.size(), &ax);
      if (!s.ok()) return fail(s);
      dim = x->dims[ax];
      if (dim != cnt) return InvalidModel(label + ": scale count does not match the axis");
      for (size_t d = ax + 1; d < x->dims.size(); ++d) inner *= x->dims[d];
    }
    if (zp && zp->numel() != cnt) return InvalidModel(label + ": zero point count mismatch");
    r.type = zp ? zp->type : TensorProto::UINT8;
    if (r.type != TensorProto::UINT8 && r.type != TensorProto::INT8)
      return Unsupported(label + ": only int8/uint8 quantization is supported");
    const int64_t lo = r.type == TensorProto::UINT8 ? 0 : -128;
    const int64_t hi = r.type == TensorProto::UINT8 ? 255 : 127;
    r.dims = x->dims;
    r.i.resize(x->f.size());
    for (size_t k = 0; k < x->f.size(); ++k) {
      int64_t c = cnt == 1 ? 0 : (static_cast<int64_t>(k) / inner) % dim;
      float s = sc->at(c);
      if (!(s > 0.f) || !std::isfinite(s)) return InvalidModel(label + ": scale must be > 0");
      float q = std::nearbyint(x->f[k] / s);
      if (std::isnan(q)) q = 0.f;
      int64_t z = zp ? zp->i[c] : 0;
      double v = static_cast<double>(q) + static_cast<double>(z);
      r.i[k] = static_cast<int64_t>(std::min<double>(std::max<double>(v, lo), hi));
    }
  } else {
    return eval_const_more(n, opset, in, outs, handled);
  }
  outs->push_back(std::move(r));
  *handled = true;
  return Status::Ok();
}

}  // namespace onnx_import
}  // namespace edgeq
