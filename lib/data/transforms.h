#pragma once
// A recipe's transform list, compiled once and applied to one sample at a time. The 8-bit steps
// run on H x W x C bytes (as torchvision's PIL path), then the image becomes C x H x W floats
// (pixels / 255, as ToTensor) and the float steps run. Every random choice comes from the Rng the
// caller passes, which the loader seeds from (seed, epoch, sample index): a sample's result never
// depends on threads or timing.
#include <cstdint>
#include <string>
#include <vector>

#include "config/recipe.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "data/auto_augment.h"
#include "data/image.h"
#include "data/image_ops.h"

namespace cnn {

// Per-thread buffers: reused, so the steady state allocates nothing.
struct TransformScratch {
  Image a, b;
  ResizeScratch resize;
  std::vector<AugmentStep> augment_steps;
};

class Pipeline {
 public:
  Pipeline() = default;
  // `channels`: of the dataset's images. Throws ConfigError naming `field` ("data.train_transforms")
  // when a normalize does not have 1 or `channels` values.
  Pipeline(const std::vector<TransformSpec>& specs, int64_t channels, const std::string& field);

  // The [C, H, W] of the output for inputs of h x w; H and W are 0 when they depend on the size of
  // each input (h or w 0: unknown).
  Shape output_shape(int64_t h, int64_t w) const;

  // The 8-bit steps on `img` (its contents and size change).
  void apply_bytes(Image& img, TransformScratch& s, Rng& rng) const;
  // ToTensor and the float steps: writes img.channels x img.height x img.width floats to `out`.
  void apply_floats(const Image& img, Rng& rng, float* out) const;

  const std::vector<TransformSpec>& specs() const { return specs_; }

 private:
  std::vector<TransformSpec> specs_;
  size_t first_float_ = 0;                // index of the first float step
  int64_t channels_ = 0;
  std::vector<float> lut_;                // channels x 256: ToTensor + the leading normalize
  bool lut_normalizes_ = false;
};

// torchvision's RandomResizedCrop.get_params with `rng`: up to 10 tries of an area fraction in
// t.scale and a log-uniform aspect ratio in t.ratio (sides rounded half to even, as Python's
// round), then the fallback: the whole image clamped to the ratio range, centred.
void random_resized_crop_params(const TransformSpec& t, int64_t height, int64_t width, Rng& rng, int64_t& top,
                                int64_t& left, int64_t& h, int64_t& w);

// A double in [0, 1) with 53 random bits.
inline double uniform01(Rng& rng) { return double(rng.next_u64() >> 11) * (1.0 / 9007199254740992.0); }

}  // namespace cnn
