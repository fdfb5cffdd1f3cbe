// train.ema: the average matches torchvision's reference EMA bit for bit (tests/train/
// ema_reference.py, run with /usr/bin/python3 and torch), is evaluated, checkpointed as "ema.*"
// beside the raw weights, and resumes exactly.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <sstream>

#include "../float_bits.h"
#include "config/model_spec.h"
#include "graph/net.h"
#include "skip.h"
#include "data/load.h"
#include "train/checkpoint.h"
#include "train/ema.h"
#include "train/evaluator.h"
#include "train_test_util.h"

using namespace cnn;
using cnn::test::hex_bits;
using namespace cnn::train_test;

namespace {

// value(t, tensor k, j) of ema_reference.py
void set_values(Net& net, int t) {
  int k = 0;
  auto fill = [&](Tensor& x) {
    for (int64_t j = 0; j < x.numel(); ++j)
      x[j] = float(double(float((j * 7 + t * 13 + k * 5) % 17) / 17.f) - 0.5);
    ++k;
  };
  for (const auto& p : net.params()) fill(p.param->value);
  for (const auto& b : net.buffers())
    if (b.name.find("num_batches_tracked") == std::string::npos) fill(b.buffer->value);
}

std::string run_python(const std::string& args) {
  const std::string cmd =
      "/usr/bin/python3 " + std::string(CNN_SOURCE_DIR) + "/tests/train/ema_reference.py " + args + " 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  std::string out;
  char buf[4096];
  while (p && fgets(buf, sizeof buf, p.get())) out += buf;
  return out;
}

}  // namespace

TEST_CASE("EMA of weights equals torchvision's reference EMA bit for bit (warm-up copies)", "[train][ema]") {
  if (::access("/usr/bin/python3", X_OK) != 0 || std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0)
    skip_test("/usr/bin/python3 with torch is needed for the reference EMA");
  Net net(load_model_string("input: [2, 1, 1]\nlayers:\n  - {conv: {out: 2, k: 1}, name: conv}\n  - {bn: {}, name: bn}\n",
                            "m.yaml"));
  for (const auto& [decay, steps, warmup] : std::vector<std::tuple<double, int, int>>{{0.9, 5, 2}, {0.9998, 7, 0}}) {
    INFO("decay " << decay << " steps " << steps << " warmup " << warmup);
    set_values(net, 0);
    Ema ema = make_ema(net);
    for (int t = 1; t <= steps; ++t) {
      set_values(net, t);
      update_ema(ema, net, decay, /*copy=*/t <= warmup);
    }
    std::ostringstream ours;
    size_t i = 0;
    for (const auto& p : net.params()) ours << p.name << " " << hex_bits(ema.values[i++]) << "\n";
    for (const auto& b : net.buffers()) {
      if (b.name.find("num_batches_tracked") == std::string::npos) ours << b.name << " " << hex_bits(ema.values[i]) << "\n";
      ++i;
    }
    std::ostringstream args;
    args << decay << " " << steps << " " << warmup;
    CHECK(ours.str() == run_python(args.str()));
  }
}

TEST_CASE("train.ema: evaluated, checkpointed as ema.*, resumed exactly", "[train][ema]") {
  const std::vector<std::string> ema = {"train.ema={decay: 0.9, every: 2, warmup: 1}"};
  auto with = [&](std::vector<std::string> o) {
    o.insert(o.end(), ema.begin(), ema.end());
    return o;
  };
  const Recipe straight = make_recipe("ema-straight", with({"train.epochs=4"}));
  const TrainResult rs = run(straight);
  const SafetensorsFile f = read_safetensors(out_file(straight, "last.safetensors"));
  REQUIRE(f.tensors.count("ema.fc.weight"));
  REQUIRE(f.tensors.count("ema.bn1.running_mean"));
  REQUIRE(f.tensors.count("ema.n_averaged"));
  CHECK(f.tensors.at("ema.n_averaged")[0] == float(4 * 8 / 2 - 8 / 2));  // 8 steps an epoch, every 2, epoch 1 copies
  CHECK(std::memcmp(f.tensors.at("ema.fc.weight").data(), f.tensors.at("fc.weight").data(), 4) != 0);

  // the evaluation is of the average: evaluating its tensors as the model's gives the same accuracy
  {
    std::vector<NamedTensor> as_model;
    std::vector<std::string> names;
    for (const auto& [name, t] : f.tensors)
      if (name.rfind("ema.", 0) == 0 && name != "ema.n_averaged") names.push_back(name);
    for (const auto& name : names) as_model.push_back({name.substr(4), &f.tensors.at(name)});
    const std::string path = (tmp_root() / "ema-as-model.safetensors").string();
    write_safetensors(path, as_model);
    Net net(straight.model);
    load_weights(path, net);
    const std::unique_ptr<Dataset> test = load_dataset(straight.data, "test");
    const EvalResult ev = evaluate(net, *test, straight.data.eval_transforms, 50, 0.f, eval_options_of(straight));
    CHECK(same_bits(ev.top1, rs.epochs.back().test_acc));
    CHECK(same_bits(ev.loss, rs.epochs.back().test_loss));
  }

  // --ema (WeightsChoice::ema) loads the same average straight from the checkpoint
  {
    Net net(straight.model);
    load_weights(out_file(straight, "last.safetensors"), net, WeightsChoice::ema);
    for (const auto& p : net.params())
      CHECK(std::memcmp(p.param->value.data(), f.tensors.at("ema." + p.name).data(),
                        size_t(p.param->value.numel()) * sizeof(float)) == 0);
    for (const auto& b : net.buffers())
      CHECK(std::memcmp(b.buffer->value.data(), f.tensors.at("ema." + b.name).data(),
                        size_t(b.buffer->value.numel()) * sizeof(float)) == 0);
    const std::unique_ptr<Dataset> test = load_dataset(straight.data, "test");
    const EvalResult ev = evaluate(net, *test, straight.data.eval_transforms, 50, 0.f, eval_options_of(straight));
    CHECK(same_bits(ev.top1, rs.epochs.back().test_acc));
    // a checkpoint written without train.ema has none: a ConfigError naming the file
    const Recipe plain = make_recipe("ema-none", {"train.epochs=1"});
    run(plain);
    const std::string none = out_file(plain, "last.safetensors");
    CHECK(config_error_message([&] { load_weights(none, net, WeightsChoice::ema); }) ==
          none + ": has no EMA weights (it was written with train.ema off, or is not a checkpoint of ours): drop --ema");
  }

  // 2 epochs, then resume to 4: the same average and records
  const Recipe first = make_recipe("ema-resumed", with({"train.epochs=2"}));
  run(first);
  const Recipe rest = make_recipe("ema-resumed", with({"train.epochs=4"}));
  const TrainResult rr = run(rest, out_file(first, "last.safetensors"));
  REQUIRE(rr.epochs.size() == 2);
  check_same_records(rs.epochs[3], rr.epochs[1]);
  check_same_tensors(out_file(straight, "last.safetensors"), out_file(rest, "last.safetensors"), "ema resume");

  CHECK(config_error_message([] { make_recipe("x", {"train.ema.decay=1"}); }) ==
        "--set: train.ema.decay: expected a number in [0, 1) (0: off), e.g. 0.9998, got 1");
}
