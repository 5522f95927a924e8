// Internal declarations shared by the ONNX importer's source files:
//  * const_eval.cc: ConstTensor (an ONNX constant in ONNX element order), decoding of
//    TensorProto, and the small constant evaluator used to fold constant subgraphs
//    (Shape/Gather/Concat chains, Cast, ConstantOfShape, arithmetic on constants).
//  * importer.cc, lower_ops.cc, lower_movement.cc: the Importer, which walks the ONNX
//    graph once in topological order, folds what is constant and lowers every other
//    node to IR nodes in float form (DequantizeLinear / QuantizeLinear kept as IR nodes).
//  * ir_passes.cc: rewrites on the IR afterwards (QDQ fusion, activation folding,
//    batch-norm folding, quantized graph inputs/outputs, dead code removal).
#pragma once

#include <onnx/onnx_pb.h>  // defines ONNX_API, then includes onnx-ml.pb.h

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "graph/ir.h"
#include "graph/onnx/importer.h"
#include "graph/status.h"

namespace edgeq {
namespace onnx_import {

using Shape = std::vector<int64_t>;

// Largest element count of any tensor the importer creates or evaluates.
constexpr int64_t kMaxElements = int64_t{1} << 30;

// Largest constant the evaluator creates from a smaller description (ConstantOfShape,
// broadcasting, Gather); bounds the memory a hostile model can make the import use.
constexpr int64_t kMaxFoldElements = int64_t{1} << 24;

// Element count of `s`, or -1 when a dimension is negative or the count exceeds
// kMaxElements.
int64_t shape_numel(const Shape& s);
std::string shape_str(const Shape& s);

bool is_float_type(int32_t onnx_type);
bool is_int_type(int32_t onnx_type);  // integer or bool
const char* onnx_type_name(int32_t onnx_type);

// A constant tensor in ONNX element order. Floating types (float, double, float16)
// are held as float in `f`, integer and bool types as int64 in `i`.
struct ConstTensor {
  int32_t type = onnx::TensorProto::FLOAT;
  Shape dims;
  std::vector<float> f;
  std::vector<int64_t> i;

