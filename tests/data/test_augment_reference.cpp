// AutoAugment / RandAugment / TrivialAugmentWide against torchvision 0.14's PIL path (Pillow 9.4):
// every op at several magnitudes, the magnitude bins, the policy tables, and each transform's own
// forward given the same random choices. All byte-exact. References come from
// tests/data/make_augment_reference.py, run once per build tree into <build>/test-data.
#include <catch2/catch.hpp>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <sstream>

#include "data/augment_ops.h"
#include "data/auto_augment.h"
#include "data_test_util.h"
#include "io/npy.h"

using namespace cnn;
using namespace cnn::test;

namespace {

std::string reference_dir() {
  return python_reference_dir(std::string(CNN_SOURCE_DIR) + "/tests/data/make_augment_reference.py", "augment-ref",
                              "forward.txt");
}

Image image_from_npy(const std::string& path) {
  const Tensor t = read_npy(path);
  REQUIRE(t.ndim() == 3);
  Image img;
  img.reshape(t.dim(0), t.dim(1), t.dim(2));
  for (int64_t i = 0; i < t.numel(); ++i) img.pixels[size_t(i)] = uint8_t(t[i]);
  return img;
}

// The number of differing values (0: identical), with the largest difference in `worst`.
int64_t count_differ(const Image& got, const std::string& ref_path, float& worst) {
  const Tensor ref = read_npy(ref_path);
  REQUIRE(ref.ndim() == 3);
  REQUIRE(got.height == ref.dim(0));
  REQUIRE(got.width == ref.dim(1));
  REQUIRE(got.channels == ref.dim(2));
  int64_t differ = 0;
  worst = 0;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    const float d = std::fabs(float(got.pixels[size_t(i)]) - ref[i]);
    if (d > 0) ++differ, worst = std::max(worst, d);
  }
  return differ;
}

AugmentOp op_named(const std::string& name) {
  for (int k = 0; k <= int(AugmentOp::invert); ++k)
    if (name == augment_op_name(AugmentOp(k))) return AugmentOp(k);
  FAIL("unknown op " << name);
  return AugmentOp::identity;
}

AutoAugmentPolicy policy_named(const std::string& name) {
  if (name == "cifar10") return AutoAugmentPolicy::cifar10;
  if (name == "svhn") return AutoAugmentPolicy::svhn;
  REQUIRE(name == "imagenet");
  return AutoAugmentPolicy::imagenet;
}

std::vector<std::string> lines(const std::string& path) {
  std::vector<std::string> out;
  std::istringstream in(read_bytes(path));
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  REQUIRE(!out.empty());
  return out;
}

struct Inputs {
  std::string dir;
  std::map<std::string, Image> images;
  explicit Inputs(const std::string& d) : dir(d) {}
  const Image& operator[](const std::string& name) {
    auto it = images.find(name);
    if (it == images.end()) it = images.emplace(name, image_from_npy(dir + "/" + name + ".npy")).first;
    return it->second;
  }
};

}  // namespace

TEST_CASE("augment vs torchvision: every op at several magnitudes, byte-exact", "[data][augment][torch]") {
  const std::string dir = reference_dir();
  Inputs in(dir);
  int64_t cases = 0, failed = 0;
  Image tmp;
  for (const std::string& l : lines(dir + "/ops.txt")) {
    std::istringstream ls(l);
    std::string image, op, file;
    double magnitude = 0;
    ls >> image >> op >> magnitude >> file;
    Image img = in[image];
    apply_augment_step({op_named(op), magnitude}, img, tmp);
    float worst = 0;
    const int64_t differ = count_differ(img, dir + "/" + file, worst);
    ++cases;
    if (differ) {
      ++failed;
      UNSCOPED_INFO(l << ": " << differ << " values differ, by up to " << worst);
    }
  }
  INFO(failed << " of " << cases << " op cases differ");
  CHECK(failed == 0);
  CHECK(cases > 900);
}

