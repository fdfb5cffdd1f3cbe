// Model YAML: parse, expand and build the Net (shapes checked, parameters allocated), no training.
#include "config/model_spec.h"
#include "fuzz_util.h"
#include "graph/net.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return cnn::fuzz::guarded([&] {
    const std::string text(reinterpret_cast<const char*>(data), size);
    cnn::Net net(cnn::load_model_string(text, "fuzz.yaml"));
    (void)net.summary();
  });
}