  bool is_float() const { return is_float_type(type); }
  int64_t numel() const {
    return is_float() ? static_cast<int64_t>(f.size()) : static_cast<int64_t>(i.size());
  }
  double at(int64_t k) const { return is_float() ? f[k] : static_cast<double>(i[k]); }
  // Reads the values as int64 (floats truncated). Fails on NaN or out of range.
  bool to_ints(std::vector<int64_t>* out) const;
  bool to_floats(std::vector<float>* out) const;
};

// Rewrites ONNX Runtime's quantized com.microsoft operators (QLinearAdd, QLinearMul,
// QLinearSigmoid, QLinearLeakyRelu, QLinearGlobalAveragePool, QLinearAveragePool,
// QLinearConcat, QGemm) into DequantizeLinear -> float op -> QuantizeLinear, and max
// pools reading a quantized tensor directly likewise (contrib_ops.cc); other nodes are
// kept.
Status expand_contrib_qlinear(onnx::ModelProto* model);

// Rewrites 1-D Conv, MaxPool and AveragePool (rank-3 inputs) into their 2-D forms on a
// height of 1 between an Unsqueeze and a Squeeze (expand_1d.cc).
void expand_1d_ops(onnx::ModelProto* model);

// Real values of a constant Value (a float constant, or a dequantized one); false for
// anything else (lower_transformer.cc).
struct Value;
bool real_values(const Value& v, std::vector<float>* out);

// Decodes an initializer or attribute tensor (raw_data or typed fields), checking
// sizes. `what` names it in errors.
Status decode_tensor(const onnx::TensorProto& t, const std::string& what, ConstTensor* out);

// Casts to an ONNX element type (wrapping integers, saturating float -> int).
Status cast_const(const ConstTensor& in, int32_t to, ConstTensor* out);

// Evaluates node `n` on constant inputs. `inputs[k]` is null for an absent input;
// `input_shapes[k]` is the (static) shape of input k even when it is not constant
// (used by Shape). Sets *handled = false when the op is not one the evaluator folds or
// needs a non-constant input; an error status means the node is invalid.
Status eval_const_node(const onnx::NodeProto& n, int opset,
                       const std::vector<const ConstTensor*>& inputs,
                       const std::vector<const Shape*>& input_shapes,
                       std::vector<ConstTensor>* outputs, bool* handled);

// The ops eval_const_node leaves to const_eval_more.cc (comparisons, Where, Expand,
// Range, Pow and unary math), called with every input constant.
Status eval_const_more(const onnx::NodeProto& n, int opset,
                       const std::vector<const ConstTensor*>& inputs,
                       std::vector<ConstTensor>* outputs, bool* handled);

// Generic helpers on constants (ONNX order).
// numpy broadcast of `in` to the shape `to` (which must be the broadcast result).
Status const_broadcast(const ConstTensor& in, const Shape& to, ConstTensor* out);
Status const_transpose(const ConstTensor& in, const std::vector<int64_t>& perm, ConstTensor* out);
// numpy broadcast of shapes; false when they do not broadcast.
bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out);

// Node attributes.
const onnx::AttributeProto* find_attr(const onnx::NodeProto& n, const std::string& name);
std::string node_label(const onnx::NodeProto& n);  // "node 'name' (OpType)"
Status attr_int(const onnx::NodeProto& n, const std::string& name, int64_t def, int64_t* v);
Status attr_float(const onnx::NodeProto& n, const std::string& name, float def, float* v);
Status attr_ints(const onnx::NodeProto& n, const std::string& name, std::vector<int64_t>* v,
                 bool* present);
Status attr_string(const onnx::NodeProto& n, const std::string& name, const std::string& def,
                   std::string* v);
// Attributes for nodes the importer makes (synthetic nodes, contrib_ops.cc's rewrites).
onnx::AttributeProto int_attr(const std::string& name, int64_t v);
onnx::AttributeProto ints_attr(const std::string& name, const std::vector<int64_t>& v);
onnx::AttributeProto float_attr(const std::string& name, float v);
onnx::AttributeProto string_attr(const std::string& name, const std::string& v);

// Shape rules shared by the evaluator and the lowering (ONNX order, axes may be
// negative; errors describe the problem, callers prefix the node).
Status normalize_axis(int64_t axis, size_t rank, int64_t* out);
Status squeeze_shape(const Shape& in, const std::vector<int64_t>& axes, bool all_ones, Shape* out);
Status unsqueeze_shape(const Shape& in, const std::vector<int64_t>& axes, Shape* out);
Status reshape_shape(const Shape& in, const std::vector<int64_t>& spec, bool allowzero, Shape* out);
// One dimension of ONNX Slice: clamps as the spec does, returns the first index and
// the element count (>= 0).
Status slice_dim(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t* first,
                 int64_t* count);
// Resolves Slice's starts/ends/axes/steps (attributes before opset 10, inputs after)
// into full-rank first/step/count vectors for an input of shape `in`.
struct SliceParams {
  std::vector<int64_t> first, step, count;
};
Status slice_params(const Shape& in, const std::vector<int64_t>& starts,
                    const std::vector<int64_t>& ends, const std::vector<int64_t>& axes,
                    const std::vector<int64_t>& steps, SliceParams* out);

// ------------------------------------------------------------------ lowering

// Quantization parameters read from a QuantizeLinear / DequantizeLinear node.
// Per-tensor when scale.size() == 1; per-axis along `axis` otherwise.
struct QuantInfo {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int64_t axis = 0;
  int32_t type = onnx::TensorProto::UINT8;  // element type of the quantized data
  bool per_tensor() const { return scale.size() == 1; }
};

enum class ValueKind {
  kConst,    // constant, data in `c`
  kDqConst,  // DequantizeLinear of a constant: integers in `c`, parameters in `q`
  kTensor,   // runtime tensor: IR tensor `ir` (rank 4: NHWC, or ONNX order when the IR
             // tensor is in Importer::plain_)
};

// What an ONNX value is during lowering. `shape` is the ONNX shape (NCHW for rank 4).
struct Value {
  ValueKind kind = ValueKind::kTensor;
  int32_t type = onnx::TensorProto::FLOAT;  // ONNX element type (kDqConst: FLOAT)
  Shape shape;
  ConstTensor c;
  QuantInfo q;
  int32_t ir = -1;   // kTensor: its IR tensor; constants: cached IR tensor once materialized
  int32_t ir_plain = -1;  // rank-4 constants: cached IR tensor in ONNX order
  std::string name;  // the ONNX name (set when looked up as a node input)
};

class Importer {
 public:
  Importer(const ImportOptions& opts, Graph* g) : opts_(opts), g_(g) {}
  Status Run(const onnx::ModelProto& model);

