# Quantization math, observers and weight quantization: part of the runtime library
# (calibration runs on the device), so these use only the standard library, graph/
# and kernels/. No FMA contraction: qparams and the histogram search must round each
# float32 step exactly as PyTorch does. -O3 lets GCC vectorize the per-batch min/max
# and binning loops (it changes no rounding: there is no -ffast-math).
set(EDGEQ_QUANT_SOURCES
  quant/qparams.cc
  quant/histogram.cc
  quant/observer.cc
  quant/stats_io.cc
  quant/weights.cc
)
set_source_files_properties(${EDGEQ_QUANT_SOURCES} PROPERTIES COMPILE_OPTIONS "-ffp-contract=off;-O3")