TEST_CASE("augment vs torchvision: magnitude bins (float32 linspace bits), signs and policy tables",
          "[data][augment][torch]") {
  const std::string dir = reference_dir();
  int64_t checked = 0;
  for (const std::string& l : lines(dir + "/tables.txt")) {
    std::istringstream ls(l);
    std::string space, op;
    int64_t bins = 0, h = 0, w = 0, bin = 0;
    double value = 0;
    ls >> space >> bins >> h >> w >> op >> bin >> value;
    INFO(l);
    if (space == "signed") {
      CHECK(augment_op_signed(op_named(op)) == (value != 0));
      continue;
    }
    const double got = space == "randaugment" ? randaugment_magnitude(op_named(op), bin, bins, h, w)
                                              : trivialaugment_magnitude(op_named(op), bin, bins);
    CHECK(got == value);
    ++checked;
  }
  CHECK(checked > 5000);
  for (const std::string& l : lines(dir + "/policies.txt")) {
    std::istringstream ls(l);
    std::string policy, op[2];
    int id = 0, bin[2];
    double p[2];
    ls >> policy >> id >> op[0] >> p[0] >> bin[0] >> op[1] >> p[1] >> bin[1];
    INFO(l);
    const auto& table = autoaugment_policy(policy_named(policy));
    REQUIRE(size_t(id) < table.size());
    const PolicyEntry* e[2] = {&table[size_t(id)].first, &table[size_t(id)].second};
    for (int k = 0; k < 2; ++k) {
      CHECK(e[k]->op == op_named(op[k]));
      CHECK(e[k]->p == p[k]);
      CHECK(e[k]->bin == bin[k]);
    }
  }
  for (auto policy : {AutoAugmentPolicy::imagenet, AutoAugmentPolicy::cifar10, AutoAugmentPolicy::svhn})
    CHECK(autoaugment_policy(policy).size() == 25);
}

TEST_CASE("augment vs torchvision: AutoAugment, RandAugment, TrivialAugmentWide forward given the same choices",
          "[data][augment][torch]") {
  const std::string dir = reference_dir();
  Inputs in(dir);
  int64_t cases = 0, failed = 0;
  Image tmp;
  for (const std::string& l : lines(dir + "/forward.txt")) {
    std::istringstream ls(l);
    std::string kind, image, file;
    ls >> kind >> image;
    Image img = in[image];
    std::vector<AugmentStep> steps;
    TransformSpec t;
    t.type = kind;
    if (kind == "autoaugment") {
      std::string policy;
      int id = 0, s0 = 0, s1 = 0;
      double u[2];
      ls >> policy >> id >> u[0] >> u[1] >> s0 >> s1;
      const bool negative[2] = {s0 == 0, s1 == 0};  // torchvision negates when the sign draw is 0
      for (const AugmentStep& s : autoaugment_steps(policy_named(policy), id, u, negative, img.height, img.width))
        steps.push_back(s);
    } else {
      if (kind == "randaugment") ls >> t.num_ops >> t.magnitude;
      ls >> t.num_magnitude_bins;
      int n = 0;
      ls >> n;
      std::deque<int64_t> draws(static_cast<size_t>(n));
      for (auto& d : draws) ls >> d;
      auto next = [&]() {
        REQUIRE(!draws.empty());
        const int64_t v = draws.front();
        draws.pop_front();
        return v;
      };
      const int64_t rounds = kind == "randaugment" ? t.num_ops : 1;
      for (int64_t r = 0; r < rounds; ++r) {
        const int op = int(next());
        const AugmentOp o = AugmentOp(op);
        const bool has_bins = o != AugmentOp::identity && o != AugmentOp::autocontrast && o != AugmentOp::equalize;
        if (kind == "randaugment") {
          const bool negative = augment_op_signed(o) && next() == 1;
          steps.push_back(randaugment_step(t, op, negative, img.height, img.width));
        } else {
          const int64_t bin = has_bins ? next() : 0;
          const bool negative = augment_op_signed(o) && next() == 1;
          steps.push_back(trivialaugment_step(t, op, bin, negative));
        }
      }
      CHECK(draws.empty());
    }
    ls >> file;
    for (const AugmentStep& s : steps) apply_augment_step(s, img, tmp);
    float worst = 0;
    const int64_t differ = count_differ(img, dir + "/" + file, worst);
    ++cases;
    if (differ) {
      ++failed;
      UNSCOPED_INFO(l << ": " << differ << " values differ, by up to " << worst);
    }
  }
  INFO(failed << " of " << cases << " forward cases differ");
  CHECK(failed == 0);
  CHECK(cases > 200);
}
