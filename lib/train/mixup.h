#pragma once
// Mixup (Zhang et al. 2018) and CutMix (Yun et al. 2019) as timm's Mixup in mode 'elem': each
// sample i of a batch of n is mixed with sample n-1-i of the unmixed batch, with its own
// lambda ~ Beta(alpha, alpha), its own choice of CutMix (probability switch_prob when both are
// on) and of mixing at all (probability prob). CutMix pastes a box of area about (1 - lambda)
// and corrects lambda to the box actually pasted. The randomness of sample i is keyed by (seed,
// epoch, batch, i), so runs are identical with any number of loader workers and after a resume.
// The targets become lambda * onehot(y_i) + (1 - lambda) * onehot(y_{n-1-i}), label smoothing
// applied to each one-hot first (timm's mixup_target).
#include <cstdint>
#include <vector>

#include "config/recipe.h"
#include "core/tensor.h"

namespace cnn {

struct MixKey {
  uint64_t seed = 0;
  int64_t epoch = 0, batch = 0;
};

// Mixes the first n samples of `images` (n x C x H x W) in place; returns lambda per sample
// (1: unmixed).
std::vector<float> mix_batch(Tensor& images, int64_t n, const MixSpec& spec, const MixKey& key);

// n x K soft targets for `labels` mixed with weights `lam` (as mix_batch paired them).
void mixed_targets(const int32_t* labels, const std::vector<float>& lam, int64_t n, int64_t K, float label_smoothing,
                   float* out);

// A draw from Beta(a, a) (via two Gamma(a) draws, Marsaglia & Tsang).
double beta_sample(double a, class Rng& rng);

}  // namespace cnn
