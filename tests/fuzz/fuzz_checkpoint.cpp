// Checkpoints of ours: a safetensors file loaded into a small net, metadata
// (epoch, step, rng state, ...) parsed, checksums verified.
#include "config/model_spec.h"
#include "fuzz_util.h"
#include "graph/net.h"
#include "train/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return cnn::fuzz::guarded([&] {
    static const cnn::ModelSpec spec = cnn::load_model_string(
        "name: tiny\ninput: [1, 4, 4]\nlayers:\n  - {conv: {out: 2, k: 3, pad: 1}, name: conv}\n"
        "  - {bn: {}, name: bn}\n  - relu\n  - flatten\n  - {linear: {out: 3}, name: fc}\n",
        "tiny.yaml");
    cnn::Net net(spec);
    const std::string path = cnn::fuzz::write_file("ck.safetensors", data, size);
    cnn::load_checkpoint(path, net);
    cnn::read_checkpoint_meta(path);
  });
}
