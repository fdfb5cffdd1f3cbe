#pragma once
// Helpers of the trainer tests: a tiny synthetic dataset in MNIST IDX format (raw, not gzipped)
// written to a temporary directory (256 train / 128 test 28x28 images, each class a bright square
// at its own place on a noisy background), a recipe for a model of about 2,000 parameters, and
// comparisons of runs and checkpoints.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/recipe.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "io/safetensors.h"
#include "train/trainer.h"

namespace cnn::train_test {

namespace fs = std::filesystem;

constexpr int kTrain = 256, kTest = 128, kSide = 28;

inline void put_be32(std::string& s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(char((v >> shift) & 0xff));
}

// Class c: a 3x3 square of brightish pixels at column 1 + 5*(c%5), row 3 + 12*(c/5), jittered by
// up to 3 pixels (so neighbouring classes overlap), on uniform noise in [0, 150).
inline void write_split(const fs::path& dir, const std::string& split, int count, uint64_t seed) {
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return uint32_t(state >> 33);
  };
  std::string images, labels;
  put_be32(images, 2051), put_be32(images, uint32_t(count)), put_be32(images, kSide), put_be32(images, kSide);
  put_be32(labels, 2049), put_be32(labels, uint32_t(count));
  for (int i = 0; i < count; ++i) {
    const int c = int(next() % 10);
    std::vector<uint8_t> img(kSide * kSide);
    for (auto& p : img) p = uint8_t(next() % 150);
    const int x0 = 1 + 5 * (c % 5) + int(next() % 4), y0 = 3 + 12 * (c / 5) + int(next() % 4);
    for (int y = y0; y < y0 + 3; ++y)
      for (int x = x0; x < x0 + 3; ++x) img[y * kSide + x] = uint8_t(150 + next() % 106);
    images.append(reinterpret_cast<const char*>(img.data()), img.size());
    labels.push_back(char(c));
  }
  std::ofstream(dir / (split + "-images-idx3-ubyte"), std::ios::binary) << images;
  std::ofstream(dir / (split + "-labels-idx1-ubyte"), std::ios::binary) << labels;
}

