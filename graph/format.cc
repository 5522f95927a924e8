// `.edgeq` serialization: Graph <-> header + FlatBuffer + aligned constant segments.
//
// Writing builds the FlatBuffer with segment offsets relative to the data section,
// so the FlatBuffer's size does not depend on where the data lands. Reading trusts
// nothing: header fields are bounds-checked with overflow-safe arithmetic, the
// FlatBuffer goes through the generated verifier, then what the verifier lets through
// is checked too: enums are range-checked, a node's options table must be present,
// segments are copied out (their vector may be misaligned) and their bounds and
// alignment checked, and finally validate_graph() checks meaning.
#include "graph/format.h"

#include <cmath>
#include <cstring>
#include <type_traits>

#include "edgeq_generated.h"
#include "graph/shape.h"
#include "graph/write_file.h"

namespace edgeq {
namespace {

constexpr char kMagic[8] = {'E', 'D', 'G', 'E', 'Q', 'M', 'D', 'L'};
constexpr size_t kHeaderSize = 64;
constexpr size_t kAlign = 64;
constexpr size_t kRegionAlign = size_t{2} << 20;   // a huge page: see serialize_graph
constexpr size_t kSmallConstant = size_t{64} << 10;  // constants below it are read at run time
constexpr int64_t kMaxElements = int64_t{1} << 31;

size_t align_up(size_t x) { return (x + kAlign - 1) / kAlign * kAlign; }

void put_u32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
void put_u64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }
uint32_t get_u32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
uint64_t get_u64(const uint8_t* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }

fb::Activation make_act(const Attrs& a) { return fb::Activation(a.act_min, a.act_max); }

// The file's OpType enum (graph/edgeq.fbs) must be the op table's, name for name and
// value for value: a file written by one build is read by another.
#define EDGEQ_OP_FB_CHECK(Name, Options, Shape, Prepare, Flags)                              \
  static_assert(static_cast<int>(fb::OpType::Name) == static_cast<int>(OpType::k##Name), \
                "graph/edgeq.fbs OpType differs from graph/op_table.h at " #Name);
EDGEQ_OPS(EDGEQ_OP_FB_CHECK)
#undef EDGEQ_OP_FB_CHECK
static_assert(static_cast<int>(fb::OpType::MAX) + 1 == static_cast<int>(OpType::kCount),
              "graph/edgeq.fbs OpType has ops that graph/op_table.h does not");

// Which option table each op carries (the op table's Options column).
fb::Options options_type(OpType op) {
  switch (op) {
#define EDGEQ_OP_OPTIONS(Name, Opts, Shape, Prepare, Flags) \
  case OpType::k##Name:                                   \
    return fb::Options::Opts;
    EDGEQ_OPS(EDGEQ_OP_OPTIONS)
#undef EDGEQ_OP_OPTIONS
    default: return fb::Options::NONE;
  }
}

flatbuffers::Offset<void> build_options(flatbuffers::FlatBufferBuilder& b, const Node& n) {
  const Attrs& a = n.attrs;
  fb::Activation act = make_act(a);
  switch (options_type(n.op)) {
    case fb::Options::Conv2DOptions:
      return fb::CreateConv2DOptions(b, a.stride_h, a.stride_w, a.dilation_h, a.dilation_w,
                                     a.pad_top, a.pad_left, a.pad_bottom, a.pad_right, a.groups,
                                     &act, static_cast<uint8_t>(a.dynamic)).Union();
    case fb::Options::FullyConnectedOptions:
      return fb::CreateFullyConnectedOptions(b, &act, static_cast<uint8_t>(a.dynamic)).Union();
    case fb::Options::MatMulOptions:
      return fb::CreateMatMulOptions(b, static_cast<uint8_t>(a.dynamic)).Union();
    case fb::Options::LayerNormOptions: return fb::CreateLayerNormOptions(b, a.epsilon).Union();
    case fb::Options::TopKOptions:
      return fb::CreateTopKOptions(b, a.axis, a.k, static_cast<uint8_t>(a.largest)).Union();
    case fb::Options::ScatterOptions:
      return fb::CreateScatterOptions(b, a.axis, static_cast<uint8_t>(a.reduction)).Union();
    case fb::Options::ModOptions: return fb::CreateModOptions(b, static_cast<uint8_t>(a.fmod)).Union();
    case fb::Options::GridSampleOptions:
      return fb::CreateGridSampleOptions(b, static_cast<uint8_t>(a.grid_mode), static_cast<uint8_t>(a.grid_padding),
                                         static_cast<uint8_t>(a.align_corners))
          .Union();
    case fb::Options::RecurrentOptions:
      return fb::CreateRecurrentOptions(b, a.hidden_size, static_cast<uint8_t>(a.direction),
                                        static_cast<uint8_t>(a.linear_before_reset), a.clip)
          .Union();
    case fb::Options::BinaryOptions: return fb::CreateBinaryOptions(b, &act).Union();
    case fb::Options::UnaryOptions: return fb::CreateUnaryOptions(b, a.alpha, a.beta).Union();
    case fb::Options::AxisOptions: return fb::CreateAxisOptions(b, a.axis).Union();
    case fb::Options::PoolOptions:
      return fb::CreatePoolOptions(b, a.kernel_h, a.kernel_w, a.stride_h, a.stride_w,
                                   a.dilation_h, a.dilation_w, a.pad_top, a.pad_left,
                                   a.pad_bottom, a.pad_right, a.count_include_pad, &act).Union();
    case fb::Options::TransposeOptions:
      return fb::CreateTransposeOptions(b, b.CreateVector(a.perm)).Union();
    case fb::Options::PadOptions:
      return fb::CreatePadOptions(b, b.CreateVector(a.pads), a.pad_value).Union();
    case fb::Options::SliceOptions:
      return fb::CreateSliceOptions(b, b.CreateVector(a.starts), b.CreateVector(a.steps)).Union();
    case fb::Options::ResizeOptions:
      return fb::CreateResizeOptions(b, a.scale_h, a.scale_w, static_cast<uint8_t>(a.coord_mode),
                                     static_cast<uint8_t>(a.nearest_mode), a.coord_scale_h, a.coord_scale_w, a.cubic_a,
                                     static_cast<uint8_t>(a.exclude_outside))
          .Union();
    default: return 0;
  }
}

template <typename T>
std::vector<T> to_vector(const flatbuffers::Vector<T>* v) {
  return v ? std::vector<T>(v->begin(), v->end()) : std::vector<T>();
}

void read_act(const fb::Activation* act, Attrs* a) {
  if (act) {
    a->act_min = act->min();
    a->act_max = act->max();
  }
}

Status read_options(const fb::Node* fn, Node* n) {
  fb::Options expected = options_type(n->op);
  if (fn->options_type() != expected)
    return InvalidModel("node '" + n->name + "' (" + op_name(n->op) + "): options of the wrong kind");
  // A union's table is optional to the verifier: a node may name its options type and
  // carry no table. The writer always writes one, and most of the schema's defaults
  // (stride 0, kernel 0, an empty perm) are invalid anyway, so an absent table is a
  // corrupt file, whatever the union member. Checked here once, so every
  // options_as_*() below is non-null.
  if (expected != fb::Options::NONE && fn->options() == nullptr)
    return InvalidModel("node '" + n->name + "' (" + op_name(n->op) + "): options type " +
                        fb::EnumNameOptions(expected) + " without an options table");
  Attrs& a = n->attrs;
  switch (expected) {
    case fb::Options::Conv2DOptions: {
      auto* o = fn->options_as_Conv2DOptions();
      a.stride_h = o->stride_h(); a.stride_w = o->stride_w();
      a.dilation_h = o->dilation_h(); a.dilation_w = o->dilation_w();
      a.pad_top = o->pad_top(); a.pad_left = o->pad_left();
      a.pad_bottom = o->pad_bottom(); a.pad_right = o->pad_right();
      a.groups = o->groups();
      read_act(o->act(), &a);
      a.dynamic = o->dynamic();
      break;
    }
    case fb::Options::FullyConnectedOptions:
      read_act(fn->options_as_FullyConnectedOptions()->act(), &a);
      a.dynamic = fn->options_as_FullyConnectedOptions()->dynamic();
      break;
    case fb::Options::MatMulOptions: a.dynamic = fn->options_as_MatMulOptions()->dynamic(); break;
    case fb::Options::LayerNormOptions: a.epsilon = fn->options_as_LayerNormOptions()->epsilon(); break;
    case fb::Options::ModOptions: a.fmod = fn->options_as_ModOptions()->fmod(); break;
    case fb::Options::GridSampleOptions: {
      auto* o = fn->options_as_GridSampleOptions();
      a.grid_mode = o->mode();
      a.grid_padding = o->padding();
      a.align_corners = o->align_corners();
      break;
    }
    case fb::Options::ScatterOptions: {
      auto* o = fn->options_as_ScatterOptions();
      a.axis = o->axis();
      a.reduction = o->reduction();
      break;
    }
    case fb::Options::TopKOptions: {
      auto* o = fn->options_as_TopKOptions();
      a.axis = o->axis();
      a.k = o->k();
      a.largest = o->largest();
      break;
    }
    case fb::Options::RecurrentOptions: {
      auto* o = fn->options_as_RecurrentOptions();
      a.hidden_size = o->hidden_size();
      a.direction = o->direction();
      a.linear_before_reset = o->linear_before_reset();
      a.clip = o->clip();
      break;
    }
    case fb::Options::BinaryOptions: read_act(fn->options_as_BinaryOptions()->act(), &a); break;
    case fb::Options::UnaryOptions: {
      auto* o = fn->options_as_UnaryOptions();
      a.alpha = o->alpha(); a.beta = o->beta();
      break;
    }
    case fb::Options::AxisOptions: a.axis = fn->options_as_AxisOptions()->axis(); break;
    case fb::Options::PoolOptions: {
      auto* o = fn->options_as_PoolOptions();
      a.kernel_h = o->kernel_h(); a.kernel_w = o->kernel_w();
      a.stride_h = o->stride_h(); a.stride_w = o->stride_w();
      a.dilation_h = o->dilation_h(); a.dilation_w = o->dilation_w();
      a.pad_top = o->pad_top(); a.pad_left = o->pad_left();
      a.pad_bottom = o->pad_bottom(); a.pad_right = o->pad_right();
      a.count_include_pad = o->count_include_pad();
      read_act(o->act(), &a);
      break;
    }
    case fb::Options::TransposeOptions:
      a.perm = to_vector(fn->options_as_TransposeOptions()->perm());
      break;
    case fb::Options::PadOptions: {
      auto* o = fn->options_as_PadOptions();
      a.pads = to_vector(o->pads());
      a.pad_value = o->value();
      break;
    }
    case fb::Options::SliceOptions: {
      auto* o = fn->options_as_SliceOptions();
      a.starts = to_vector(o->starts());
      a.steps = to_vector(o->steps());
      break;
    }
    case fb::Options::ResizeOptions: {
      auto* o = fn->options_as_ResizeOptions();
      a.scale_h = o->scale_h(); a.scale_w = o->scale_w();
      a.coord_mode = o->coord();
      a.nearest_mode = o->nearest();
      a.coord_scale_h = o->coord_scale_h(); a.coord_scale_w = o->coord_scale_w();
      a.cubic_a = o->cubic_a();
      a.exclude_outside = o->exclude_outside();
      break;
    }
    default: break;
  }
  return Status::Ok();
}

// Segment i of the model table, copied out. A Segment holds 8-byte integers, but the
// verifier only checks a vector of structs for 4-byte alignment, so a file may place the
// vector at an address that is 4 mod 8: reading through a misaligned fb::Segment pointer
// would be undefined behaviour (and a fault on some ARMv7 cores), copying the bytes is not.
static_assert(std::is_trivially_copyable<fb::Segment>::value, "fb::Segment is read with memcpy");
fb::Segment read_segment(const flatbuffers::Vector<const fb::Segment*>& segs, size_t i) {
  fb::Segment s;
  std::memcpy(&s, segs.Data() + i * sizeof(fb::Segment), sizeof(fb::Segment));
  return s;
}

std::string tensor_label(const Tensor& t, size_t i) {
  return "tensor " + std::to_string(i) + " '" + t.name + "'";
}

// The pre-packed weights (graph/ir.h, PackedWeights): each on a quantized Conv2D or
// FullyConnected node, or a float one (float weights, or int8 weights: a dynamically
// quantized one), with constant weights, a named layout, a 64-byte aligned range
// of the data section, one per (node, layout). Whether the bytes fit the node and the
// layout's version is for the runtime, which knows the layouts.
Status read_packed(const fb::Model* m, const uint8_t* data, uint64_t data_size, Graph* g) {
  const auto* packed = m->packed();
  if (!packed) return Status::Ok();
  for (flatbuffers::uoffset_t i = 0; i < packed->size(); ++i) {
    const fb::PackedWeights* fp = packed->Get(i);
    const std::string label = "pre-packed weights " + std::to_string(i);
    const int32_t node = fp->node();
    if (node < 0 || static_cast<size_t>(node) >= g->nodes.size())
      return InvalidModel(label + ": node index " + std::to_string(node) + " out of range");
    const Node& n = g->nodes[static_cast<size_t>(node)];
    // Float fully connected layers and convolutions carry their weights packed too
    // (float panels, depthwise taps), and dynamically quantized ones (float input, int8
    // weights) theirs.
    const DType wt = n.inputs.size() >= 2 ? g->tensors[static_cast<size_t>(n.inputs[1])].dtype : DType::kF32;
    const bool float_weights_ok = wt == DType::kF32 || wt == DType::kS8;
    if ((n.op != OpType::kConv2D && n.op != OpType::kFullyConnected) || n.inputs.size() < 2 ||
        g->tensors[static_cast<size_t>(n.inputs[1])].data == nullptr ||
        (g->tensors[static_cast<size_t>(n.inputs[0])].dtype == DType::kF32 && !float_weights_ok))
      return InvalidModel(label + ": node '" + n.name + "' is not a convolution or fully connected node with "
                          "constant float or int8 weights");
    if (!fp->kernel() || fp->kernel()->size() == 0) return InvalidModel(label + ": no layout name");
    if (!fp->segment()) return InvalidModel(label + ": no segment");
    fb::Segment s;
    std::memcpy(&s, fp->segment(), sizeof(s));  // may be misaligned (read_segment says why)
    if (s.offset() % kAlign != 0 || s.offset() > data_size || s.length() > data_size - s.offset() || s.length() == 0)
      return InvalidModel(label + " (node '" + n.name + "'): segment out of bounds, empty or misaligned");
    PackedWeights pw;
    pw.node = node;
    pw.kernel = fp->kernel()->str();
    pw.layout = fp->layout();
    pw.data = data + s.offset();
    pw.nbytes = static_cast<size_t>(s.length());
    for (const PackedWeights& other : g->packed)
      if (other.node == node && other.kernel == pw.kernel)
        return InvalidModel(label + " (node '" + n.name + "'): a second segment for layout " + pw.kernel);
    g->packed.push_back(std::move(pw));
  }
  return Status::Ok();
}

}  // namespace

Status serialize_graph(const Graph& g, std::vector<uint8_t>* out) {
  flatbuffers::FlatBufferBuilder b(1 << 16);
  std::vector<fb::Segment> segments;
  // Where each part of the data section goes. A kernel may map a file in 2 MiB folios,
  // so reading one byte brings the whole 2 MiB around it into memory. In a file with
  // pre-packed weights (and at least 2 MiB of raw weights), the sessions that use the
  // packed copies never read the large raw weights, but do read the small constants
  // (biases, norms, scalars): those go first, then the large raw weights from a 2 MiB
  // boundary of the file, then the packed segments from another, so that the large
  // raw weights share no folio with what runs. Other files keep tensor order.
  const bool separate = !g.packed.empty();
  size_t small_size = 0, large_size = 0;
  std::vector<bool> small(g.tensors.size(), true);
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const Tensor& t = g.tensors[i];
    if (!t.is_constant()) continue;
    if (t.nbytes != t.byte_size())
      return InvalidArgument("tensor '" + t.name + "': data size " + std::to_string(t.nbytes) +
                             " does not match its shape (" + std::to_string(t.byte_size()) + ")");
    small[i] = !separate || t.nbytes < kSmallConstant;
    (small[i] ? small_size : large_size) = align_up((small[i] ? small_size : large_size) + t.nbytes);
  }
  const bool pad = separate && large_size >= kRegionAlign;
  // The FlatBuffer's size does not depend on the offsets it holds (fixed-size structs),
  // so the padding comes from a first build and the second has the same size.
  auto build = [&](flatbuffers::FlatBufferBuilder& fbb, size_t pad_large, size_t pad_packed) {
    segments.clear();
    std::vector<flatbuffers::Offset<fb::Tensor>> ts;
    size_t small_end = 0, large_end = small_size + pad_large;
    for (const Tensor& t : g.tensors) {
      const size_t i = static_cast<size_t>(&t - g.tensors.data());
      int32_t segment = -1;
      if (t.is_constant()) {
        size_t& end = small[i] ? small_end : large_end;
        segment = static_cast<int32_t>(segments.size());
        segments.emplace_back(end, t.nbytes);
        end = align_up(end + t.nbytes);
      }
      flatbuffers::Offset<fb::Quantization> quant = 0;
      if (!t.quant.empty())
        quant = fb::CreateQuantization(fbb, fbb.CreateVector(t.quant.scale), fbb.CreateVector(t.quant.zero_point),
                                       t.quant.axis);
      ts.push_back(fb::CreateTensor(fbb, fbb.CreateString(t.name), static_cast<fb::DType>(t.dtype),
                                    fbb.CreateVector(t.shape), quant, segment));
    }
    std::vector<flatbuffers::Offset<fb::PackedWeights>> packed;
    size_t end = large_end + pad_packed;
    for (const PackedWeights& pw : g.packed) {
      const fb::Segment seg(end, pw.nbytes);
      end = align_up(end + pw.nbytes);
      packed.push_back(fb::CreatePackedWeights(fbb, pw.node, fbb.CreateString(pw.kernel), pw.layout, &seg));
    }
    std::vector<flatbuffers::Offset<fb::Node>> nodes;
    for (const Node& n : g.nodes) {
      fb::Options type = options_type(n.op);
      nodes.push_back(fb::CreateNode(fbb, fbb.CreateString(n.name), static_cast<fb::OpType>(n.op),
                                     fbb.CreateVector(n.inputs), fbb.CreateVector(n.outputs), type,
                                     build_options(fbb, n)));
    }
    auto model = fb::CreateModel(fbb, kFormatVersion, fbb.CreateString(g.producer),
                                 static_cast<fb::RequantScheme>(g.requant), fbb.CreateVector(ts),
                                 fbb.CreateVector(nodes), fbb.CreateVector(g.inputs), fbb.CreateVector(g.outputs),
                                 fbb.CreateVectorOfStructs(segments), g.packed.empty() ? 0 : fbb.CreateVector(packed));
    fbb.Finish(model, fb::ModelIdentifier());
    return end;
  };
  size_t data_size = build(b, 0, 0);
  const size_t fb_offset = kHeaderSize;
  const size_t fb_size = b.GetSize();
  const size_t data_offset = align_up(fb_offset + fb_size);
  if (pad) {
    auto up = [](size_t x) { return (kRegionAlign - x % kRegionAlign) % kRegionAlign; };
    const size_t pad_large = up(data_offset + small_size);
    const size_t pad_packed = up(data_offset + small_size + pad_large + large_size);
    b.Clear();
    data_size = build(b, pad_large, pad_packed);
    if (b.GetSize() != fb_size) return InvalidArgument("serializing: the FlatBuffer changed size with its offsets");
  }
  out->assign(data_offset + data_size, 0);
  uint8_t* p = out->data();
  std::memcpy(p, kMagic, 8);
  put_u32(p + 8, kFormatVersion);
  put_u64(p + 16, fb_offset);
  put_u64(p + 24, fb_size);
  put_u64(p + 32, data_offset);
  put_u64(p + 40, data_size);
  std::memcpy(p + fb_offset, b.GetBufferPointer(), fb_size);
  size_t seg = 0;
  for (const Tensor& t : g.tensors) {
    if (!t.is_constant()) continue;
    if (t.nbytes) std::memcpy(p + data_offset + segments[seg].offset(), t.data, t.nbytes);
    ++seg;
  }
  const auto* fm = fb::GetModel(p + fb_offset);
  for (size_t i = 0; i < g.packed.size(); ++i)
    if (g.packed[i].nbytes)
      std::memcpy(p + data_offset + fm->packed()->Get(static_cast<flatbuffers::uoffset_t>(i))->segment()->offset(),
                  g.packed[i].data, g.packed[i].nbytes);
  return Status::Ok();
}

Status write_graph_file(const Graph& g, const std::string& path) {
  std::vector<uint8_t> bytes;
  EDGEQ_RETURN_IF_ERROR(serialize_graph(g, &bytes));
  return write_file(path, bytes.data(), bytes.size());
}

Status parse_graph(const uint8_t* data, size_t size, Graph* g) {
  if (data == nullptr) return InvalidArgument("null model data");
  if (size < kHeaderSize) return InvalidModel("file too small for an .edgeq header (" + std::to_string(size) + " bytes)");
  if (std::memcmp(data, kMagic, 8) != 0) return InvalidModel("not an .edgeq file (bad magic)");
  const uint32_t version = get_u32(data + 8);
  if (version != kFormatVersion)
    return InvalidModel("unsupported .edgeq format version " + std::to_string(version) +
                        " (this build reads version " + std::to_string(kFormatVersion) + ")");
  const uint64_t fb_offset = get_u64(data + 16), fb_size = get_u64(data + 24);
  const uint64_t data_offset = get_u64(data + 32), data_size = get_u64(data + 40);
  if (fb_offset < kHeaderSize || fb_offset % 8 != 0 || fb_offset > size || fb_size > size - fb_offset)
    return InvalidModel("header: model table out of file bounds");
  if (data_offset % kAlign != 0 || data_offset > size || data_size > size - data_offset ||
      data_offset < fb_offset + fb_size)
    return InvalidModel("header: data section out of bounds or misaligned");
  if (reinterpret_cast<uintptr_t>(data) % kAlign != 0)
    return InvalidArgument("model memory must be 64-byte aligned");

  const uint8_t* fbp = data + fb_offset;
  flatbuffers::Verifier verifier(fbp, fb_size, /*max_depth=*/64, /*max_tables=*/4000000);
  if (!fb::VerifyModelBuffer(verifier)) return InvalidModel("model table failed verification (corrupt file)");
  const fb::Model* m = fb::GetModel(fbp);
  if (m->version() != kFormatVersion) return InvalidModel("model table version mismatch");
  if (static_cast<uint8_t>(m->requant()) > static_cast<uint8_t>(fb::RequantScheme::MAX))
    return InvalidModel("unknown requantization scheme");

  Graph out;
  out.producer = m->producer() ? m->producer()->str() : "";
  out.requant = static_cast<RequantScheme>(m->requant());
  const auto* segs = m->segments();
  const size_t nseg = segs ? segs->size() : 0;
  const auto* tensors = m->tensors();
  const size_t ntensors = tensors ? tensors->size() : 0;
  out.tensors.resize(ntensors);
  for (size_t i = 0; i < ntensors; ++i) {
    const fb::Tensor* ft = tensors->Get(i);
    Tensor& t = out.tensors[i];
    t.name = ft->name() ? ft->name()->str() : "";
    if (static_cast<uint8_t>(ft->dtype()) > static_cast<uint8_t>(fb::DType::MAX))
      return InvalidModel(tensor_label(t, i) + ": unknown dtype");
    t.dtype = static_cast<DType>(ft->dtype());
    t.shape = to_vector(ft->shape());
    if (t.shape.size() > 8) return InvalidModel(tensor_label(t, i) + ": rank above 8");
    int64_t elements = 1;
    for (int32_t d : t.shape) {
      if (d <= 0) return InvalidModel(tensor_label(t, i) + ": dimension " + std::to_string(d) + " is not positive");
      elements *= d;
      if (elements > kMaxElements) return InvalidModel(tensor_label(t, i) + ": too many elements");
    }
    if (const fb::Quantization* q = ft->quant()) {
      t.quant.scale = to_vector(q->scale());
      t.quant.zero_point = to_vector(q->zero_point());
      t.quant.axis = q->axis();
    }
    const int32_t seg = ft->segment();
    if (seg >= 0) {
      if (static_cast<size_t>(seg) >= nseg) return InvalidModel(tensor_label(t, i) + ": segment index out of range");
      const fb::Segment s = read_segment(*segs, static_cast<size_t>(seg));
      if (s.offset() % kAlign != 0 || s.offset() > data_size || s.length() > data_size - s.offset())
        return InvalidModel(tensor_label(t, i) + ": constant segment out of bounds or misaligned");
      if (s.length() != t.byte_size())
        return InvalidModel(tensor_label(t, i) + ": constant segment holds " + std::to_string(s.length()) +
                            " bytes, its shape needs " + std::to_string(t.byte_size()));
      t.data = data + data_offset + s.offset();
      t.nbytes = static_cast<size_t>(s.length());
    } else if (seg != -1) {
      return InvalidModel(tensor_label(t, i) + ": bad segment index");
    }
  }
  const auto* nodes = m->nodes();
  const size_t nnodes = nodes ? nodes->size() : 0;
  out.nodes.resize(nnodes);
  for (size_t i = 0; i < nnodes; ++i) {
    const fb::Node* fn = nodes->Get(i);
    Node& n = out.nodes[i];
    n.name = fn->name() ? fn->name()->str() : "";
    if (static_cast<uint8_t>(fn->op()) >= static_cast<uint8_t>(OpType::kCount))
      return InvalidModel("node " + std::to_string(i) + " '" + n.name + "': unknown op " +
                          std::to_string(static_cast<int>(fn->op())));
    n.op = static_cast<OpType>(fn->op());
    n.inputs = to_vector(fn->inputs());
    n.outputs = to_vector(fn->outputs());
    EDGEQ_RETURN_IF_ERROR(read_options(fn, &n));
  }
  out.inputs = to_vector(m->inputs());
  out.outputs = to_vector(m->outputs());
  EDGEQ_RETURN_IF_ERROR(validate_graph(out));
  EDGEQ_RETURN_IF_ERROR(read_packed(m, data + data_offset, data_size, &out));
  *g = std::move(out);
  return Status::Ok();
}

}  // namespace edgeq