 private:
  // importer.cc: graph walk, inputs and outputs.
  Status CheckOpsets(const onnx::ModelProto& model);
  Status AddInitializers(const onnx::GraphProto& graph);
  Status AddGraphInputs(const onnx::GraphProto& graph);
  const onnx::NodeProto* IntegerMisuse(const std::string& value, int depth) const;
  bool InputIsImage(const std::string& value) const;
  Status SortNodes(const onnx::GraphProto& graph, std::vector<int>* order);
  Status MarkLive(const onnx::GraphProto& graph, const std::vector<int>& order);
  Status ProcessNode(const onnx::NodeProto& n);
  // One node made while lowering `parent` (Einsum, GroupNormalization, Sum): op on the
  // named inputs into `output`, with `attrs`, processed as a node of the file would be
  // (folded when its inputs are constants), under the parent's IR name.
  Status LowerSynthetic(const onnx::NodeProto& parent, const std::string& op, const std::vector<std::string>& inputs,
                        const std::string& output, const std::vector<onnx::AttributeProto>& attrs = {});
  // A constant value for synthetic nodes to read, named `base` (or base_k when the file
  // has a value of that name): of ONNX element `type`, its values in `f` (float types) or
  // `i` (integer types). Returns its name.
  std::string DefineConst(const std::string& base, int32_t type, const Shape& dims, std::vector<float> f,
                          std::vector<int64_t> i);
  Status AddGraphOutputs(const onnx::GraphProto& graph);

  // lower_ops.cc: one function per ONNX op (or family).
  Status Lower(const onnx::NodeProto& n);
  Status LowerConv(const onnx::NodeProto& n);
  Status LowerQLinearConv(const onnx::NodeProto& n);
  Status LowerGemm(const onnx::NodeProto& n);
  Status LowerMatMul(const onnx::NodeProto& n);
  Status LowerQLinearMatMul(const onnx::NodeProto& n);
  Status LowerIntegerOp(const onnx::NodeProto& n);
  Status LowerBinary(const onnx::NodeProto& n);
  Status LowerUnary(const onnx::NodeProto& n);
  Status LowerSoftmax(const onnx::NodeProto& n);
  Status LowerPool(const onnx::NodeProto& n);
  Status LowerGlobalPool(const onnx::NodeProto& n);
  Status LowerReduce(const onnx::NodeProto& n);
  Status LowerConcat(const onnx::NodeProto& n);
  Status LowerReshapeFamily(const onnx::NodeProto& n);
  Status LowerTranspose(const onnx::NodeProto& n);
  Status LowerPad(const onnx::NodeProto& n);
  Status LowerResize(const onnx::NodeProto& n);
  Status LowerSplit(const onnx::NodeProto& n);
  Status LowerSlice(const onnx::NodeProto& n);
  Status LowerBatchNorm(const onnx::NodeProto& n);
  Status LowerPassThrough(const onnx::NodeProto& n);
  Status LowerQuantize(const onnx::NodeProto& n);
  Status LowerDequantize(const onnx::NodeProto& n);

