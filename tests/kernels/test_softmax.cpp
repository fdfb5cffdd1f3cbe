// Softmax cross-entropy (with label smoothing) against the direct formula and finite differences;
// softmax_rows; topk_correct.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "core/rng.h"
#include "kernels/softmax.h"

using namespace cnn;

namespace {

// PyTorch's CrossEntropyLoss(label_smoothing=eps), mean over rows, computed in double.
double ref_loss(const std::vector<float>& z, const std::vector<int32_t>& y, int64_t N, int64_t K, double eps) {
  double total = 0;
  for (int64_t i = 0; i < N; ++i) {
    double m = -1e300;
    for (int64_t k = 0; k < K; ++k) m = std::max(m, double(z[size_t(i * K + k)]));
    double s = 0;
    for (int64_t k = 0; k < K; ++k) s += std::exp(double(z[size_t(i * K + k)]) - m);
    double lse = m + std::log(s);
    double smooth = 0;
    for (int64_t k = 0; k < K; ++k) smooth += lse - z[size_t(i * K + k)];
    total += (1 - eps) * (lse - z[size_t(i * K + y[size_t(i)])]) + eps / double(K) * smooth;
  }
  return total / double(N);
}

std::vector<float> logits(int64_t N, int64_t K, Rng& rng, float scale = 3.f) {
  std::vector<float> z(size_t(N * K));
  for (auto& v : z) v = rng.uniform(-scale, scale);
  return z;
}

std::vector<int32_t> labels(int64_t N, int64_t K, Rng& rng) {
  std::vector<int32_t> y(static_cast<size_t>(N));
  for (auto& v : y) v = int32_t(rng.below(uint64_t(K)));
  return y;
}

}  // namespace

TEST_CASE("softmax_cross_entropy: value and gradient", "[kernels][softmax]") {
  Rng rng(21);
  for (double eps : {0.0, 0.1, 0.5}) {
    for (auto [N, K] : {std::pair<int64_t, int64_t>{1, 2}, {4, 10}, {7, 3}, {3, 100}}) {
      INFO("eps=" << eps << " N=" << N << " K=" << K);
      auto z = logits(N, K, rng);
      auto y = labels(N, K, rng);
      std::vector<float> d(z.size(), 1e9f);
      LossResult r = softmax_cross_entropy(z.data(), y.data(), N, K, float(eps), d.data());
      CHECK(r.loss == Approx(ref_loss(z, y, N, K, eps)).epsilon(1e-6));

      // Against the closed form (softmax - smoothed one-hot) / N.
      int bad = 0;
      for (int64_t i = 0; i < N; ++i) {
        double m = -1e300, s = 0;
        for (int64_t k = 0; k < K; ++k) m = std::max(m, double(z[size_t(i * K + k)]));
        for (int64_t k = 0; k < K; ++k) s += std::exp(z[size_t(i * K + k)] - m);
        for (int64_t k = 0; k < K; ++k) {
          double p = std::exp(z[size_t(i * K + k)] - m) / s;
          double q = eps / double(K) + (k == y[size_t(i)] ? 1 - eps : 0);
          if (std::abs(d[size_t(i * K + k)] - (p - q) / double(N)) > 1e-6) ++bad;
        }
      }
      CHECK(bad == 0);

      // Against central differences of the loss itself.
      bad = 0;
      for (size_t j = 0; j < z.size(); ++j) {
        const float z0 = z[j];
        z[j] = z0 + 1e-2f;
        const float zp = z[j];
        double lp = softmax_cross_entropy(z.data(), y.data(), N, K, float(eps), nullptr).loss;
        z[j] = z0 - 1e-2f;
        const float zm = z[j];
        double lm = softmax_cross_entropy(z.data(), y.data(), N, K, float(eps), nullptr).loss;
        z[j] = z0;
        double num = (lp - lm) / (double(zp) - double(zm));
        if (std::abs(num - d[j]) > 1e-4 * std::max(1.0, std::abs(num)) + 1e-6) ++bad;
      }
      CHECK(bad == 0);

      // Top-1 count.
      int64_t correct = 0;
      for (int64_t i = 0; i < N; ++i) {
        int64_t arg = 0;
        for (int64_t k = 1; k < K; ++k)
          if (z[size_t(i * K + k)] > z[size_t(i * K + arg)]) arg = k;
        correct += arg == y[size_t(i)];
      }
      CHECK(r.correct == correct);
      // Each gradient row sums to zero.
      for (int64_t i = 0; i < N; ++i) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k) s += d[size_t(i * K + k)];
        CHECK(std::abs(s) < 1e-6);
      }
    }
  }
}

