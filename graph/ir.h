// edgeq graph IR: the in-memory form of a model, shared by the importer (which builds
// and rewrites it), the `.edgeq` writer, the loader (which fills it from a mapped file,
// constants pointing into the mapping) and the session (which plans and runs it).
//
// Conventions every producer and consumer relies on:
//  * Activations of rank 4 are NHWC. The importer transposes NCHW models once.
//  * Tensor shapes are static and stored for every tensor (inputs, outputs and
//    intermediates); the loader re-derives each node's output shape and rejects
//    a file whose stored shapes disagree.
//  * A node is quantized when its activation tensors are S8/U8; its semantics are
//    then those of "dequantize inputs, run the float op, quantize the output",
//    computed in integers as documented per op below.
//  * Fused activations (ReLU, ReLU6, Clip folded into the producer) live in
//    Attrs::act_min/act_max, in real (float) units. For a quantized node the
//    kernel clamps to [qmin, qmax] = [max(type_min, zp + round(act_min / s)),
//    min(type_max, zp + round(act_max / s))].
//
// This header has no dependency beyond the standard library (and the op table): the
// runtime links it without protobuf or ONNX.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "graph/op_table.h"

namespace edgeq {

// kBool: one byte per element, 0 false and 1 true (ops read any non-zero byte as true
// and write 0 or 1).
enum class DType : uint8_t { kF32 = 0, kS8 = 1, kU8 = 2, kS32 = 3, kS64 = 4, kBool = 5 };
inline bool is_index_type(DType t) { return t == DType::kS32 || t == DType::kS64; }
// Tensors of integers or bools without quantization: token ids and masks.
inline bool is_integer_valued(DType t) { return is_index_type(t) || t == DType::kBool; }

const char* dtype_name(DType t);
// "[1,3,224,224]": how messages and tools print a shape.
std::string shape_string(const std::vector<int32_t>& shape);
size_t dtype_size(DType t);
inline bool is_quantized_type(DType t) { return t == DType::kS8 || t == DType::kU8; }
inline int32_t dtype_min(DType t) { return t == DType::kS8 ? -128 : (t == DType::kU8 ? 0 : std::numeric_limits<int32_t>::min()); }
inline int32_t dtype_max(DType t) { return t == DType::kS8 ? 127 : (t == DType::kU8 ? 255 : std::numeric_limits<int32_t>::max()); }

// Affine quantization: real = scale * (q - zero_point).
// Per-tensor when scale.size() == 1; per-axis (per-channel) along `axis` otherwise,
// with one scale and one zero point per index of that axis.
struct QuantParams {
  std::vector<float> scale;
  std::vector<int32_t> zero_point;
  int32_t axis = 0;
  bool empty() const { return scale.empty(); }
  bool per_tensor() const { return scale.size() == 1; }
};

struct Tensor {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int32_t> shape;
  QuantParams quant;
  // Constant data (weights, biases, tables). `data` is null for activations.
  // `data` points either into `owned` or into memory kept alive by the Model
  // (an mmapped file); it is little-endian, densely packed in `shape` order.
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  std::vector<uint8_t> owned;

  Tensor() = default;
  Tensor(Tensor&&) = default;
  Tensor& operator=(Tensor&&) = default;  // moving a vector keeps its buffer: data stays valid
  Tensor(const Tensor& o) { *this = o; }
  Tensor& operator=(const Tensor& o) {
    if (this == &o) return *this;
    name = o.name;
    dtype = o.dtype;
    shape = o.shape;
    quant = o.quant;
    owned = o.owned;
    const bool in_owned = !o.owned.empty() && o.data == o.owned.data();
    data = in_owned ? owned.data() : o.data;  // a copy's data must not point into o.owned
    nbytes = o.nbytes;
    return *this;
  }

