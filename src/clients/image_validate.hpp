// Checks that a downloaded body is one whole, well-formed JPEG, PNG, GIF or WebP, not just its first bytes.
#pragma once

#include <string>
#include <string_view>

#include "clients/image_sniff.hpp"

namespace sluice {

struct ImageCheck {
  ImageInfo image;         // format and dimensions as far as they could be read
  std::string problem;     // empty for a valid image, else what is wrong ("truncated JPEG: ...")
  bool truncated = false;  // the bytes stop early: a cut transfer, worth another attempt

  bool ok() const { return problem.empty(); }
};

// Walks the container to its end, without decoding pixels:
// - JPEG: every marker segment up to the first scan (a frame header gives the size), the
//   entropy-coded data and any later segments, and the end-of-image marker FF D9.
// - PNG: the signature, IHDR first, each chunk within the body with a correct CRC-32, an IDAT,
//   IEND last.
// - GIF: header, logical screen descriptor, every extension and image block, the trailer 3B.
// - WebP: a RIFF size that fits the body, a VP8, VP8L or VP8X chunk first, every chunk within the
//   RIFF size.
// A width or height of 0 is not an image. After the end of the image only NUL bytes may follow
// (some encoders pad files to a block size); anything else is rejected, since it means the body is
// something else glued to an image.
ImageCheck validate_image(std::string_view bytes);

}  // namespace sluice
