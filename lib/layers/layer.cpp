#include "layers/layer.h"

namespace cnn {

float* workspace_for(RunContext& ctx, Tensor& own, size_t floats) {
  Tensor& t = ctx.workspace ? *ctx.workspace : own;
  if (size_t(t.numel()) < floats) t.resize({static_cast<int64_t>(floats)});
  return t.data();
}

}  // namespace cnn
