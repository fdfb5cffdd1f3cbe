// Image decoding through the real path (JPEG by libjpeg-turbo, PNG/BMP/PNM by stb_image), with
// a pixel limit low enough for the fuzzer's memory limit.
#include "data/dataset.h"
#include "data/decode.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return cnn::fuzz::guarded([&] {
    cnn::Image img;
    cnn::DecodeLimits limits;
    limits.max_pixels = 4 << 20;
    cnn::decode_image("fuzz.img", data, size, img, limits);
  });
}
