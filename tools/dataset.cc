// Samples for one model input from NPY files or image directories (see dataset.h).
#include "tools/dataset.h"

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <sys/stat.h>

#include <algorithm>
#include <dirent.h>
#include <memory>

#include "tools/npy.h"

namespace edgeq {
namespace {

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool has_suffix(const std::string& name, const std::vector<std::string>& suffixes) {
  const std::string l = lower(name);
  for (const auto& s : suffixes)
    if (l.size() >= s.size() && l.compare(l.size() - s.size(), s.size(), s) == 0) return true;
  return false;
}

Status list_directory(const std::string& dir, const std::vector<std::string>& suffixes, std::vector<std::string>* out) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return IoError("cannot open directory '" + dir + "'");
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d))
    if (has_suffix(e->d_name, suffixes)) names.push_back(e->d_name);
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) out->push_back(dir + "/" + n);
  return Status::Ok();
}

// Per-sample dims of the input: its shape without the batch dimension.
std::vector<int64_t> sample_dims(const Tensor& input) {
  return std::vector<int64_t>(input.shape.begin() + 1, input.shape.end());
}

}  // namespace

Status Dataset::open(const std::vector<std::string>& paths, const Tensor& input, const ImageOptions& images,
                     Dataset* out) {
  *out = Dataset();
  if (input.shape.empty() || input.shape[0] < 1) return InvalidArgument("input '" + input.name + "' has no batch dimension");
  out->batch_ = input.shape[0];
  if (paths.empty()) return InvalidArgument("no data given for input '" + input.name + "'");
  static const std::vector<std::string> kImageSuffixes = {".png", ".jpg", ".jpeg", ".bmp"};
  for (const auto& p : paths) {
    std::vector<std::string> files;
    if (is_directory(p)) {
      EDGEQ_RETURN_IF_ERROR(list_directory(p, images.images ? kImageSuffixes : std::vector<std::string>{".npy"}, &files));
      if (files.empty())
        return InvalidArgument("directory '" + p + "' holds no " + (images.images ? "images" : ".npy files"));
    } else {
      files.push_back(p);
    }
    for (const auto& f : files) {
      if (has_suffix(f, kImageSuffixes))
        EDGEQ_RETURN_IF_ERROR(out->add_image(f, input, images));
      else
        EDGEQ_RETURN_IF_ERROR(out->add_npy(f, input));
    }
  }
  if (out->num_samples_ % out->batch_ != 0)
    return InvalidArgument(std::to_string(out->num_samples_) + " samples is not a multiple of the model's batch " +
                           std::to_string(out->batch_) + " (input '" + input.name + "' has shape " +
                           shape_string(input.shape) + ")");
  return Status::Ok();
}

Status Dataset::add_npy(const std::string& path, const Tensor& input) {
  NpyArray a;
  EDGEQ_RETURN_IF_ERROR(read_npy(path, &a));
  // Integer inputs (token ids, masks) take int64 or int32 only: a float file for
  // them is a mistake to report, not to truncate.
  if (is_integer_valued(input.dtype)) {
    if (a.dtype != "i8" && a.dtype != "i4" && !(a.dtype == "b1" && input.dtype == DType::kBool))
      return InvalidArgument("'" + path + "' holds " + a.dtype + ", input '" + input.name + "' is " +
                             dtype_name(input.dtype) + " and takes int64 or int32 values" +
                             (input.dtype == DType::kBool ? " or bools" : ""));
  } else {
    const bool raw_ok = (a.dtype == "i1" && input.dtype == DType::kS8) || (a.dtype == "u1" && input.dtype == DType::kU8);
    if (a.dtype != "f4" && !raw_ok)
      return InvalidArgument("'" + path + "' holds " + a.dtype + ", input '" + input.name + "' takes float32" +
                             (is_quantized_type(input.dtype) ? std::string(" or ") + dtype_name(input.dtype) : ""));
  }
  if (!dtype_.empty() && a.dtype != dtype_)
    return InvalidArgument("'" + path + "' holds " + a.dtype + ", earlier files hold " + dtype_);
  const std::vector<int64_t> dims = sample_dims(input);
  std::string got = "[";
  for (size_t k = 0; k < a.shape.size(); ++k) got += (k ? "," : "") + std::to_string(a.shape[k]);
  got += "]";
  if (a.shape.size() != input.shape.size() || !std::equal(dims.begin(), dims.end(), a.shape.begin() + 1) ||
      a.shape[0] < 1)
    return InvalidArgument("'" + path + "' has shape " + got + ", input '" + input.name + "' needs " +
                           shape_string(input.shape) + " with any leading (sample) dimension");
  dtype_ = a.dtype;
  sample_bytes_ = a.data.size() / static_cast<size_t>(a.shape[0]);
  data_.insert(data_.end(), a.data.begin(), a.data.end());
  num_samples_ += a.shape[0];
  return Status::Ok();
}

