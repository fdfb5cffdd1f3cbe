// MNIST IDX, raw or gzip'd (by content): the input is the images file; the labels file is made to
// agree with its header when the header can be read, so that the image path is reached.
#include <zlib.h>

#include <filesystem>

#include "data/mnist.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return cnn::fuzz::guarded([&] {
    const std::string dir = cnn::fuzz::scratch_dir() + "/idx";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const bool gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    std::string header(reinterpret_cast<const char*>(data), std::min<size_t>(size, 16));
    if (gz) {  // the first 16 inflated bytes, if there are that many
      char out[16] = {0};
      z_stream zs{};
      if (inflateInit2(&zs, 15 + 16) == Z_OK) {
        zs.next_in = const_cast<Bytef*>(data);
        zs.avail_in = static_cast<uInt>(std::min<size_t>(size, 1u << 30));
        zs.next_out = reinterpret_cast<Bytef*>(out);
        zs.avail_out = sizeof out;
        inflate(&zs, Z_NO_FLUSH);
        header.assign(out, sizeof out - zs.avail_out);
        inflateEnd(&zs);
      }
    }
    uint32_t n = 0;
    if (header.size() >= 8)
      for (int i = 4; i < 8; ++i) n = n << 8 | static_cast<uint8_t>(header[size_t(i)]);
    std::string labels = {0, 0, 8, 1};
    for (int s = 24; s >= 0; s -= 8) labels += static_cast<char>(n >> s);
    if (n <= 100000) labels += std::string(n, '\3');
    cnn::fuzz::write_file(std::string("idx/train-images-idx3-ubyte") + (gz ? ".gz" : ""), data, size);
    cnn::fuzz::write_file("idx/train-labels-idx1-ubyte", reinterpret_cast<const uint8_t*>(labels.data()),
                          labels.size());
    cnn::load_mnist(dir, "train");
  });
}
