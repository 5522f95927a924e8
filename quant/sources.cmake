# Quantization: qparam math, observers, calibration and the float -> int8 graph
# rewrite. Part of the runtime library (on-device calibration needs no importer).
set(EDGEQ_QUANT_SOURCES
  quant/quantize_graph.cc
  quant/report.cc
)
