// The checker itself: it passes a correct layer and catches a wrong input gradient, an input
// gradient left unwritten, a parameter gradient overwritten instead of accumulated, and a wrong
// parameter gradient.
#include <catch2/catch.hpp>

#include "../gradcheck.h"

using namespace cnn;
using namespace cnn::test;

namespace {

// y = w * x^2 (+ b), elementwise; w and b are scalars. Flags inject contract violations.
class Square : public Layer {
 public:
  float din_factor = 1.f, wgrad_factor = 1.f;
  bool write_din = true, overwrite_grad = false;

  Shape infer(const std::vector<Shape>& in) override {
    w_ = {"weight", Tensor({1}), Tensor({1}), true, "", 1, 1};
    b_ = {"bias", Tensor({1}), Tensor({1}), true, "", 1, 1};
    return in[0];
  }
  void init(Rng&) override {
    w_.value[0] = 0.7f;
    b_.value[0] = -0.3f;
  }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, RunContext&) override {
    const Tensor& x = *in[0];
    for (int64_t i = 0; i < x.numel(); ++i) out[i] = w_.value[0] * x[i] * x[i] + b_.value[0];
  }
  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, RunContext&) override {
    const Tensor& x = *in[0];
    double gw = 0, gb = 0;
    for (int64_t i = 0; i < x.numel(); ++i) {
      gw += double(x[i]) * x[i] * dout[i];
      gb += dout[i];
      if (din[0] && write_din) (*din[0])[i] = din_factor * 2 * w_.value[0] * x[i] * dout[i];
    }
    if (overwrite_grad) {
      w_.grad[0] = float(gw) * wgrad_factor;
      b_.grad[0] = float(gb);
    } else {
      w_.grad[0] += float(gw) * wgrad_factor;
      b_.grad[0] += float(gb);
    }
  }
  std::vector<Param*> params() override { return {&w_, &b_}; }

 private:
  Param w_, b_;
};

FdReport check(Square& layer) {
  GradCheck gc;
  gc.inputs = {{2, 3, 4}};
  gc.seed = 3;
  return gradcheck_layer(layer, gc);
}

}  // namespace

TEST_CASE("gradcheck self-test: passes a correct layer, catches contract violations", "[gradcheck]") {
  {
    Square ok;
    auto rep = check(ok);
    INFO(rep.message);
    CHECK(rep.ok);
    CHECK(rep.checked == 24 + 2);
    CHECK(rep.skipped == 0);
  }
  {
    Square wrong;
    wrong.din_factor = 1.05f;  // 5% off
    CHECK_FALSE(check(wrong).ok);
  }
  {
    Square lazy;
    lazy.write_din = false;  // din keeps the NaN the checker filled in
    CHECK_FALSE(check(lazy).ok);
  }
  {
    Square over;
    over.overwrite_grad = true;  // Param::grad must accumulate
    CHECK_FALSE(check(over).ok);
  }
  {
    Square wg;
    wg.wgrad_factor = 0.97f;
    auto rep = check(wg);
    CHECK_FALSE(rep.ok);
    CHECK(rep.message.find("weight") != std::string::npos);
  }
}

TEST_CASE("gradcheck self-test: fill_distinct gives well-separated values away from zero", "[gradcheck]") {
  Tensor t({7, 13});
  Rng rng(1);
  const double gap = fill_distinct(t, rng);
  std::vector<float> v(t.data(), t.data() + t.numel());
  std::sort(v.begin(), v.end());
  for (size_t i = 1; i < v.size(); ++i) CHECK(v[i] - v[i - 1] >= 0.99 * gap);
  for (float x : v) CHECK(std::abs(x) >= 0.1f);
}
