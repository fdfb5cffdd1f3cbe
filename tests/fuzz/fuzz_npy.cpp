// .npy: any file read as a float32 array.
#include "fuzz_util.h"
#include "io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return cnn::fuzz::guarded([&] { cnn::read_npy(cnn::fuzz::write_file("f.npy", data, size)); });
}
