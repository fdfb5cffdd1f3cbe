#include "train/evaluator.h"

#include <numeric>

#include "core/error.h"
#include "data/batch.h"
#include "kernels/softmax.h"
#include "layers/layer.h"

namespace cnn {

EvalResult evaluate(Net& net, const ImageDataset& data, const std::vector<TransformSpec>& transforms,
                    int64_t batch_size, float label_smoothing) {
  EvalResult r;
  const Shape out = net.output_shape();
  if (out.size() != 1) throw ConfigError("model '" + net.spec().name + "' must end in N x classes logits, not " + shape_str(out));
  const int64_t K = out[0];
  if (K < data.num_classes)
    throw ConfigError("model '" + net.spec().name + "' has " + std::to_string(K) + " outputs but the dataset has " +
                      std::to_string(data.num_classes) + " classes");
  r.classes = static_cast<int>(K);
  r.confusion.assign(size_t(K * K), 0);
  std::vector<int64_t> idx(static_cast<size_t>(data.count));
  std::iota(idx.begin(), idx.end(), 0);
  Tensor images;
  std::vector<int32_t> labels;
  RunContext ctx{false, nullptr};
  double loss_sum = 0;
  int64_t top1 = 0, top5 = 0;
  for (int64_t b = 0; b < data.count; b += batch_size) {
    const int64_t n = std::min(batch_size, data.count - b);
    make_batch(data, idx.data() + b, n, transforms, images, labels);
    const Tensor& logits = net.forward(images, ctx);
    LossResult lr = softmax_cross_entropy(logits.data(), labels.data(), n, K, label_smoothing, nullptr);
    loss_sum += lr.loss * n;
    top1 += lr.correct;
    top5 += topk_correct(logits.data(), labels.data(), n, K, 5);
    for (int64_t i = 0; i < n; ++i) {
      const float* z = logits.data() + i * K;
      int64_t arg = 0;
      for (int64_t k = 1; k < K; ++k)
        if (z[k] > z[arg]) arg = k;
      r.confusion[size_t(labels[size_t(i)] * K + arg)]++;
    }
  }
  r.count = data.count;
  if (r.count) {
    r.loss = loss_sum / r.count;
    r.top1 = 100.0 * top1 / r.count;
    r.top5 = 100.0 * top5 / r.count;
  }
  return r;
}

}  // namespace cnn
