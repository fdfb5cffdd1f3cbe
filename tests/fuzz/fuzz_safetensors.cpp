// safetensors: any file, ours or PyTorch's, read completely.
#include "fuzz_util.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return cnn::fuzz::guarded([&] { cnn::read_safetensors(cnn::fuzz::write_file("f.safetensors", data, size)); });
}
