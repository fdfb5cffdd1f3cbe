// Elementwise activations against their formulas (in double), backward against the derivative.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <vector>

#include "core/rng.h"
#include "kernels/activation.h"

using namespace cnn;

namespace {

std::vector<float> inputs(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = rng.uniform(-6.f, 6.f);
  if (n > 4) v[0] = 0.f, v[1] = -0.f, v[2] = 30.f, v[3] = -30.f;  // edges: zero, saturation
  return v;
}

int count_bad(const std::vector<float>& got, const std::function<double(size_t)>& want, double tol) {
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::abs(got[i] - want(i)) <= tol * (1 + std::abs(want(i))))) ++bad;
  return bad;
}

}  // namespace

TEST_CASE("relu / leaky_relu forward and backward", "[kernels][activation]") {
  for (int64_t n : {1, 7, 64, 1001}) {
    auto x = inputs(n, uint64_t(n));
    auto dy = inputs(n, uint64_t(n) + 1);
    std::vector<float> y(x.size()), dx(x.size(), 1e9f);
    relu_forward(x.data(), y.data(), n);
    CHECK(count_bad(y, [&](size_t i) { return x[i] > 0 ? x[i] : 0.0; }, 0) == 0);
    relu_backward(y.data(), dy.data(), dx.data(), n);
    CHECK(count_bad(dx, [&](size_t i) { return x[i] > 0 ? dy[i] : 0.0; }, 0) == 0);
    for (float slope : {0.01f, 0.2f, -0.5f}) {
      leaky_relu_forward(x.data(), y.data(), n, slope);
      CHECK(count_bad(y, [&](size_t i) { return x[i] > 0 ? double(x[i]) : double(x[i] * slope); }, 0) == 0);
      leaky_relu_backward(x.data(), dy.data(), dx.data(), n, slope);
      CHECK(count_bad(dx, [&](size_t i) { return x[i] > 0 ? double(dy[i]) : double(dy[i] * slope); }, 0) == 0);
    }
  }
  // In place (y aliasing x) works for the forward pass.
  std::vector<float> v{-1.f, 2.f, -3.f};
  relu_forward(v.data(), v.data(), 3);
  CHECK(v == std::vector<float>{0.f, 2.f, 0.f});
}

TEST_CASE("tanh / sigmoid forward and backward", "[kernels][activation]") {
  for (int64_t n : {1, 9, 1000}) {
    auto x = inputs(n, uint64_t(n) + 5);
    auto dy = inputs(n, uint64_t(n) + 6);
    std::vector<float> y(x.size()), dx(x.size(), 1e9f);
    tanh_forward(x.data(), y.data(), n);
    CHECK(count_bad(y, [&](size_t i) { return std::tanh(double(x[i])); }, 1e-6) == 0);
    tanh_backward(y.data(), dy.data(), dx.data(), n);
    CHECK(count_bad(dx, [&](size_t i) { double t = std::tanh(double(x[i])); return dy[i] * (1 - t * t); }, 1e-5) == 0);
    sigmoid_forward(x.data(), y.data(), n);
    CHECK(count_bad(y, [&](size_t i) { return 1 / (1 + std::exp(-double(x[i]))); }, 1e-6) == 0);
    sigmoid_backward(y.data(), dy.data(), dx.data(), n);
    CHECK(count_bad(dx, [&](size_t i) { double s = 1 / (1 + std::exp(-double(x[i]))); return dy[i] * s * (1 - s); },
                    1e-5) == 0);
  }
  // Extremes stay finite.
  std::vector<float> x{-200.f, 200.f}, y(2);
  sigmoid_forward(x.data(), y.data(), 2);
  CHECK(y[0] == 0.f);
  CHECK(y[1] == 1.f);
  tanh_forward(x.data(), y.data(), 2);
  CHECK(y[0] == -1.f);
  CHECK(y[1] == 1.f);
}
