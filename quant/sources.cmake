# Quantization: qparam math, observers, weight quantization, calibration, the float ->
# int8 graph rewrite and error reports. Part of the runtime library (calibration runs
# on the device), so these use only the standard library, graph/, kernels/ and
# runtime/. No FMA contraction: qparams and the histogram search must round each
# float32 step exactly as PyTorch does. -O3 lets GCC vectorize the per-batch
# min/max and binning loops (it changes no rounding: there is no -ffast-math).
set(EDGEQ_QUANT_SOURCES
  quant/qparams.cc
  quant/histogram.cc
  quant/observer.cc
  quant/stats_io.cc
  quant/weights.cc
  quant/quantize_graph.cc
  quant/batch.cc
  quant/report.cc
  quant/calibrator.cc
  quant/calibrator_c_api.cc
)
set_source_files_properties(${EDGEQ_QUANT_SOURCES} PROPERTIES COMPILE_OPTIONS "-ffp-contract=off;-O3")
