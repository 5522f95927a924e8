// Contracts of the optimized depthwise-convolution, elementwise, pooling, lookup and
// concat kernels (the part of a KernelSet that is not GEMM). A null pointer means the
// reference kernel runs.
//
// Depthwise convolution works one output row at a time (kernels/qdwconv.h drives it).
// The channels are cut into tiles of `tile` channels; the kernel rows into groups of
// `group` rows (2: the taps of two rows are multiplied as int16 pairs, 4: as byte
// quads with a u8 x s8 dot product). For each tile the row kernel interleaves the
// group's input rows column by column into a scratch buffer of its own stack, then
// every output pixel of the row is a sum over (kernel column, group) of one
// multiply-accumulate of a scratch column with a packed weight column.
//
// MiscKernels hold function pointers with the signatures of the kernels/ref functions
// they replace; they equal them bit for bit on every input, calling the reference
// themselves for the cases they do not vectorize.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/ref/ref.h"

namespace edgeq {
namespace kern {

// ------------------------------------------------------------------ depthwise

// Packed depthwise weights: one block per tile of `tile` channels, each
//   int32 bias[tile]                      bias - (x_zp + act_offset) * sum of the channel's taps
//   int32 rq0[tile], rq1[tile], rq2[tile] fp32: float scale, unused, unused;
//                                         fixed point: multiplier, left shift, right shift
//   weights[groups][kernel_w][tile * 4 bytes]
// in "accumulator order": entry i of a tile is channel tile_start + order[i]. In the
// weights, entry i holds the group's rows r = 0..group-1 of that channel and kernel
// column: as int16 (group 2) or int8 (group 4). Channels >= the channel count and rows
// >= kernel_h have zero weights and bias; their requantization entries copy a valid
// channel's.
struct DwArgs {
  // groups * group pointers, one per kernel row rounded up to whole groups: the start
  // (pixel 0, channel 0) of the input row the kernel row reads, or of a row of x_zp
  // bytes (in_w * channels of them) for rows outside the image and rows >= kernel_h.
  const void* const* rows;
  const void* zero;    // one pixel of x_zp bytes (input columns outside the image)
  const void* packed;  // packed weights as above
  void* out;           // the output row: out_w * channels bytes
  size_t channels;
  int32_t in_w, out_w;
  int32_t kernel_w, groups;  // groups = ceil(kernel_h / group)
  int32_t stride_w, dilation_w, pad_left;
  ref::Scheme scheme;
  int32_t zero_point, qmin, qmax;  // output zero point and clamp
  bool act_s8;                     // int8 activations (else uint8), for kernels that take both
  int32_t kernel_h;                // kernel rows (rows past them, up to groups * group, are x_zp rows)
  // No packed weight is -128 (int16 layouts only, else false): two int8 x int8 products
  // then fit int16, which the AArch64 NEON direct kernel uses (dw_direct_neon.h).
  bool w127;
};
using DwRowUkernel = void (*)(const DwArgs* args);

// Largest number of input columns times bytes per column (groups * tile * 4) a row
// kernel keeps in its scratch: a layer needs (kernel_w - 1) * dilation_w + 1 columns.
constexpr size_t kDwScratchBytes = 32768;

struct DwKernel {
  const char* name = nullptr;      // family name (kernels.h), e.g. "q8_dwconv_minmax_ukernel_32c4__avxvnni"
  uint32_t tile = 0;               // channels per tile
  uint32_t group = 0;              // kernel rows per group: 2 or 4
  int32_t s8_act_offset = 0;       // added to int8 activations by the kernel (x ^ 0x80 = x + 128)
  int32_t u8_act_offset = 0;       // added to uint8 activations by the kernel (x ^ 0x80 = x - 128)
  const uint8_t* order = nullptr;  // tile entries: accumulator position -> channel in the tile
  uint32_t tile_cost = 1;          // relative time per tile, to choose among a level's kernels
  DwRowUkernel u8 = nullptr;  // may be the same function as s8: it reads DwArgs::act_s8
  DwRowUkernel s8 = nullptr;
};

// The depthwise kernels of one level, widest tile first; unused entries are null. A
// layer runs on the one with the least tiles * tile_cost for its channel count (the
// widest on a tie).
struct DwKernels {
  static constexpr int kMax = 2;
  DwKernel kernel[kMax];
};

// ------------------------------------------------------------------ elementwise, pooling, data

template <typename T>
using QBinaryFn = void (*)(ref::BinaryOp op, const ref::Broadcast& bc, const T* a, const T* b,
                           const ref::BinaryQParams& p, T* out);
template <typename T>
using QPoolFn = void (*)(const ref::PoolShape& s, const T* in, const ref::PoolQParams& p, T* out);
template <typename T>
using QGlobalPoolFn = void (*)(int32_t batch, int32_t hw, int32_t channels, const T* in, const ref::PoolQParams& p,
                               T* out);
template <typename T>
using LookupFn = void (*)(size_t n, const T* in, const T table[256], T* out);
using ConcatFn = void (*)(int64_t outer, int64_t inner, int count, const int32_t* in_axis_sizes,
                          const void* const* inputs, size_t elem_size, void* out);
using TransposeFn = void (*)(int rank, const int32_t* in_shape, const int32_t* perm, size_t elem_size,
                             const void* in, void* out);
using SliceFn = void (*)(int rank, const int32_t* in_shape, const int32_t* out_shape, const int32_t* starts,
                         const int32_t* steps, size_t elem_size, const void* in, void* out);
using PadFn = void (*)(int rank, const int32_t* in_shape, const int32_t* pads, size_t elem_size, const void* fill,
                       const void* in, void* out);
using SplitFn = void (*)(int64_t outer, int64_t inner, int32_t in_axis, int count, const int32_t* out_axis_sizes,
                         const void* in, size_t elem_size, void* const* outputs);
using PadModeFn = void (*)(bool reflect, int rank, const int32_t* in_shape, const int32_t* pads, size_t elem_size,
                           const void* in, void* out);
// ref::resize_linear_f32's signature.
using ResizeLinearF32Fn = void (*)(ref::ResizeCoord mode, int32_t batch, int32_t in_h, int32_t in_w, int32_t channels,
                                   int32_t out_h, int32_t out_w, int64_t row0, int64_t row1, const float* in, float* out,
                                   float scale_h, float scale_w);
using ResizeIndexedFn = void (*)(int32_t batch, int32_t in_h, int32_t in_w, int32_t out_h, int32_t out_w,
                                 size_t pixel_bytes, const int32_t* rows, const int32_t* cols, const void* in,
                                 void* out);
template <typename T>
using QuantizeFn = void (*)(size_t n, const float* in, float scale, int32_t zero_point, T* out);
template <typename T>
using DequantizeFn = void (*)(size_t n, const T* in, float scale, int32_t zero_point, float* out);
template <typename T>
using QSoftmaxRowsFn = void (*)(int64_t rows, int32_t row_size, const T* in, const uint32_t table[256],
                                float out_scale, int32_t out_zero_point, T* out);
template <typename T>
using QLayerNormFn = void (*)(int64_t rows, int32_t channels, const T* in, const ref::QLayerNormParams& p, T* out);
using LayerNormF32Fn = void (*)(int64_t rows, int32_t channels, const float* in, const float* gamma,
                                const float* beta, float epsilon, float* out);
using UnaryF32Fn = void (*)(ref::UnaryOp op, float alpha, float beta, size_t n, const float* in, float* out);
// Float softmax over each of `rows` contiguous rows of row_size >= 1 elements.
using SoftmaxF32RowsFn = void (*)(int64_t rows, int32_t row_size, const float* in, float* out);
// The same along a middle axis: in / out [outer][count][stride], stride > 1, for the
// `columns` columns starting at in / out (columns <= stride).
using SoftmaxF32ColumnsFn = void (*)(int64_t outer, int32_t count, int32_t columns, int64_t stride, const float* in,
                                     float* out);

// The float unary ops the unary_f32 kernels compute themselves (kernels/unary_f32_math.h);
// they hand the others to ref::unary_f32.
inline bool unary_f32_kernel_covers(ref::UnaryOp op) {
  switch (op) {
    case ref::UnaryOp::kTanh:
    case ref::UnaryOp::kErf:
    case ref::UnaryOp::kGelu:
    case ref::UnaryOp::kSigmoid:
    case ref::UnaryOp::kSoftplus:
    case ref::UnaryOp::kMish:
    case ref::UnaryOp::kElu:
      return true;
    default:
      return false;
  }
}

// The names of a level's misc kernels, one per family (its int8 and uint8 functions), by
// the rule of kernels.h: "q8_vbinary_minmax_ukernel__avx2", "q8_maxpool_minmax_ukernel__avx2",
// "q8_avgpool_minmax_ukernel__avx2", "q8_gavgpool_minmax_ukernel__avx2",
// "x8_lut_ukernel__avx2", "xx_concat_ukernel__avx2", "f32_q8_vcvt_ukernel__avx2" (quantize),
// "q8_f32_vcvt_ukernel__avx2" (dequantize), "xx_transpose_ukernel__avx2",
// "xx_slice_ukernel__avx2", "xx_pad_ukernel__avx2", "q8_softmax_ukernel__avx2", "q8_layernorm_ukernel__avx2",
// "f32_layernorm_ukernel__avx2" (__neon on ARM). The suffix is the
// ISA of the functions, which may be below the level's (the x86 levels all run AVX2's).
// How the runtime uses them: the kernel name a node reports (profiles, `edgeq bench`)
// is its family's name here (names.qbinary for Add / Sub / Mul / Div, names.lookup for
// a table lookup, ...) when the node runs that family's function, and "ref" when the
// pointer is null and the reference runs (runtime/ops/common.h, misc_kernel_name). A
// kernel may still hand the cases it does not vectorize to the reference itself; the
// node still reports the kernel.
struct MiscKernelNames {
  const char* qbinary = nullptr;  // qbinary_s8, qbinary_u8
  const char* qmaxpool = nullptr;
  const char* qavgpool = nullptr;
  const char* qglobal_avgpool = nullptr;
  const char* lookup = nullptr;
  const char* concat = nullptr;
  const char* quantize = nullptr;    // quantize_s8, quantize_u8
  const char* dequantize = nullptr;  // dequantize_s8, dequantize_u8
  const char* transpose = nullptr;
  const char* slice = nullptr;
  const char* pad = nullptr;
  const char* qsoftmax = nullptr;     // qsoftmax_s8, qsoftmax_u8
  const char* qlayer_norm = nullptr;  // qlayer_norm_s8, qlayer_norm_u8
  const char* layer_norm_f32 = nullptr;
  const char* unary_f32 = nullptr;  // "f32_vunary_ukernel__<isa>", for the ops unary_f32_kernel_covers()
  const char* softmax_f32 = nullptr;  // "f32_softmax_ukernel__<isa>"
  const char* split = nullptr;        // "xx_split_ukernel__<isa>"
  const char* pad_mode = nullptr;     // "xx_padmode_ukernel__<isa>" (reflect, edge)
  const char* resize = nullptr;       // "xx_resize_nearest_ukernel__<isa>" (any nearest resize)
  const char* resize_linear_f32 = nullptr;  // "f32_resize_bilinear_ukernel__<isa>"
};

// The names of a level whose misc kernels are all of one ISA: isa is a string literal,
// e.g. EDGEQ_MISC_KERNEL_NAMES("neon").
#define EDGEQ_MISC_KERNEL_NAMES(isa)                                                                         \
  ::edgeq::kern::MiscKernelNames {                                                                           \
    "q8_vbinary_minmax_ukernel__" isa, "q8_maxpool_minmax_ukernel__" isa, "q8_avgpool_minmax_ukernel__" isa, \
        "q8_gavgpool_minmax_ukernel__" isa, "x8_lut_ukernel__" isa, "xx_concat_ukernel__" isa,               \
        "f32_q8_vcvt_ukernel__" isa, "q8_f32_vcvt_ukernel__" isa, "xx_transpose_ukernel__" isa,              \
        "xx_slice_ukernel__" isa, "xx_pad_ukernel__" isa, "q8_softmax_ukernel__" isa,                        \
        "q8_layernorm_ukernel__" isa,                                                                        \
        "f32_layernorm_ukernel__" isa                                                                        \
  }

// Transposes, for the level kernels and for the kernel name a Transpose node reports
// (kernels/dispatch.cc; baseline code, called once a transpose).
// perm = {0, 2, 3, ..., rank - 1, 1}: NC(spatial) -> N(spatial)C, the layout change at
// a model's input, and its inverse {0, rank - 1, 1, ..., rank - 2} at an output.
bool is_channels_last_perm(int rank, const int32_t* perm);
bool is_channels_first_perm(int rank, const int32_t* perm);
// The same transpose on fewer dimensions: size-1 dimensions dropped, and input
// dimensions that stay adjacent and in order in the output merged into one. Writes the
// collapsed input shape and permutation (at most rank entries each); returns their rank.
int collapse_transpose(int rank, const int32_t* in_shape, const int32_t* perm, int32_t* shape_out,
                       int32_t* perm_out);
// A collapsed permutation that swaps the last two of two or three dimensions:
// [rows][cols] -> [cols][rows], or the same for each of a leading batch dimension.
bool is_batched_matrix_transpose(int rank, const int32_t* perm);
// Whether the level transpose kernels move this transpose themselves: every transpose
// whose collapsed innermost dimension stays innermost (runs of bytes), and every one on
// 1-, 2-, 4- and 8-byte elements (the channels-last change and its inverse and (batched)
// matrix transposes of 1- and 4-byte elements in register blocks, others in strided
// blocks). Others go to ref::transpose.
bool transpose_kernel_covers(int rank, const int32_t* in_shape, const int32_t* perm, size_t elem_size);

struct MiscKernels {
  MiscKernelNames names;                   // null where the family's pointers are
  QBinaryFn<int8_t> qbinary_s8 = nullptr;  // ref::qbinary
  QBinaryFn<uint8_t> qbinary_u8 = nullptr;
  QPoolFn<int8_t> qmaxpool_s8 = nullptr;  // ref::qmaxpool
  QPoolFn<uint8_t> qmaxpool_u8 = nullptr;
  QPoolFn<int8_t> qavgpool_s8 = nullptr;  // ref::qavgpool
  QPoolFn<uint8_t> qavgpool_u8 = nullptr;
  QGlobalPoolFn<int8_t> qglobal_avgpool_s8 = nullptr;  // ref::qglobal_avgpool
  QGlobalPoolFn<uint8_t> qglobal_avgpool_u8 = nullptr;
  LookupFn<int8_t> lookup_s8 = nullptr;  // ref::lookup
  LookupFn<uint8_t> lookup_u8 = nullptr;
  ConcatFn concat = nullptr;  // ref::concat
  QuantizeFn<int8_t> quantize_s8 = nullptr;  // ref::quantize
  QuantizeFn<uint8_t> quantize_u8 = nullptr;
  DequantizeFn<int8_t> dequantize_s8 = nullptr;  // ref::dequantize (per tensor)
  DequantizeFn<uint8_t> dequantize_u8 = nullptr;
  TransposeFn transpose = nullptr;  // ref::transpose (transpose_kernel_covers() faster, the rest by it)
  SliceFn slice = nullptr;          // ref::slice
  PadFn pad = nullptr;              // ref::pad (constant)
  QSoftmaxRowsFn<int8_t> qsoftmax_s8 = nullptr;  // ref::qsoftmax_rows
  QSoftmaxRowsFn<uint8_t> qsoftmax_u8 = nullptr;
  QLayerNormFn<int8_t> qlayer_norm_s8 = nullptr;  // ref::qlayer_norm
  QLayerNormFn<uint8_t> qlayer_norm_u8 = nullptr;
  LayerNormF32Fn layer_norm_f32 = nullptr;  // ref::layer_norm_f32
  // ref::unary_f32, within the tolerance test/unary_f32_test.cc states (not bit for bit).
  UnaryF32Fn unary_f32 = nullptr;
  // ref::softmax_f32 with inner == 1, within the tolerance test/softmax_test.cc states.
  SoftmaxF32RowsFn softmax_f32 = nullptr;
  // ref::softmax_f32 with inner > 1 (names.softmax_f32 too), within the same tolerance.
  SoftmaxF32ColumnsFn softmax_f32_columns = nullptr;
  SplitFn split = nullptr;                // ref::split
  PadModeFn pad_mode = nullptr;           // ref::pad_mode
  ResizeIndexedFn resize_nearest = nullptr;  // ref::resize_nearest_indexed (integer factors as index tables too)
  ResizeLinearF32Fn resize_linear_f32 = nullptr;  // ref::resize_linear_f32, bit for bit
};

}  // namespace kern
}  // namespace edgeq