  // lower_transformer.cc: the ops of transformer encoders.
  Status LowerGather(const onnx::NodeProto& n);
  Status LowerCast(const onnx::NodeProto& n);
  Status LowerExpand(const onnx::NodeProto& n);
  Status LowerTile(const onnx::NodeProto& n);
  Status LowerGatherElements(const onnx::NodeProto& n);
  Status LowerGridSample(const onnx::NodeProto& n);
  Status LowerCastLike(const onnx::NodeProto& n);
  Status LowerFusedMatMul(const onnx::NodeProto& n);
  Status LowerMultiHeadAttention(const onnx::NodeProto& n);
  Status LowerSimplifiedLayerNorm(const onnx::NodeProto& n);
  Status LowerHardmax(const onnx::NodeProto& n);
  Status LowerScatter(const onnx::NodeProto& n);
  Status ConcatCopies(const onnx::NodeProto& n, int32_t type, int32_t cur, Shape cur_shape, const Shape& out_shape);
  // lower_masks.cc: comparisons, logical ops, Where, Pow, reductions over any axes.
  Status MaskOperands(const onnx::NodeProto& n, const std::vector<Value*>& in, Shape* out_shape,
                      std::vector<int32_t>* irs, bool* nhwc);
  Status LowerLogical(const onnx::NodeProto& n);
  Status LowerWhere(const onnx::NodeProto& n);
  Status LowerPow(const onnx::NodeProto& n);
  Status LowerReduceAxes(const onnx::NodeProto& n, std::vector<int64_t> axes, bool keepdims);
  Status LowerLogSoftmax(const onnx::NodeProto& n);
  Status LowerIntegerBinary(const onnx::NodeProto& n, Value* a, Value* b);
  Status LowerMod(const onnx::NodeProto& n);
  Status LowerSumMean(const onnx::NodeProto& n);
  Status EmitElementwise(const onnx::NodeProto& n, const std::vector<Value*>& in, OpType op, const Attrs& attrs);
  Status LowerCumSum(const onnx::NodeProto& n);
  Status LowerMinMax(const onnx::NodeProto& n);
  // lower_cnn_extra.cc: PRelu, DepthToSpace / SpaceToDepth, InstanceNormalization.
  Status LowerPRelu(const onnx::NodeProto& n);
  Status LowerDepthToSpace(const onnx::NodeProto& n);
  Status LowerInstanceNorm(const onnx::NodeProto& n);
  Status LowerConvTranspose(const onnx::NodeProto& n);
  Status LowerGroupNorm(const onnx::NodeProto& n);
  Status BatchNormAffine(const onnx::NodeProto& n, int64_t C, std::vector<float>* scale, std::vector<float>* shift);
  std::string FoldableBatchNorm(const onnx::NodeProto& n, int64_t C, std::vector<float>* scale,
                                std::vector<float>* bias);
  Status LowerArgMax(const onnx::NodeProto& n);
  Status LowerScaledElu(const onnx::NodeProto& n, Value* x);  // Selu, Celu (lower_ops.cc)
  Status LowerEinsum(const onnx::NodeProto& n);  // lower_einsum.cc
  Status LowerTopK(const onnx::NodeProto& n);    // lower_cnn_extra.cc
  // lower_recurrent.cc: LSTM and GRU.
  Status LowerRecurrent(const onnx::NodeProto& n);
  Status LowerResize1d(const onnx::NodeProto& n, const Value& x);
  Status Piece(const onnx::NodeProto& n, const std::string& suffix, int32_t like, const Shape& ir_shape, int32_t* ir);
  Status LowerQuantizedGather(const onnx::NodeProto& n, const Value& data, const Value& idx);
  Status LowerLayerNorm(const onnx::NodeProto& n);
  Status LowerDynamicQuantize(const onnx::NodeProto& n);
  Status LowerDynamicInteger(const onnx::NodeProto& n);  // MatMulInteger/ConvInteger of those
  // MatMul of two runtime tensors -> IR MatMul (`dynamic` as given).
  Status MatMulCore(const onnx::NodeProto& n, Value* a, Value* b, int32_t dynamic,
                    const std::string& out_name, int32_t* out_ir, Shape* out_shape);
  Status LayerNormCore(const onnx::NodeProto& n, Value* x, Value* gamma, Value* beta, float eps,
                       const std::string& out_name);

