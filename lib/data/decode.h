#pragma once
// Image files to 8-bit RGB, as torchvision's ImageFolder loader (PIL's Image.open(f).convert("RGB"))
// gives them. JPEG goes through libjpeg-turbo, the library PIL uses, with PIL's settings, so the
// pixels are PIL's exactly: grayscale is replicated to three channels, CMYK and YCCK (Adobe,
// inverted, as ImageNet's 22 CMYK files) convert with PIL's formula, EXIF orientation is ignored.
// PNG, BMP and PNM go through stb_image (alpha dropped). A file that cannot be decoded throws
// BadSampleError "<path>: <what is wrong>".
#include <cstdint>
#include <string>
#include <vector>

#include "data/image.h"

namespace cnn {

// What a file may ask of the decoder; checked from its header, before anything is decoded.
struct DecodeLimits {
  // Width x height. PIL's Image.MAX_IMAGE_PIXELS (1 GiB of 24-bit pixels / 4), above which PIL
  // warns of a decompression bomb; data.max_image_pixels sets it.
  int64_t max_pixels = 89478485;
  // Progressive JPEG scans: libjpeg-turbo's own fuzzers and TurboJPEG's scan limit use 500; a
  // crafted file with many thousand tiny scans takes minutes to decode.
  int max_jpeg_scans = 500;
};

// Decodes `size` bytes of an image file; `path` names it in errors.
void decode_image(const std::string& path, const uint8_t* data, size_t size, Image& out,
                  const DecodeLimits& limits = {});

// Reads and decodes a file. `buffer` holds the file's bytes (reused between calls).
void load_image_file(const std::string& path, Image& out, std::vector<uint8_t>& buffer,
                     const DecodeLimits& limits = {});

}  // namespace cnn
