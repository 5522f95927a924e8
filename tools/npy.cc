// NPY reading and writing (see npy.h). The header is a Python dict literal; we
// parse just the three keys NumPy writes ('descr', 'fortran_order', 'shape').
#include "tools/npy.h"

#include <cstring>
#include <fstream>
#include <iterator>

#include "graph/write_file.h"

namespace edgeq {
namespace {

size_t dtype_bytes(const std::string& d) {
  if (d == "f4" || d == "i4") return 4;
  if (d == "i1" || d == "u1" || d == "b1") return 1;
  if (d == "i8") return 8;
  return 0;
}

// Finds the value text after 'key': in the header dict.
bool find_value(const std::string& h, const std::string& key, std::string* value) {
  const size_t k = h.find("'" + key + "'");
  if (k == std::string::npos) return false;
  const size_t colon = h.find(':', k);
  if (colon == std::string::npos) return false;
  size_t p = colon + 1;
  while (p < h.size() && h[p] == ' ') ++p;
  if (p >= h.size()) return false;
  size_t end;
  if (h[p] == '\'') {
    end = h.find('\'', p + 1);
    if (end == std::string::npos) return false;
    *value = h.substr(p + 1, end - p - 1);
  } else if (h[p] == '(') {
    end = h.find(')', p);
    if (end == std::string::npos) return false;
    *value = h.substr(p + 1, end - p - 1);
  } else {
    end = h.find_first_of(",}", p);
    if (end == std::string::npos) return false;
    *value = h.substr(p, end - p);
  }
  return true;
}

}  // namespace

int64_t NpyArray::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

size_t NpyArray::item_size() const { return dtype_bytes(dtype); }

Status parse_npy(const uint8_t* bytes, size_t size, NpyArray* out) {
  if (size < 10 || std::memcmp(bytes, "\x93NUMPY", 6) != 0) return InvalidArgument("not an NPY file");
  const int major = bytes[6];
  size_t header_len, offset;
  if (major == 1) {
    header_len = bytes[8] | (size_t{bytes[9]} << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) return InvalidArgument("truncated NPY header");
    header_len = bytes[8] | (size_t{bytes[9]} << 8) | (size_t{bytes[10]} << 16) | (size_t{bytes[11]} << 24);
    offset = 12;
  } else {
    return InvalidArgument("unsupported NPY version " + std::to_string(major));
  }
  if (header_len > size - offset) return InvalidArgument("truncated NPY header");
  const std::string h(reinterpret_cast<const char*>(bytes + offset), header_len);
  std::string descr, fortran, shape;
  if (!find_value(h, "descr", &descr) || !find_value(h, "fortran_order", &fortran) || !find_value(h, "shape", &shape))
    return InvalidArgument("malformed NPY header");
  if (fortran.find("False") == std::string::npos) return Unsupported("Fortran-order NPY arrays are not supported");
  if (descr.size() != 3 || (descr[0] != '<' && descr[0] != '|'))
    return Unsupported("NPY dtype '" + descr + "' is not supported (little-endian f4, i1, u1, b1, i4, i8)");
  NpyArray a;
  a.dtype = descr.substr(1);
  if (!dtype_bytes(a.dtype)) return Unsupported("NPY dtype '" + descr + "' is not supported (f4, i1, u1, b1, i4, i8)");
  int64_t count = 1;
  size_t p = 0;
  while (p < shape.size()) {
    while (p < shape.size() && (shape[p] == ' ' || shape[p] == ',')) ++p;
    if (p >= shape.size()) break;
    size_t q = p;
    int64_t d = 0;
    while (q < shape.size() && shape[q] >= '0' && shape[q] <= '9') {
      d = d * 10 + (shape[q] - '0');
      if (d > (int64_t{1} << 40)) return InvalidArgument("NPY dimension too large");
      ++q;
    }
    if (q == p) return InvalidArgument("malformed NPY shape '(" + shape + ")'");
    a.shape.push_back(d);
    count *= d;
    if (count > (int64_t{1} << 40) || a.shape.size() > 16) return InvalidArgument("NPY array too large");
    p = q;
  }
  const size_t data_offset = offset + header_len;
  const uint64_t need = static_cast<uint64_t>(count) * dtype_bytes(a.dtype);
  if (size - data_offset < need) return InvalidArgument("NPY data truncated: need " + std::to_string(need) + " bytes");
  a.data.assign(bytes + data_offset, bytes + data_offset + need);
  *out = std::move(a);
  return Status::Ok();
}

Status read_npy(const std::string& path, NpyArray* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return IoError("cannot open '" + path + "'");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) return IoError("cannot read '" + path + "'");
  Status s = parse_npy(bytes.data(), bytes.size(), out);
  if (!s.ok()) return Status(s.code(), "'" + path + "': " + s.message());
  return Status::Ok();
}

Status write_npy(const std::string& path, const NpyArray& a) {
  const char prefix = a.dtype == "i1" || a.dtype == "u1" || a.dtype == "b1" ? '|' : '<';
  // Python tuple syntax: "()", "(3,)", "(2, 3)".
  std::string shape;
  for (size_t i = 0; i < a.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(a.shape[i]);
  if (a.shape.size() == 1) shape += ",";
  std::string header = "{'descr': '" + std::string(1, prefix) + a.dtype + "', 'fortran_order': False, 'shape': (" +
                       shape + "), }";
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  const uint16_t len = static_cast<uint16_t>(header.size());
  std::vector<uint8_t> bytes = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<uint8_t>(len & 0xff),
                                static_cast<uint8_t>(len >> 8)};
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.insert(bytes.end(), a.data.begin(), a.data.end());
  return write_file(path, bytes.data(), bytes.size());
}

}  // namespace edgeq