  // fuse_patterns.cc: subgraphs PyTorch writes for one op (GELU from Erf or Tanh, the
  // decomposed LayerNorm), found before lowering. The pattern's last node lowers the
  // whole pattern; its inner nodes are skipped while its input is a runtime tensor.
  struct Fusion {
    enum Kind { kGelu, kLayerNorm } kind = kGelu;
    std::string x;            // the pattern's input
    float alpha = 0.f;        // Gelu: 0 erf form, 1 tanh approximation
    float epsilon = 1e-5f;    // LayerNorm
    std::string gamma, beta;  // LayerNorm: constant names ("" when absent)
    std::vector<std::string> inner;  // outputs of the inner nodes
  };
  void FindFusions(const onnx::GraphProto& graph);
  bool MatchGelu(const onnx::NodeProto& root, Fusion* f) const;
  bool MatchLayerNorm(const onnx::NodeProto& div, Fusion* f, std::string* root) const;
  Status LowerFusion(const onnx::NodeProto& n, const Fusion& f);

  // Shared pieces of the lowering.
  Status ConvCore(const onnx::NodeProto& n, const Value& x, const Value& w, const Value* b,
                  const std::string& out_name, int32_t* out_ir, Shape* out_shape, bool dynamic = false);
  Status FcCore(const onnx::NodeProto& n, const Value& a, Value w_kn, const Value* bias,
                const std::string& out_name, int32_t* out_ir, Shape* out_shape);
  Status ReadQuant(const onnx::NodeProto& n, int scale_idx, int zp_idx, const Shape& x_shape,
                   int64_t axis, QuantInfo* q);
  Status DequantizeTensor(const onnx::NodeProto& n, const Value& x, const QuantInfo& q,
                          int32_t* out_ir);
  Status QuantizeTo(const onnx::NodeProto& n, int32_t x_ir, const Shape& shape, const QuantInfo& q,
                    const std::string& out_name, int32_t* out_ir);

  // Inputs of node n. Input(): required. OptInput(): null when absent.
  Status Input(const onnx::NodeProto& n, int k, Value** v);
  Status OptInput(const onnx::NodeProto& n, int k, Value** v);
  Status ConstInts(const onnx::NodeProto& n, int k, std::vector<int64_t>* v, bool* present);
  Status ConstFloats(const onnx::NodeProto& n, int k, std::vector<float>* v, bool* present);
  Status RequireTensor(const onnx::NodeProto& n, int k, Value** v);

  // The IR tensor of `v` as a runtime operand (materializing constants: F32 data, or
  // quantized data with a kDequantize node; NHWC for rank 4).
  Status AsTensor(const onnx::NodeProto& n, Value* v, int32_t* ir);
  // `v` (constant or tensor) broadcast to rank `rank` (leading 1s) as an IR operand, in
  // the layout `nhwc` says when the result has rank 4.
  Status BroadcastOperand(const onnx::NodeProto& n, Value* v, size_t rank, int32_t* ir,
                          bool nhwc = true);

  // Layout of rank-4 values. Image tensors (graph inputs, outputs of Conv, pools,
  // Resize, BatchNorm and of ops on image tensors) are NHWC in the IR; rank-4 values made
  // from lower-rank ones (Reshape/Unsqueeze/MatMul/Gather in attention: [B,heads,S,d])
  // keep ONNX order, and their IR tensors are listed in plain_. Each op follows its
  // inputs' layout and converts only where an operand disagrees or the op needs one.
  bool Nhwc(const Value& v) const;  // rank 4 and not in ONNX order
  Shape IrShape(const Shape& onnx_shape, bool nhwc) const;
  // The layout for an op's rank-4 result from its operands: NHWC when a rank-4 operand
  // is an NHWC tensor, ONNX order otherwise.
  bool ResultNhwc(const std::vector<const Value*>& operands) const;
  // `v` as an IR operand in the given layout (converting a rank-4 tensor when needed).
  Status AsLayout(const onnx::NodeProto& n, Value* v, bool nhwc, int32_t* ir);
  // Creates an IR constant for a constant value already in IR order.
  Status MaterializeConst(const onnx::NodeProto& n, const Value& v, const std::string& name,
                          int32_t* ir);

