// load_weights (train/checkpoint.h): weights from our checkpoints or from plain state_dicts.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "config/model_spec.h"
#include "config/recipe.h"
#include "core/error.h"
#include "graph/net.h"
#include "io/safetensors.h"
#include "train/checkpoint.h"
#include "train/class_names.h"
#include "../temp_dir.h"

namespace fs = std::filesystem;
using namespace cnn;
using cnn::test::TempDir;
using cnn::test::spit;

namespace {

// conv.weight 2x1x3x3, conv.bias 2, bn.{weight,bias,running_mean,running_var} 2,
// bn.num_batches_tracked [], fc.weight 3x32, fc.bias 3.
ModelSpec tiny(int conv_out = 2) {
  return load_model_string("name: tiny\ninput: [1, 4, 4]\nlayers:\n"
                           "  - {conv: {out: " + std::to_string(conv_out) + ", k: 3, pad: 1}, name: conv}\n"
                           "  - {bn: {}, name: bn}\n  - relu\n  - flatten\n  - {linear: {out: 3}, name: fc}\n",
                           "tiny.yaml");
}

// A state_dict as torch.save would hold it, written as safetensors by hand: every tensor F32 but
// num_batches_tracked, which is a 0-d I64.
void write_state_dict(const std::string& path, const std::map<std::string, Tensor>& f32, int64_t batches,
                      bool with_counter = true) {
  std::string header = "{\"__metadata__\":{\"format\":\"pt\"}", data;
  auto add = [&](const std::string& name, const std::string& dtype, const Shape& shape, const std::string& bytes) {
    std::string dims;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (i) dims += ',';
      dims += std::to_string(shape[i]);
    }
    header += ",\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + dims + "],\"data_offsets\":[" +
              std::to_string(data.size()) + "," + std::to_string(data.size() + bytes.size()) + "]}";
    data += bytes;
  };
  if (with_counter) add("bn.num_batches_tracked", "I64", {}, std::string(reinterpret_cast<const char*>(&batches), 8));
  for (const auto& [name, t] : f32)
    add(name, "F32", t.shape(), std::string(reinterpret_cast<const char*>(t.data()), size_t(t.numel()) * 4));
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string len(8, '\0');
  for (int i = 0; i < 8; ++i) len[size_t(i)] = static_cast<char>(uint64_t(header.size()) >> (8 * i));
  std::ofstream(path, std::ios::binary) << len << header << data;
}

Tensor filled(Shape shape, float start) {
  Tensor t(std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = start + 0.125f * float(i);
  return t;
}

std::map<std::string, Tensor> torch_like_tensors() {
  return {{"conv.weight", filled({2, 1, 3, 3}, -1)}, {"conv.bias", filled({2}, 0.5f)},
          {"bn.weight", filled({2}, 1)},             {"bn.bias", filled({2}, -0.25f)},
          {"bn.running_mean", filled({2}, 0.1f)},    {"bn.running_var", filled({2}, 2)},
          {"fc.weight", filled({3, 32}, -2)},        {"fc.bias", filled({3}, 3)}};
}

std::string config_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    CHECK(msg.find('\n') == std::string::npos);
    return msg;
  } catch (const std::exception& e) {
    FAIL_CHECK("not a ConfigError: " << e.what());
    return "";
  }
  FAIL_CHECK("no ConfigError");
  return "";
}

const Tensor& param(Net& net, const std::string& name) {
  for (const auto& p : net.params())
    if (p.name == name) return p.param->value;
  for (const auto& b : net.buffers())
    if (b.name == name) return b.buffer->value;
  FAIL("no tensor " << name);
  throw 0;
}

}  // namespace

TEST_CASE("load_weights: a PyTorch state_dict with I64 num_batches_tracked", "[io][weights]") {
  TempDir dir;
  const auto tensors = torch_like_tensors();
  write_state_dict(dir / "sd.safetensors", tensors, 12);
  Net net(tiny());
  load_weights(dir / "sd.safetensors", net);
  for (const auto& [name, t] : tensors) {
    const Tensor& got = param(net, name);
    REQUIRE(got.shape() == t.shape());
    for (int64_t i = 0; i < t.numel(); ++i) CHECK(got[i] == t[i]);
  }
  CHECK(param(net, "bn.num_batches_tracked")[0] == 12.0f);

  // Without num_batches_tracked (older PyTorch, hand-written files): loads, the counter stays.
  write_state_dict(dir / "old.safetensors", tensors, 0, /*with_counter=*/false);
  Net net2(tiny());
  load_weights(dir / "old.safetensors", net2);
  CHECK(param(net2, "bn.num_batches_tracked")[0] == 0.0f);
  CHECK(param(net2, "fc.bias")[2] == tensors.at("fc.bias")[2]);
}

