// Fuzz target: image recognition and structural validation read only inside the body they are given,
// and a body the validator accepts is an image with a size, whose format the sniffer agrees with.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "clients/image_validate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  sluice::ImageInfo sniffed = sluice::sniff_image(body);
  if (sniffed.is_image() && sniffed.mime.empty()) std::abort();
  sluice::ImageCheck check = sluice::validate_image(body);
  if (check.ok()) {
    if (!check.image.is_image() || check.image.width == 0 || check.image.height == 0) std::abort();
    if (check.image.format != sniffed.format) std::abort();
  }
  return 0;
}
