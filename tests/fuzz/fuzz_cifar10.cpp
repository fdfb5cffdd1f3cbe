// CIFAR-10 binary batches: the input's first line is batches.meta.txt's content ("|" separates
// names), the rest the first records of test_batch.bin, which is extended with zeros to its size.
#include <unistd.h>

#include <filesystem>

#include "data/cifar10.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return cnn::fuzz::guarded([&] {
    const std::string dir = cnn::fuzz::scratch_dir() + "/cifar";
    std::filesystem::create_directories(dir);
    const std::string text(reinterpret_cast<const char*>(data), size);
    const size_t nl = text.find('\n');
    std::string meta = nl == std::string::npos ? text : text.substr(0, nl);
    for (char& c : meta)
      if (c == '|') c = '\n';
    const std::string records = nl == std::string::npos ? std::string() : text.substr(nl + 1);
    cnn::fuzz::write_file("cifar/batches.meta.txt", reinterpret_cast<const uint8_t*>(meta.data()), meta.size());
    const std::string batch = cnn::fuzz::write_file("cifar/test_batch.bin",
                                                    reinterpret_cast<const uint8_t*>(records.data()),
                                                    std::min<size_t>(records.size(), 30730000));
    if (records.size() % 2 == 0 && ::truncate(batch.c_str(), 30730000) != 0) std::abort();  // odd: a short file
    cnn::load_cifar10(dir, "test", 16);
  });
}