TEST_CASE("load_weights: our checkpoints, with optimizer state ignored", "[io][weights]") {
  TempDir dir;
  Net a(tiny());
  a.init(5);
  CheckpointMeta meta;
  meta.epoch = 3;
  save_checkpoint(dir / "ck.safetensors", a, nullptr, meta);
  // With optimizer state, as a checkpoint written during training holds it.
  SafetensorsFile f = read_safetensors(dir / "ck.safetensors");
  std::vector<NamedTensor> all;
  for (const auto& n : f.order) all.push_back({n, &f.tensors.at(n)});
  Tensor momentum = filled({3, 32}, 0), step(Shape{});
  all.push_back({"optimizer.momentum.fc.weight", &momentum});
  all.push_back({"optimizer.step", &step});
  write_safetensors(dir / "ck.safetensors", all, f.metadata, /*checksums=*/true);
  Net b(tiny());
  b.init(6);
  load_weights(dir / "ck.safetensors", b);
  for (size_t i = 0; i < a.params().size(); ++i) {
    const Tensor &x = a.params()[i].param->value, &y = b.params()[i].param->value;
    for (int64_t j = 0; j < x.numel(); ++j) CHECK(x[j] == y[j]);
  }
}

TEST_CASE("load_weights: every missing, unexpected and mis-shaped tensor in one ConfigError", "[io][weights]") {
  TempDir dir;
  auto tensors = torch_like_tensors();
  tensors.erase("fc.bias");
  tensors.erase("bn.running_var");
  tensors["classifier.weight"] = filled({3, 32}, 0);
  tensors["extra"] = filled({1}, 0);
  tensors["fc.weight"] = filled({4, 32}, 0);
  const std::string path = dir / "mixed.safetensors";
  write_state_dict(path, tensors, 1);
  Net net(tiny());
  const std::string msg = config_error([&] { load_weights(path, net); });
  INFO(msg);
  CHECK_THAT(msg, Catch::StartsWith(path + ": does not match model 'tiny':"));
  CHECK_THAT(msg, Catch::Contains("2 missing: fc.bias, bn.running_var"));
  CHECK_THAT(msg, Catch::Contains("2 unexpected: classifier.weight, extra"));
  CHECK_THAT(msg, Catch::Contains("1 mis-shaped: fc.weight [4x32], the model has [3x32]"));

  // A conv of another width: all its dependents are mis-shaped, every one named.
  write_state_dict(dir / "sd.safetensors", torch_like_tensors(), 1);
  Net wide(tiny(4));
  const std::string wmsg = config_error([&] { load_weights(dir / "sd.safetensors", wide); });
  INFO(wmsg);
  for (const char* name : {"conv.weight [2x1x3x3], the model has [4x1x3x3]", "conv.bias [2], the model has [4]",
                           "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
                           "fc.weight [3x32], the model has [3x64]"})
    CHECK_THAT(wmsg, Catch::Contains(name));
  CHECK_THAT(wmsg, Catch::Contains("7 mis-shaped"));
  CHECK_THAT(wmsg, !Catch::Contains("missing") && !Catch::Contains("unexpected"));

  // A wrapper's prefix ("module." from DataParallel) is pointed out.
  std::map<std::string, Tensor> prefixed;
  for (auto& [k, v] : torch_like_tensors()) prefixed["module." + k] = v;
  write_state_dict(dir / "dp.safetensors", prefixed, 1, false);
  Net net3(tiny());
  const std::string pmsg = config_error([&] { load_weights(dir / "dp.safetensors", net3); });
  CHECK_THAT(pmsg, Catch::Contains("every tensor in the file starts with 'module.'"));

  // An unreadable file is a RuntimeError naming it.
  Net net4(tiny());
  CHECK_THROWS_AS(load_weights(dir / "absent.safetensors", net4), RuntimeError);
  CHECK_THROWS_WITH(load_weights(dir / "absent.safetensors", net4),
                    Catch::Contains(dir / "absent.safetensors") && Catch::Contains("cannot open"));
}

TEST_CASE("checkpoint metadata: class names round trip, a plain state_dict has none", "[io][weights]") {
  TempDir dir;
  Net a(tiny());
  CheckpointMeta meta;
  meta.epoch = 2;
  meta.class_names = {"tench", "English springer", "cassette \"player\""};
  save_checkpoint(dir / "ck.safetensors", a, nullptr, meta);
  CheckpointMeta back = read_checkpoint_meta(dir / "ck.safetensors");
  CHECK(back.epoch == 2);
  CHECK(back.class_names == meta.class_names);
  CHECK(resolve_class_names("", dir / "ck.safetensors", DatasetKind::cifar10) == meta.class_names);
  write_state_dict(dir / "sd.safetensors", {{"fc.bias", filled({3}, 0)}}, 1);
  CHECK(read_checkpoint_meta(dir / "sd.safetensors").class_names.empty());
  CHECK(resolve_class_names("", dir / "sd.safetensors", DatasetKind::cifar10).at(3) == "cat");
  CHECK(resolve_class_names("", "", DatasetKind::image_folder).empty());
  spit(dir / "names.txt", "a\r\n\nb\n");
  CHECK(resolve_class_names(dir / "names.txt", dir / "ck.safetensors", DatasetKind::cifar10) == std::vector<std::string>{"a", "b"});
}
