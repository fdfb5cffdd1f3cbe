#include "io/png.h"

#include "core/error.h"
#include "io/safetensors.h"

// Private to this file: the test binary links its own copy of stb_image_write.
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb_image_write.h>
#pragma GCC diagnostic pop

namespace cnn {

namespace {
void append(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), size_t(size));
}
}  // namespace

std::string png_bytes(const Image& img) {
  std::string out;
  if (img.height <= 0 || img.width <= 0 || img.channels < 1 || img.channels > 4 ||
      !stbi_write_png_to_func(append, &out, int(img.width), int(img.height), int(img.channels), img.data(),
                              int(img.width * img.channels)))
    throw RuntimeError("cannot encode a " + std::to_string(img.height) + "x" + std::to_string(img.width) + "x" +
                       std::to_string(img.channels) + " image as PNG");
  return out;
}

void write_png(const std::string& path, const Image& img) { write_file_atomic(path, png_bytes(img)); }

}  // namespace cnn
