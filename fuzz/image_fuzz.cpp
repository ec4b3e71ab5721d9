// Fuzz target: image recognition reads only inside the body it is given and never calls a body with
// a zero size an image.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "clients/image_sniff.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  sluice::ImageInfo info = sluice::sniff_image(body);
  if (info.is_image() && info.mime.empty()) std::abort();
  return 0;
}
