// Checkpoint integrity (issue 15): every tensor and the metadata carry a CRC-32, so a flipped bit
// anywhere in the file is refused and named; PyTorch's files (no checksums) still load; every
// numeric metadata field is parsed strictly and a corrupt one named.
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "config/model_spec.h"
#include "core/error.h"
#include "graph/net.h"
#include "io/safetensors.h"
#include "train/checkpoint.h"
#include "../temp_dir.h"

using namespace cnn;
using cnn::test::TempDir;
using cnn::test::slurp;
using cnn::test::spit;

namespace {

ModelSpec tiny() {
  return load_model_string("name: tiny\ninput: [1, 4, 4]\nlayers:\n"
                           "  - {conv: {out: 2, k: 3, pad: 1}, name: conv}\n"
                           "  - {bn: {}, name: bn}\n  - relu\n  - flatten\n  - {linear: {out: 3}, name: fc}\n",
                           "tiny.yaml");
}

CheckpointMeta sample_meta() {
  CheckpointMeta m;
  m.epoch = 3;
  m.step = 120;
  m.best_metric = 0.875;
  m.epoch_step = 7;
  m.epoch_loss_sum = 1.5;
  m.epoch_seconds = 2.25;
  m.epoch_correct = 40;
  m.epoch_seen = 56;
  m.rng_state = {1, 2, 3, 18446744073709551615ull};
  m.config = "train: {epochs: 4}\n";
  m.model = "name: tiny\n";
  return m;
}

// Loads `path` into a fresh net; "" on success, else the error message.
std::string load_problem(const std::string& path) {
  Net net(tiny());
  try {
    load_checkpoint(path, net);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("checkpoint integrity: round trip with checksums", "[train][checkpoint][hostile]") {
  TempDir dir;
  Net net(tiny());
  net.init(7);
  const std::string path = dir / "ck.safetensors";
  save_checkpoint(path, net, nullptr, sample_meta());
  SafetensorsFile f = read_safetensors(path);
  CHECK(f.metadata.count("tensor_crc32") == 0);  // verified and dropped
  CHECK(slurp(path).find("\"tensor_crc32\"") != std::string::npos);
  Net back(tiny());
  CheckpointMeta m = load_checkpoint(path, back);
  CHECK(m.epoch == 3);
  CHECK(m.step == 120);
  CHECK(m.best_metric == 0.875);
  CHECK(m.epoch_step == 7);
  CHECK(m.epoch_loss_sum == 1.5);
  CHECK(m.epoch_seconds == 2.25);
  CHECK(m.epoch_correct == 40);
  CHECK(m.epoch_seen == 56);
  CHECK(m.rng_state == std::array<uint64_t, 4>{1, 2, 3, 18446744073709551615ull});
  for (size_t i = 0; i < net.params().size(); ++i) {
    const Tensor& a = net.params()[i].param->value;
    const Tensor& b = back.params()[i].param->value;
    for (int64_t k = 0; k < a.numel(); ++k) REQUIRE(a[k] == b[k]);
  }
}

TEST_CASE("checkpoint integrity: a flipped bit anywhere is refused", "[train][checkpoint][hostile]") {
  // ~14000 files written and read: in memory when the machine has /dev/shm (7x faster than a disk).
  std::error_code ec;
  TempDir dir("cnn_flip", std::filesystem::is_directory("/dev/shm", ec) ? "/dev/shm" : "");
  Net net(tiny());
  net.init(7);
  const std::string path = dir / "ck.safetensors";
  save_checkpoint(path, net, nullptr, sample_meta());
  const std::string good = slurp(path);
  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= uint64_t(static_cast<unsigned char>(good[size_t(i)])) << (8 * i);
  const std::string bad = dir / "bad.safetensors";
  int data_named = 0;
  for (size_t byte = 0; byte < good.size(); ++byte)
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = good;
      flipped[byte] = static_cast<char>(flipped[byte] ^ (1 << bit));
      spit(bad, flipped);
      const std::string problem = load_problem(bad);
      if (problem.empty()) {
        FAIL_CHECK("bit " << bit << " of byte " << byte << " flipped: loaded without error");
        continue;
      }
      if (byte >= 8 + header_len) {  // tensor data: the tensor is named
        if (problem.find("checksum mismatch") == std::string::npos || problem.rfind(bad + ": tensor '", 0) != 0)
          FAIL_CHECK("byte " << byte << ": " << problem);
        ++data_named;
      }
    }
  CHECK(data_named == int(8 * (good.size() - 8 - header_len)));
  // A flipped bit in a metadata value (here inside the config text) is named as such.
  std::string flipped = good;
  const size_t at = flipped.find("epochs: 4");
  REQUIRE(at != std::string::npos);
  flipped[at + 8] = '5';
  spit(bad, flipped);
  CHECK_THAT(load_problem(bad), Catch::StartsWith(bad + ": __metadata__: checksum mismatch"));
}

TEST_CASE("checkpoint integrity: files without checksums (PyTorch's) still load", "[train][checkpoint][hostile]") {
  TempDir dir;
  Net net(tiny());
  net.init(3);
  std::vector<NamedTensor> tensors;
  for (const auto& p : net.params()) tensors.push_back({p.name, &p.param->value});
  for (const auto& b : net.buffers()) tensors.push_back({b.name, &b.buffer->value, b.name.find("num_batches") != std::string::npos});
  write_safetensors(dir / "sd.safetensors", tensors, {{"format", "pt"}});
  CHECK(slurp(dir / "sd.safetensors").find("tensor_crc32") == std::string::npos);
  Net back(tiny());
  CHECK_NOTHROW(load_weights(dir / "sd.safetensors", back));
  CHECK(read_checkpoint_meta(dir / "sd.safetensors").epoch == 0);
}

TEST_CASE("checkpoint integrity: corrupt numeric fields are named", "[train][checkpoint][hostile]") {
  auto problem = [](const std::string& key, const std::string& value) {
    std::map<std::string, std::string> md{{"format", "cnn-checkpoint-1"}, {"epoch", "3"}};
    md[key] = value;
    try {
      checkpoint_meta(md, "run/last.safetensors");
    } catch (const RuntimeError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  CHECK(problem("epoch", "3x") ==
        "run/last.safetensors: checkpoint field 'epoch' is '3x', expected an integer >= 0 (the checkpoint is corrupt)");
  CHECK(problem("epoch", "") == "run/last.safetensors: checkpoint field 'epoch' is '', expected an integer >= 0 (the "
                                "checkpoint is corrupt)");
  CHECK_THAT(problem("step", "-1"), Catch::Contains("field 'step' is '-1', expected an integer >= 0"));
  CHECK_THAT(problem("step", "99999999999999999999"), Catch::Contains("field 'step'"));
  CHECK_THAT(problem("epoch_step", "1.5"), Catch::Contains("field 'epoch_step'"));
  CHECK_THAT(problem("epoch_correct", " 4"), Catch::Contains("field 'epoch_correct'"));
  CHECK_THAT(problem("epoch_seen", "4 "), Catch::Contains("field 'epoch_seen'"));
  CHECK_THAT(problem("best_metric", "abc"), Catch::Contains("field 'best_metric' is 'abc', expected a number"));
  CHECK_THAT(problem("best_metric", "nan"), Catch::Contains("field 'best_metric'"));
  CHECK(problem("best_metric", "-inf") == "(no error)");
  CHECK_THAT(problem("epoch_loss_sum", "1e"), Catch::Contains("field 'epoch_loss_sum'"));
  CHECK_THAT(problem("epoch_seconds", "inf"), Catch::Contains("field 'epoch_seconds' is 'inf', expected a finite number"));
  CHECK_THAT(problem("rng_state", "1 2 3"), Catch::Contains("field 'rng_state' is '1 2 3', expected 4 unsigned integers"));
  CHECK_THAT(problem("rng_state", "1 2 3 4 5"), Catch::Contains("field 'rng_state'"));
  CHECK_THAT(problem("rng_state", "1 2 3 x"), Catch::Contains("field 'rng_state'"));
  CHECK_THAT(problem("rng_state", "1  2 3 4"), Catch::Contains("field 'rng_state'"));
  CHECK(problem("rng_state", "1 2 3 4") == "(no error)");
  CHECK(problem("class_names", "not json") == "(no error)");  // optional, informational
  CHECK_THAT(problem("epoch", std::string(100, '7') + "x"), Catch::Contains("...', expected"));
}