  // Layout changes of rank-4 tensors. For a reshape the data only needs to be in
  // ONNX (NCHW) element order; these return the input itself when it already is.
  Status ToOnnxOrder(const onnx::NodeProto& n, int32_t ir, const Shape& onnx_shape,
                     bool for_reshape, int32_t* out);
  Status FromOnnxOrder(const onnx::NodeProto& n, int32_t ir_nchw, const Shape& onnx_shape,
                       const std::string& out_name, int32_t* out);
  // Reshape of a tensor value to `out_shape` (ONNX order) named `out_name`.
  // IR tensor `ir` (ONNX element type `type`, ONNX shape `shape`) seen with `out_shape` as
  // node n's first output.
  Status ReshapeToOutput(const onnx::NodeProto& n, int32_t ir, int32_t type, const Shape& shape,
                         const Shape& out_shape);
  Status ReshapeValue(const onnx::NodeProto& n, const Value& x, const Shape& out_shape,
                      const std::string& out_name, int32_t* out);

  // Defining outputs.
  Status NewTensor(const std::string& name, bool exact_name, DType dtype, const Shape& ir_shape,
                   int32_t* ir);
  // A tensor with the dtype and quantization of tensor `like`.
  Status NewTensorLike(int32_t like, const std::string& name, bool exact_name,
                       const Shape& ir_shape, int32_t* ir);
  Status OutputTensor(const onnx::NodeProto& n, int k, DType dtype, const Shape& onnx_shape,
                      int32_t* ir, bool nhwc = true);
  void DefineTensor(const std::string& name, int32_t type, const Shape& onnx_shape, int32_t ir);
  void Emit(const onnx::NodeProto& n, const std::string& suffix, OpType op,
            std::vector<int32_t> inputs, std::vector<int32_t> outputs, Attrs attrs = Attrs());
  std::string UniqueTensorName(const std::string& base);
  std::string UniqueNodeName(const std::string& base);
  Status Fail(const onnx::NodeProto& n, StatusCode code, const std::string& msg) const;
  Status CheckWindowAttrs(const onnx::NodeProto& n, std::vector<int64_t>* strides, std::vector<int64_t>* dilations,
                          std::vector<int64_t>* pads) const;

  const ImportOptions& opts_;
  Graph* g_;
  int opset_ = 0;
  std::unordered_map<std::string, Value> values_;
  std::unordered_map<std::string, int> consumers_;  // ONNX uses of each value
  std::set<std::string> live_;                      // values needed by the graph outputs
  std::set<std::string> reserved_names_;            // all ONNX value names
  std::set<std::string> tensor_names_, node_names_;
  std::set<std::string> skip_nodes_;  // outputs of nodes folded into an earlier lowering
  std::set<int32_t> plain_;           // rank-4 IR tensors in ONNX (not NHWC) order
  std::map<std::string, Fusion> fusions_;            // by the output of the pattern's root
  std::map<std::string, std::string> fusion_inner_;  // inner output -> root output
  // DynamicQuantizeLinear outputs: (x_q, x_scale, x_zp) name -> the float input's name.
  std::map<std::string, std::string> dynamic_q_;
  int node_index_ = 0;
  std::string node_name_;  // IR name of the node being lowered
  const onnx::GraphProto* graph_ = nullptr;
  std::map<std::string, const onnx::NodeProto*> producer_;
  std::map<std::string, std::vector<const onnx::NodeProto*>> users_;
};

inline bool same_quant_params(const QuantParams& a, const QuantParams& b) {
  return a.scale == b.scale && a.zero_point == b.zero_point &&
         (a.scale.size() == 1 || a.axis == b.axis);
}

// Layout of rank-4 tensors: IR dim k holds ONNX dim kNhwcFromNchw[k]; ONNX dim j is
// IR dim kNchwToNhwcAxis[j].
constexpr int64_t kNhwcFromNchw[4] = {0, 2, 3, 1};
constexpr int64_t kNchwToNhwcAxis[4] = {0, 3, 1, 2};
Shape to_ir_shape(const Shape& onnx_shape);
int64_t to_ir_axis(int64_t axis, size_t rank);
// True when permuting `shape` by `perm` keeps the order of the non-1 dimensions, so
// the permutation moves no data (a reshape does it).
bool perm_is_view(const Shape& shape, const std::vector<int64_t>& perm);

// Permutes a constant Value (data, and the axis of per-axis quantization).
Status permute_value(Value* v, const std::vector<int64_t>& perm);

// IR-level rewrites run after lowering (ir_passes.cc).
Status optimize_graph(const ImportOptions& opts, Graph* g);

}  // namespace onnx_import
}  // namespace edgeq
