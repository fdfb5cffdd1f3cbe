#include "layers/layer.h"

#include <limits>

namespace cnn {

bool Layer::is_relu() const {
  const FusionInfo f = fusion_info();
  return f.kind == FusionInfo::Kind::clamp && f.lo == 0.f && f.hi == std::numeric_limits<float>::infinity();
}

float* workspace_for(RunContext& ctx, Tensor& own, size_t floats) {
  Tensor& t = ctx.workspace ? *ctx.workspace : own;
  if (size_t(t.numel()) < floats) t.resize({static_cast<int64_t>(floats)});
  return t.data();
}

}  // namespace cnn