  bool is_constant() const { return data != nullptr; }
  int64_t num_elements() const;
  size_t byte_size() const { return static_cast<size_t>(num_elements()) * dtype_size(dtype); }
  void set_data(std::vector<uint8_t> bytes) {
    owned = std::move(bytes);
    data = owned.data();
    nbytes = owned.size();
  }
  template <typename T>
  const T* as() const { return reinterpret_cast<const T*>(data); }
};

// Every op edgeq executes, from the op table (graph/op_table.h, which documents each
// op's semantics and properties). kCount is not an op; the importer also uses it to
// mark a node as dead while rewriting.
enum class OpType : uint8_t {
#define EDGEQ_OP_ENUM(Name, Options, Shape, Prepare, Flags) k##Name,
  EDGEQ_OPS(EDGEQ_OP_ENUM)
#undef EDGEQ_OP_ENUM
  kCount  // not an op
};

const char* op_name(OpType op);
// The op's Flags column of the op table (0 for kCount).
uint32_t op_flags(OpType op);
inline bool op_has(OpType op, uint32_t flags) { return (op_flags(op) & flags) == flags; }

// Attributes of all ops in one struct; each op reads only the fields its comment
// in OpType names. Defaults are the neutral values.
struct Attrs {
  int32_t kernel_h = 0, kernel_w = 0;
  int32_t stride_h = 1, stride_w = 1;
  int32_t dilation_h = 1, dilation_w = 1;
  int32_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int32_t groups = 1;
  bool count_include_pad = false;
  float act_min = -std::numeric_limits<float>::infinity();
  float act_max = std::numeric_limits<float>::infinity();
  float alpha = 0.f, beta = 0.f;
  int32_t axis = 0;
  std::vector<int32_t> perm;    // kTranspose
  std::vector<int32_t> pads;    // kPad
  float pad_value = 0.f;        // kPad
  std::vector<int32_t> starts;  // kSlice
  std::vector<int32_t> steps;   // kSlice
  int32_t scale_h = 1, scale_w = 1;  // kResizeNearest
  int32_t coord_mode = 0;             // kResizeLinear, kResizeNearestTo: ref::ResizeCoord
  int32_t nearest_mode = 0;           // kResizeNearestTo: ref::NearestRound
  // kResizeLinear, kResizeNearestTo: the scale s of the coordinate transform along H and
  // W when the model gave one (ONNX Resize's `scales`, whose output size is floor(in * s),
  // so s need not be out / in); 0: out / in.
  float coord_scale_h = 0.f, coord_scale_w = 0.f;
  float cubic_a = -0.75f;       // kResizeCubic: Keys' coefficient
  int32_t exclude_outside = 0;  // kResizeCubic: taps outside the input weigh 0 (renormalized)
  int32_t dynamic = 0;          // kFullyConnected, kMatMul, kConv2D: run-time quantization mode
  float epsilon = 1e-5f;        // kLayerNorm
  // kLSTM, kGRU: hidden size, direction (0 forward, 1 reverse, 2 both), GRU's
  // linear_before_reset, and the gates' input clip (0: none).
  int32_t hidden_size = 0, direction = 0, linear_before_reset = 0;
  float clip = 0.f;
  int32_t k = 0, largest = 1;   // kTopK (with `axis`)
  int32_t reduction = 0;        // kScatterElements, kScatterND: ref::ScatterReduction
  int32_t fmod = 0;             // kMod: 1 takes the dividend's sign
  // kGridSample: ref::GridMode, ref::GridPadding, and align_corners (0 or 1).
  int32_t grid_mode = 0, grid_padding = 0, align_corners = 0;
  // kMatMul, set only by the runtime's view fold (runtime/view_fold.h), never read from
  // or written to a file: the operands' logical shapes, and ref::MatMulViews as three
  // groups (A, B, Y) of offset, row step, column step and kMaxDims batch steps, in
  // elements of the tensors the node now reads and writes. Empty: dense operands.
  std::vector<int32_t> matmul_a_shape, matmul_b_shape;
  std::vector<int64_t> matmul_views;
};

struct Node {
  std::string name;
  OpType op = OpType::kCount;
  std::vector<int32_t> inputs;   // tensor indices; -1 for an absent optional input
  std::vector<int32_t> outputs;  // tensor indices
  Attrs attrs;
};

enum class RequantScheme : uint8_t { kFp32 = 0, kFixedPoint = 1 };

// A whole model. Nodes are stored in a valid execution (topological) order.
// Weights of one node packed ahead of time for one kernel layout (a pre-packed file:
// `edgeq convert --pack`), used in place by sessions on that layout. `kernel` names
// the layout (the kernel function that reads it, e.g.
// "qs8_igemm_minmax_ukernel_4x16c4__neondot"), `layout` its version (the runtime
// ignores other versions); the runtime checks the size against the node.
struct PackedWeights {
  int32_t node = -1;
  std::string kernel;
  uint32_t layout = 0;
  const uint8_t* data = nullptr;  // 64-byte aligned: into the model's memory, or `owner`'s
  size_t nbytes = 0;
  std::shared_ptr<const void> owner;  // keeps `data` alive when packed in memory
};

struct Graph {
  std::vector<Tensor> tensors;
  std::vector<Node> nodes;
  std::vector<int32_t> inputs;   // graph input tensor indices
  std::vector<int32_t> outputs;  // graph output tensor indices
  RequantScheme requant = RequantScheme::kFp32;
  std::string producer;          // free text, e.g. "edgeq convert 0.1 from foo.onnx"
  // Pre-packed weights. They hold node indices and derive from the nodes' weights and
  // quantization: a pass that changes nodes drops them (compact_graph() does).
  std::vector<PackedWeights> packed;

  int32_t add_tensor(Tensor t) {
    tensors.push_back(std::move(t));
    return static_cast<int32_t>(tensors.size() - 1);
  }
  int32_t find_tensor(const std::string& name) const;
};

// Node-order-preserving compaction: drops nodes whose op is OpType::kCount and tensors
// that no node or graph input/output references, renumbering the rest.
void compact_graph(Graph* g);

}  // namespace edgeq
