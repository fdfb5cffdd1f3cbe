// Model YAML: parse, expand and build the Net (shapes checked, parameters allocated), no training.
#include "config/model_spec.h"
#include "core/memory_budget.h"
#include "fuzz_util.h"
#include "graph/net.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Nets over 16 MiB (ResNet-18 and up) are refused by the budget check, before their weights are
  // allocated and initialized: that check is what is fuzzed for them. Initializing 11 million
  // weights under ASan on a loaded machine took more than libFuzzer's 10 s timeout (a slow
  // execution, not a bug), which ended the first 10-minute run after 26 inputs.
  cnn::limit_memory_budget(uint64_t(16) << 20, "fuzzing limit of model_yaml");
  return cnn::fuzz::guarded([&] {
    const std::string text(reinterpret_cast<const char*>(data), size);
    cnn::Net net(cnn::load_model_string(text, "fuzz.yaml"));
    (void)net.summary();
  });
}
