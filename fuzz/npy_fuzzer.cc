// Fuzzer: the NPY reader (tools/npy.cc) behind `edgeq run --input`, `calibrate --data`
// and `eval`, on untrusted bytes. An array it accepts must be self-consistent: its
// data holds exactly its shape's elements of its dtype.
#include <cstdint>
#include <cstdlib>

#include "tools/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  edgeq::NpyArray a;
  const edgeq::Status st = edgeq::parse_npy(data, size, &a);
  if (!st.ok()) {
    if (st.message().empty()) std::abort();
    return 0;
  }
  if (a.num_elements() < 0 || a.data.size() != static_cast<size_t>(a.num_elements()) * a.item_size()) std::abort();
  return 0;
}