Status Dataset::add_image(const std::string& path, const Tensor& input, const ImageOptions& o) {
  if (input.shape.size() != 4) return InvalidArgument("images need a rank-4 model input, '" + input.name + "' is " +
                                                      shape_string(input.shape));
  if (!dtype_.empty() && dtype_ != "f4") return InvalidArgument("cannot mix images with raw NPY data");
  const int32_t c = o.nchw ? input.shape[1] : input.shape[3];
  const int32_t h = o.nchw ? input.shape[2] : input.shape[1];
  const int32_t w = o.nchw ? input.shape[3] : input.shape[2];
  if (c != 1 && c != 3)
    return InvalidArgument("input '" + input.name + "' has " + std::to_string(c) + " channels in " +
                           (o.nchw ? "NCHW" : "NHWC") + " layout; images need 1 (grayscale) or 3 (RGB)");
  if ((o.height && o.height != h) || (o.width && o.width != w))
    return InvalidArgument("--size " + std::to_string(o.width) + "x" + std::to_string(o.height) +
                           " does not match input '" + input.name + "' " + shape_string(input.shape));
  if ((o.mean.size() != 1 && o.mean.size() != static_cast<size_t>(c)) ||
      (o.stddev.size() != 1 && o.stddev.size() != static_cast<size_t>(c)))
    return InvalidArgument("--mean and --std take 1 or " + std::to_string(c) + " values");
  for (float s : o.stddev)
    if (!(s > 0.f)) return InvalidArgument("--std values must be positive");
  int iw = 0, ih = 0, ic = 0;
  std::unique_ptr<unsigned char, void (*)(void*)> pixels(stbi_load(path.c_str(), &iw, &ih, &ic, c), stbi_image_free);
  if (!pixels) return InvalidArgument("cannot decode image '" + path + "': " + stbi_failure_reason());
  std::vector<unsigned char> resized(static_cast<size_t>(w) * h * c);
  if (iw == w && ih == h) {
    std::copy(pixels.get(), pixels.get() + resized.size(), resized.begin());
  } else if (!stbir_resize_uint8(pixels.get(), iw, ih, 0, resized.data(), w, h, 0, c)) {
    return InvalidArgument("cannot resize image '" + path + "'");
  }
  std::vector<float> sample(resized.size());
  for (int32_t y = 0; y < h; ++y)
    for (int32_t x = 0; x < w; ++x)
      for (int32_t k = 0; k < c; ++k) {
        const float mean = o.mean.size() == 1 ? o.mean[0] : o.mean[k];
        const float sd = o.stddev.size() == 1 ? o.stddev[0] : o.stddev[k];
        const float v = (resized[(static_cast<size_t>(y) * w + x) * c + k] / 255.f - mean) / sd;
        const size_t at = o.nchw ? (static_cast<size_t>(k) * h + y) * w + x : (static_cast<size_t>(y) * w + x) * c + k;
        sample[at] = v;
      }
  dtype_ = "f4";
  sample_bytes_ = sample.size() * 4;
  const auto* b = reinterpret_cast<const uint8_t*>(sample.data());
  data_.insert(data_.end(), b, b + sample_bytes_);
  ++num_samples_;
  return Status::Ok();
}

}  // namespace edgeq