TEST_CASE("softmax_cross_entropy: known values and extreme logits", "[kernels][softmax]") {
  // Uniform logits: loss = log K whatever the smoothing.
  std::vector<float> z(10, 0.5f);
  std::vector<int32_t> y{3};
  CHECK(softmax_cross_entropy(z.data(), y.data(), 1, 10, 0.f, nullptr).loss == Approx(std::log(10.0)));
  CHECK(softmax_cross_entropy(z.data(), y.data(), 1, 10, 0.1f, nullptr).loss == Approx(std::log(10.0)));
  // Ties: the first maximum is the prediction.
  CHECK(softmax_cross_entropy(z.data(), y.data(), 1, 10, 0.f, nullptr).correct == 0);
  std::vector<int32_t> y0{0};
  CHECK(softmax_cross_entropy(z.data(), y0.data(), 1, 10, 0.f, nullptr).correct == 1);
  // Huge logits neither overflow nor lose the answer.
  std::vector<float> big{1000.f, -1000.f, 999.f};
  std::vector<int32_t> yb{2};
  std::vector<float> d(3);
  LossResult r = softmax_cross_entropy(big.data(), yb.data(), 1, 3, 0.f, d.data());
  CHECK(std::isfinite(r.loss));
  CHECK(r.loss == Approx(std::log1p(std::exp(1.0))).epsilon(1e-6));  // -log softmax at 999 vs 1000
  for (float v : d) CHECK(std::isfinite(v));
  CHECK(d[1] == Approx(0.0).margin(1e-12));
  // A confidently right answer with smoothing still has the smoothing floor.
  std::vector<float> sure{50.f, 0.f};
  std::vector<int32_t> ys{0};
  r = softmax_cross_entropy(sure.data(), ys.data(), 1, 2, 0.1f, nullptr);
  CHECK(r.loss == Approx(0.05 * 50.0).epsilon(1e-4));
}

TEST_CASE("softmax_rows", "[kernels][softmax]") {
  Rng rng(22);
  const int64_t N = 5, K = 7;
  auto z = logits(N, K, rng, 20.f);
  z[0] = 500.f;  // no overflow
  std::vector<float> p(z.size());
  softmax_rows(z.data(), N, K, p.data());
  for (int64_t i = 0; i < N; ++i) {
    double s = 0, m = -1e300, e = 0;
    for (int64_t k = 0; k < K; ++k) m = std::max(m, double(z[size_t(i * K + k)]));
    for (int64_t k = 0; k < K; ++k) e += std::exp(z[size_t(i * K + k)] - m);
    for (int64_t k = 0; k < K; ++k) {
      s += p[size_t(i * K + k)];
      CHECK(p[size_t(i * K + k)] == Approx(std::exp(z[size_t(i * K + k)] - m) / e).margin(1e-7));
    }
    CHECK(s == Approx(1.0).epsilon(1e-6));
  }
}

TEST_CASE("topk_correct", "[kernels][softmax]") {
  Rng rng(23);
  const int64_t N = 50, K = 10;
  auto z = logits(N, K, rng);
  auto y = labels(N, K, rng);
  for (int k : {1, 2, 5, 10}) {
    int64_t want = 0;
    for (int64_t i = 0; i < N; ++i) {
      int64_t rank = 0;  // distinct random logits: no ties
      for (int64_t j = 0; j < K; ++j) rank += z[size_t(i * K + j)] > z[size_t(i * K + y[size_t(i)])];
      want += rank < k;
    }
    CHECK(topk_correct(z.data(), y.data(), N, K, k) == want);
  }
  CHECK(topk_correct(z.data(), y.data(), N, K, int(K)) == N);
  CHECK(topk_correct(z.data(), y.data(), N, K, 1) == softmax_cross_entropy(z.data(), y.data(), N, K, 0.f, nullptr).correct);
  // Ties are broken by index: with equal logits the label counts as rank = its index.
  std::vector<float> flat(4, 1.f);
  std::vector<int32_t> l2{2};
  CHECK(topk_correct(flat.data(), l2.data(), 1, 4, 2) == 0);
  CHECK(topk_correct(flat.data(), l2.data(), 1, 4, 3) == 1);
  std::vector<float> row{0.f, 5.f, 1.f, 5.f};
  std::vector<int32_t> l3{3};
  CHECK(topk_correct(row.data(), l3.data(), 1, 4, 1) == 0);
  CHECK(topk_correct(row.data(), l3.data(), 1, 4, 2) == 1);
}
