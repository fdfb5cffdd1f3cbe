#include "train/evaluator.h"

#include <cmath>
#include <numeric>

#include "core/error.h"
#include "data/loader.h"
#include "data/transforms.h"
#include "kernels/softmax.h"
#include "layers/layer.h"

namespace cnn {

namespace {

// out = in mirrored along the width (the last axis of N x C x H x W, or any rank >= 1).
void mirror_width(const Tensor& in, Tensor& out) {
  out.resize(in.shape());
  const int64_t w = in.shape().back();
  const int64_t rows = w ? in.numel() / w : 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* src = in.data() + r * w;
    float* dst = out.data() + r * w;
    for (int64_t x = 0; x < w; ++x) dst[x] = src[w - 1 - x];
  }
}

SampleOutcome outcome(const float* z, int64_t K, int32_t label, int64_t predicted, int64_t index) {
  double peak = z[predicted], sum = 0;
  for (int64_t k = 0; k < K; ++k) sum += std::exp(double(z[k]) - peak);
  SampleOutcome s;
  s.index = index;
  s.label = label;
  s.predicted = int32_t(predicted);
  s.prob = float(1 / sum);
  s.loss = float(peak + std::log(sum) - double(z[label]));  // log-sum-exp minus the true logit
  return s;
}

}  // namespace

EvalOptions eval_options_of(const Recipe& recipe) {
  const DataSpec& d = recipe.data;
  return {d.workers, recipe.train.seed, d.bad_images == BadImages::skip, name_of(d.dataset), d.eval_tta == EvalTta::hflip};
}

EvalResult evaluate(Net& net, const Dataset& data, const std::vector<TransformSpec>& transforms,
                    int64_t batch_size, float label_smoothing, const EvalOptions& options) {
  EvalResult r;
  const Shape out = net.output_shape();
  if (out.size() != 1) throw ConfigError("model '" + net.spec().name + "' must end in N x classes logits, not " + shape_str(out));
  const int64_t K = out[0];
  if (K < data.num_classes())
    throw ConfigError("model '" + net.spec().name + "' has " + std::to_string(K) + " outputs but the dataset has " +
                      std::to_string(data.num_classes()) + " classes");
  r.classes = static_cast<int>(K);
  r.confusion.assign(size_t(K * K), 0);
  const Pipeline pipeline(transforms, data.channels(), "data.eval_transforms");
  const Shape sample =
      checked_sample_shape(pipeline, data, net.spec().input, options.dataset, "data.eval_transforms");
  Loader loader(data, pipeline, sample, {batch_size, options.workers, options.seed, options.skip_bad, 0});
  // The samples [lo, hi) of this shard (all of them alone): contiguous, as dist::shard_of cuts.
  const int64_t lo = data.size() * options.shard / options.shards;
  const int64_t hi = data.size() * (options.shard + 1) / options.shards;
  std::vector<int64_t> idx(static_cast<size_t>(hi - lo));
  std::iota(idx.begin(), idx.end(), lo);
  loader.start(0, idx);
  Net::InferenceScope fused(net);  // the weights stay as they are for the whole evaluation
  RunContext ctx{false, nullptr};
  double loss_sum = 0;
  int64_t top1 = 0, top5 = 0;
  Tensor mirrored, averaged;
  while (const Batch* batch = loader.next()) {
    for (const auto& s : batch->skipped) r.skipped.push_back(s);
    const int64_t n = batch->size;
    if (n == 0) continue;
    const Tensor* out = &net.forward(batch->images, ctx);
    if (options.hflip_tta) {
      averaged = *out;
      mirror_width(batch->images, mirrored);
      const Tensor& second = net.forward(mirrored, ctx);
      for (int64_t i = 0; i < averaged.numel(); ++i) averaged.data()[i] = 0.5f * (averaged.data()[i] + second.data()[i]);
      out = &averaged;
    }
    const Tensor& logits = *out;
    const int32_t* labels = batch->labels.data();
    LossResult lr = softmax_cross_entropy(logits.data(), labels, n, K, label_smoothing, nullptr);
    loss_sum += lr.loss * n;
    top1 += lr.correct;
    top5 += topk_correct(logits.data(), labels, n, K, 5);
    for (int64_t i = 0; i < n; ++i) {
      const float* z = logits.data() + i * K;
      int64_t arg = 0;
      for (int64_t k = 1; k < K; ++k)
        if (z[k] > z[arg]) arg = k;
      r.confusion[size_t(labels[i] * K + arg)]++;
      if (options.per_sample) r.samples.push_back(outcome(z, K, labels[i], arg, batch->indices[size_t(i)]));
    }
    r.count += n;
  }
  r.loss_sum = loss_sum;
  r.correct_top1 = top1;
  r.correct_top5 = top5;
  if (r.count) {
    r.loss = loss_sum / r.count;
    r.top1 = 100.0 * top1 / r.count;
    r.top5 = 100.0 * top5 / r.count;
  }
  return r;
}

}  // namespace cnn
