#include "train/mixup.h"

#include <algorithm>
#include <cmath>

#include "core/rng.h"

namespace cnn {

namespace {

// Gamma(a, 1) by Marsaglia & Tsang (2000); a < 1 by the boost Gamma(a + 1) * U^(1/a).
double gamma_sample(double a, Rng& rng) {
  if (a < 1) {
    const double u = std::max(1e-12, double(rng.uniform()));
    return gamma_sample(a + 1, rng) * std::pow(u, 1.0 / a);
  }
  const double d = a - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = rng.normal();
      v = 1.0 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = rng.uniform();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (std::log(std::max(u, 1e-300)) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

constexpr uint64_t kMixStream = 0x313;  // keys the mixing randomness apart from the other streams

}  // namespace

double beta_sample(double a, Rng& rng) {
  const double x = gamma_sample(a, rng), y = gamma_sample(a, rng);
  return x + y > 0 ? x / (x + y) : 0.5;
}

std::vector<float> mix_batch(Tensor& images, int64_t n, const MixSpec& spec, const MixKey& key) {
  std::vector<float> lam(size_t(n), 1.f);
  if (!spec.enabled() || n < 2) return lam;
  const int64_t C = images.dim(1), H = images.dim(2), W = images.dim(3), plane = H * W;
  const Tensor orig = images;
  for (int64_t i = 0; i < n; ++i) {
    Rng rng(hash_keys(key.seed, uint64_t(key.epoch), kMixStream, (uint64_t(key.batch) << 20) + uint64_t(i)));
    const bool cutmix = spec.cutmix_alpha > 0 && (spec.mixup_alpha <= 0 || rng.uniform() < spec.switch_prob);
    const double l = beta_sample(cutmix ? spec.cutmix_alpha : spec.mixup_alpha, rng);
    if (!(rng.uniform() < spec.prob)) continue;
    const int64_t j = n - 1 - i;
    float* x = images.data() + i * C * plane;
    const float* xo = orig.data() + j * C * plane;
    if (!cutmix) {
      const float a = float(l), b = float(1 - l);
      for (int64_t k = 0; k < C * plane; ++k) x[k] = x[k] * a + xo[k] * b;
      lam[size_t(i)] = float(l);
      continue;
    }
    // timm's rand_bbox: a box of sqrt(1 - lambda) of each side, centred uniformly, clipped
    const double ratio = std::sqrt(1 - l);
    const int64_t ch = int64_t(double(H) * ratio), cw = int64_t(double(W) * ratio);
    const int64_t cy = int64_t(rng.below(uint64_t(H))), cx = int64_t(rng.below(uint64_t(W)));
    const int64_t y0 = std::clamp<int64_t>(cy - ch / 2, 0, H), y1 = std::clamp<int64_t>(cy + ch / 2, 0, H);
    const int64_t x0 = std::clamp<int64_t>(cx - cw / 2, 0, W), x1 = std::clamp<int64_t>(cx + cw / 2, 0, W);
    for (int64_t c = 0; c < C; ++c)
      for (int64_t y = y0; y < y1; ++y)
        for (int64_t xx = x0; xx < x1; ++xx) x[c * plane + y * W + xx] = xo[c * plane + y * W + xx];
    lam[size_t(i)] = float(1.0 - double((y1 - y0) * (x1 - x0)) / double(plane));
  }
  return lam;
}

void mixed_targets(const int32_t* labels, const std::vector<float>& lam, int64_t n, int64_t K, float label_smoothing,
                   float* out) {
  const float off = label_smoothing / float(K), on = 1.f - label_smoothing + off;
  for (int64_t i = 0; i < n; ++i) {
    const float l = lam[size_t(i)];
    float* t = out + i * K;
    for (int64_t k = 0; k < K; ++k) t[k] = off;  // l * off + (1 - l) * off
    t[labels[i]] += l * (on - off);
    t[labels[n - 1 - i]] += (1.f - l) * (on - off);
  }
}

}  // namespace cnn