// A temporary directory with the dataset, removed at exit.
struct TempRoot {
  fs::path root;
  TempRoot() {
    root = fs::temp_directory_path() / ("cnn-test-train-" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "data");
    write_split(root / "data", "train", kTrain, 1);
    write_split(root / "data", "t10k", kTest, 2);
  }
  ~TempRoot() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

inline const fs::path& tmp_root() {
  static TempRoot t;
  return t.root;
}

// conv -> bn -> relu -> maxpool -> flatten -> dropout -> linear: parameters, BN buffers and a
// dropout RNG, all of which determinism and resume must carry.
inline std::string recipe_text(const std::string& run_name, bool batchnorm = true) {
  const fs::path root = tmp_root();
  std::ostringstream y;
  y << "model:\n"
       "  name: tiny\n"
       "  input: [1, 28, 28]\n"
       "  layers:\n"
       "    - {conv: {out: 4, k: 3, stride: 2, pad: 1}, name: conv1}\n";
  if (batchnorm) y << "    - {bn: {}, name: bn1}\n";
  y << "    - relu\n"
       "    - {maxpool: {k: 2}}\n"
       "    - flatten\n"
       "    - {dropout: {p: 0.1}}\n"
       "    - {linear: {out: 10}, name: fc}\n"
       "data:\n"
       "  dataset: mnist\n"
       "  root: "
    << (root / "data").string()
    << "\n"
       "  train_transforms: [{normalize: {mean: [0.15], std: [0.3]}}]\n"
       "  eval_transforms: [{normalize: {mean: [0.15], std: [0.3]}}]\n"
       "  batch_size: 32\n"
       "  eval_batch_size: 50\n"
       "train:\n"
       "  epochs: 3\n"
       "  optimizer: {type: sgd, lr: 0.05, momentum: 0.9, weight_decay: 5.0e-4}\n"
       "  schedule: {type: step, step_epochs: 2, gamma: 0.5}\n"
       "  seed: 1\n"
       "output: "
    << (root / run_name).string() << "\n";
  return y.str();
}

inline Recipe make_recipe(const std::string& run_name, const std::vector<std::string>& overrides = {},
                   bool batchnorm = true) {
  return load_recipe_string(recipe_text(run_name, batchnorm), "test-recipe.yaml", tmp_root().string(), overrides);
}

inline TrainResult run(const Recipe& r, const std::string& resume = "") {
  TrainOptions o;
  o.resume = resume;
  return train(r, o);
}

inline std::string out_file(const Recipe& r, const std::string& name) { return (fs::path(r.output) / name).string(); }

inline bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Every tensor of two safetensors files, bit for bit; `what` explains a failure.
inline void check_same_tensors(const std::string& a_path, const std::string& b_path, const std::string& what) {
  const SafetensorsFile a = read_safetensors(a_path), b = read_safetensors(b_path);
  INFO(what << ": " << a_path << " vs " << b_path);
  CHECK(a.order == b.order);
  for (const auto& [name, ta] : a.tensors) {
    auto it = b.tensors.find(name);
    if (it == b.tensors.end()) {
      FAIL_CHECK("tensor '" << name << "' only in " << a_path);
      continue;
    }
    const Tensor& tb = it->second;
    REQUIRE(ta.shape() == tb.shape());
    int64_t differ = 0;
    double worst = 0;
    for (int64_t i = 0; i < ta.numel(); ++i)
      if (std::memcmp(&ta.data()[i], &tb.data()[i], sizeof(float)) != 0) {
        ++differ;
        worst = std::max(worst, std::fabs(double(ta.data()[i]) - double(tb.data()[i])));
      }
    INFO("tensor '" << name << "': " << differ << " of " << ta.numel() << " values differ, worst by " << worst);
    CHECK(differ == 0);
  }
}

inline bool any_tensor_differs(const std::string& a_path, const std::string& b_path) {
  const SafetensorsFile a = read_safetensors(a_path), b = read_safetensors(b_path);
  for (const auto& [name, ta] : a.tensors) {
    auto it = b.tensors.find(name);
    if (it == b.tensors.end() || it->second.shape() != ta.shape()) return true;
    if (std::memcmp(ta.data(), it->second.data(), sizeof(float) * size_t(ta.numel())) != 0) return true;
  }
  return false;
}

inline void check_same_records(const EpochRecord& a, const EpochRecord& b) {
  INFO("epoch " << a.epoch << " vs " << b.epoch);
  CHECK(a.epoch == b.epoch);
  CHECK(a.step == b.step);
  CHECK(same_bits(a.train_loss, b.train_loss));
  CHECK(same_bits(a.train_acc, b.train_acc));
  CHECK(same_bits(a.test_loss, b.test_loss));
  CHECK(same_bits(a.test_acc, b.test_acc));
  CHECK(same_bits(a.test_top5, b.test_top5));
  CHECK(same_bits(a.lr, b.lr));
}

// The records of one type ("epoch" or "step") from metrics.jsonl, in file order.
inline std::vector<nlohmann::json> read_metrics(const std::string& path, const std::string& type = "epoch") {
  std::ifstream in(path);
  std::vector<nlohmann::json> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    INFO(path << " line " << ++n << ": " << line);
    nlohmann::json j;
    REQUIRE_NOTHROW(j = nlohmann::json::parse(line));
    REQUIRE(j.contains("type"));
    if (j["type"] == type) out.push_back(j);
  }
  return out;
}

inline std::string runtime_error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const RuntimeError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<not a RuntimeError: ") + e.what() + ">";
  }
  return "<no RuntimeError thrown>";
}

inline std::string config_error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<not a ConfigError: ") + e.what() + ">";
  }
  return "<no ConfigError thrown>";
}

// Trains `r`, requesting an interrupt (as Ctrl-C would) from inside the run at the `line`-th
// progress line of epoch 2; true when the run stopped with Interrupted.
inline bool interrupted_in_epoch_2(const Recipe& r, int line) {
  TrainOptions o;
  o.progress = Progress::lines;
  int progress_lines = 0;
  o.log = [&](const std::string& text) {
    if (text.rfind("  epoch 2/", 0) == 0 && ++progress_lines == line) request_interrupt();
  };
  bool interrupted = false;
  try {
    train(r, o);
  } catch (const Interrupted&) {
    interrupted = true;
  }
  clear_interrupt();
  return interrupted;
}

}  // namespace cnn::train_test
