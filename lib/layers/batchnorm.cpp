// BatchNorm over channels (dim 1) of N x C x H x W or N x C inputs, PyTorch semantics:
// training normalizes with the batch's biased variance and updates running stats with the
// unbiased one (momentum 0.1); eval uses the running stats. Buffers are named as torchvision's.
#include <cmath>
#include <vector>

#include "layers/layer_args.h"
#include "core/isa.h"
#include "core/parallel.h"
#include "kernels/blocked_conv.h"
#include "kernels/channel_stats.h"
#include "layers/layer.h"
#include "layers/options.h"

namespace cnn {
namespace {

class BatchNorm : public Layer {
 public:
  BatchNorm(BatchNormOptions o, const LayerArgs& args) : o_(o), args_(args) {}

  Shape infer(const std::vector<Shape>& in) override {
    const Shape& s = in[0];
    if (s.size() != 4 && s.size() != 2) args_.fail("bn expects N x C x H x W or N x C input, got " + shape_str(s));
    if (C_ && s[1] != C_) args_.fail("input channels changed from " + std::to_string(C_) + " to " + std::to_string(s[1]));
    if (!C_) {
      C_ = s[1];
      if (o_.affine) {
        gamma_ = {"weight", Tensor({C_}), Tensor({C_}), true, "bn_weight", 0, 0};
        beta_ = {"bias", Tensor({C_}), Tensor({C_}), true, "bn_bias", 0, 0};
      }
      mean_ = {"running_mean", Tensor({C_})};
      var_ = {"running_var", Tensor({C_})};
      count_ = {"num_batches_tracked", Tensor(Shape{})};
      init_state();
    }
    return s;
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, RunContext& ctx) override {
    const Tensor& x = *in[0];
    const int64_t N = x.dim(0), HW = x.numel() / (N * C_);
    batch_mean_.resize({C_});
    batch_invstd_.resize({C_});
    channels_.resize(size_t(C_));
    packed_out_ = ctx.bn_output_map;
    train_ = ctx.train;
    synced_ = train_ && ctx.batch_stats_sum;
    if (synced_) return forward_synced(x, out, *ctx.batch_stats_sum);
    // Sums of the input computed by the layer that wrote it (RunContext::channel_sums_in).
    const ChannelSums* given = train_ && ctx.channel_sums_in && ctx.channel_sums_in->sum.size() == size_t(C_)
                                   ? ctx.channel_sums_in
                                   : nullptr;
    parallel_for(C_, [&](int64_t b, int64_t e, int) {
      for (int64_t c = b; c < e; ++c) {
        float mean, invstd;
        if (train_) {
          double s = 0, ss = 0;
          if (given) s = given->sum[size_t(c)], ss = given->sum_sq[size_t(c)];
          for (int64_t n = 0; n < N && !given; ++n) {
            const float* p = x.data() + (n * C_ + c) * HW;
            float a, aa;
            plane_sum_and_centered_squares(p, HW, a, aa);
            s += a;
            const float m_local = a / float(HW);
            ss += aa + double(HW) * m_local * m_local;  // sum of squares via per-image centring
          }
          const double M = double(N * HW);
          const double m = s / M;
          const double var = std::max(0.0, ss / M - m * m);
          mean = float(m);
          invstd = float(1.0 / std::sqrt(var + o_.eps));
          const double unbiased = M > 1 ? var * M / (M - 1) : var;
          mean_.value[c] = float((1 - o_.momentum) * mean_.value[c] + o_.momentum * m);
          var_.value[c] = float((1 - o_.momentum) * var_.value[c] + o_.momentum * unbiased);
        } else {
          mean = mean_.value[c];
          invstd = float(1.0 / std::sqrt(double(var_.value[c]) + o_.eps));
        }
        normalize_channel(x, out, c, mean, invstd);
      }
    });
    if (train_) count_.value[0] += 1;
    publish_output_map();
  }

  bool packs_into_convolutions() const override { return true; }

  bool fuse_relu(bool on) override { return relu_ = on; }
  bool backward_reads_output() const override { return false; }  // a fused ReLU's mask comes from x (bn_affine)
  FusionInfo fusion_info() const override {
    FusionInfo f;
    f.kind = FusionInfo::Kind::batchnorm;
    f.bn = {o_.affine ? &gamma_.value : nullptr, o_.affine ? &beta_.value : nullptr, &mean_.value, &var_.value, o_.eps};
    return f;
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, RunContext& ctx) override {
    const Tensor& x = *in[0];
    const int64_t N = x.dim(0), HW = x.numel() / (N * C_);
    if (synced_) return backward_synced(x, dout, din[0], *ctx.batch_stats_sum);
    if (!train_ && !ctx.param_grads) {  // frozen BN in eval mode: dx = dy * gamma * invstd, no sums
      if (din[0]) backward_data_eval(x, dout, *din[0]);
      return;
    }
    const double M = double(N * HW);
    // Training: the convolution that wrote x may apply the input gradient while packing it.
    BnPackSlot* packed = train_ && din[0] ? ctx.bn_grad_map : nullptr;
    // The reader that wrote dout summed its planes already (the same bits).
    const float* plane_sums = train_ && ctx.plane_sums_in && ctx.plane_sums_in->filled ? ctx.plane_sums_in->sums.data() : nullptr;
    const auto grad_sums = blocked_conv_kernel(active_isa(), 0).grad_sums;  // plane_grad_sums(_relu)'s bits
    parallel_for(C_, [&](int64_t b, int64_t e, int) {
      for (int64_t c = b; c < e; ++c) {
        const float mean = batch_mean_[c], invstd = batch_invstd_[c];
        const Affine af = affine(c);
        const BnChannel relu{af.scale, af.shift};
        double sdy = 0, sdyx = 0;
        for (int64_t n = 0; n < N; ++n) {
          const float* p = x.data() + (n * C_ + c) * HW;
          const float* d = dout.data() + (n * C_ + c) * HW;
          float a, bsum;
          if (plane_sums) a = plane_sums[2 * (n * C_ + c)], bsum = plane_sums[2 * (n * C_ + c) + 1];
          else grad_sums(p, d, HW, mean, relu_ ? &relu : nullptr, a, bsum);
          sdy += a;
          sdyx += bsum;
        }
        const double sdxhat = sdyx * invstd;  // sum(dy * xhat)
        if (o_.affine && ctx.param_grads) {
          gamma_.grad[c] += float(sdxhat);
          beta_.grad[c] += float(sdy);
        }
        if (!din[0]) continue;
        const float g = o_.affine ? gamma_.value[c] : 1.f;
        if (train_) {
          // dx = g * invstd * (dy - mean(dy) - xhat * mean(dy * xhat))
          const BnChannel ch{af.scale, af.shift, g * invstd, float(sdy / M), mean, invstd, float(sdxhat / M)};
          channels_[size_t(c)] = ch;
          if (packed) continue;
          for (int64_t n = 0; n < N; ++n) {
            const float* p = x.data() + (n * C_ + c) * HW;
            const float* d = dout.data() + (n * C_ + c) * HW;
            float* dx = din[0]->data() + (n * C_ + c) * HW;
            if (relu_) {
              for (int64_t i = 0; i < HW; ++i)
                dx[i] = bn_input_grad(bn_relu_grad(d[i], p[i], af.scale, af.shift), p[i], ch);
            } else {
              for (int64_t i = 0; i < HW; ++i) dx[i] = bn_input_grad(d[i], p[i], ch);
            }
          }
        } else {
          backward_data_eval_channel(x, dout, *din[0], c);
        }
      }
    });
    if (packed) *packed = {true, {channels_.data(), relu_, true, x.data()}, dout.data()};
  }

  // dx = dy * gamma * invstd with the running statistics (eval mode; dy through the fused ReLU).
  void backward_data_eval(const Tensor& x, const Tensor& dout, Tensor& dx) const {
    parallel_for(C_, [&](int64_t b, int64_t e, int) {
      for (int64_t c = b; c < e; ++c) backward_data_eval_channel(x, dout, dx, c);
    });
  }
  void backward_data_eval_channel(const Tensor& x, const Tensor& dout, Tensor& dx, int64_t c) const {
    const int64_t N = x.dim(0), HW = x.numel() / (N * C_);
    const float k = (o_.affine ? gamma_.value[c] : 1.f) * batch_invstd_[c];
    const Affine af = affine(c);
    for (int64_t n = 0; n < N; ++n) {
      const float* d = dout.data() + (n * C_ + c) * HW;
      const float* p = x.data() + (n * C_ + c) * HW;
      float* g = dx.data() + (n * C_ + c) * HW;
      if (relu_) {
        for (int64_t i = 0; i < HW; ++i) g[i] = k * bn_relu_grad(d[i], p[i], af.scale, af.shift);
      } else {
        for (int64_t i = 0; i < HW; ++i) g[i] = k * d[i];
      }
    }
  }

  std::vector<Param*> params() override {
    if (!o_.affine) return {};
    return {&gamma_, &beta_};
  }
  std::vector<Buffer*> buffers() override { return {&mean_, &var_, &count_}; }
  void init(Rng&) override { init_state(); }

 private:
  // train.sync_bn (RunContext::batch_stats_sum): the statistics of every process's batch
  // together. Per channel, the sum and the sum of squares of this batch (plus its element count)
  // are summed over the processes; then each process normalizes its own batch with them.
  void forward_synced(const Tensor& x, Tensor& out, CrossProcessSum& sum) {
    const int64_t N = x.dim(0), HW = x.numel() / (N * C_);
    sync_sums_.assign(size_t(2 * C_ + 1), 0.0);
    parallel_for(C_, [&](int64_t b, int64_t e, int) {
      for (int64_t c = b; c < e; ++c) {
        double s = 0, ss = 0;
        for (int64_t n = 0; n < N; ++n) {
          float a, aa;
          plane_sum_and_centered_squares(x.data() + (n * C_ + c) * HW, HW, a, aa);
          s += a;
          const float m_local = a / float(HW);
          ss += aa + double(HW) * m_local * m_local;
        }
        sync_sums_[size_t(2 * c)] = s;
        sync_sums_[size_t(2 * c + 1)] = ss;
      }
    });
    sync_sums_[size_t(2 * C_)] = double(N * HW);
    sum.sum(sync_sums_.data(), sync_sums_.size());
    synced_count_ = sync_sums_[size_t(2 * C_)];
    const double M = synced_count_;
    parallel_for(C_, [&](int64_t b, int64_t e, int) {
      for (int64_t c = b; c < e; ++c) {
        const double m = sync_sums_[size_t(2 * c)] / M;
        const double var = std::max(0.0, sync_sums_[size_t(2 * c + 1)] / M - m * m);
        const float mean = float(m), invstd = float(1.0 / std::sqrt(var + o_.eps));
        const double unbiased = M > 1 ? var * M / (M - 1) : var;
        mean_.value[c] = float((1 - o_.momentum) * mean_.value[c] + o_.momentum * m);
        var_.value[c] = float((1 - o_.momentum) * var_.value[c] + o_.momentum * unbiased);
        normalize_channel(x, out, c, mean, invstd);
      }
    });
    count_.value[0] += 1;
    publish_output_map();
  }

  // The backward of forward_synced: gamma and beta get this batch's share (the trainer sums
  // parameter gradients over the processes); the input gradient needs sum(dy) and sum(dy * x)
  // of all batches, summed over the processes first. With a fused ReLU, dy is masked by its output > 0.
  void backward_synced(const Tensor& x, const Tensor& dout, Tensor* dx, CrossProcessSum& sum) {
    const int64_t N = x.dim(0), HW = x.numel() / (N * C_);
    sync_sums_.assign(size_t(2 * C_), 0.0);
    parallel_for(C_, [&](int64_t b, int64_t e, int) {
      for (int64_t c = b; c < e; ++c) {
        const Affine af = affine(c);
        double sdy = 0, sdyx = 0;
        for (int64_t n = 0; n < N; ++n) {
          const int64_t at = (n * C_ + c) * HW;
          float a, bsum;
          if (relu_) plane_grad_sums_relu(x.data() + at, dout.data() + at, HW, batch_mean_[c], af.scale, af.shift, a, bsum);
          else plane_grad_sums(x.data() + at, dout.data() + at, HW, batch_mean_[c], a, bsum);
          sdy += a;
          sdyx += bsum;
        }
        if (o_.affine) {
          gamma_.grad[c] += float(sdyx * batch_invstd_[c]);
          beta_.grad[c] += float(sdy);
        }
        sync_sums_[size_t(2 * c)] = sdy;
        sync_sums_[size_t(2 * c + 1)] = sdyx;
      }
    });
    sum.sum(sync_sums_.data(), sync_sums_.size());  // every process calls it, dx or not
    if (!dx) return;
    const double M = synced_count_;
    parallel_for(C_, [&](int64_t b, int64_t e, int) {
      for (int64_t c = b; c < e; ++c) {
        const float mean = batch_mean_[c], invstd = batch_invstd_[c];
        const float g = o_.affine ? gamma_.value[c] : 1.f;
        const Affine af = affine(c);
        const BnChannel ch{af.scale, af.shift, g * invstd, float(sync_sums_[size_t(2 * c)] / M), mean, invstd,
                           float(sync_sums_[size_t(2 * c + 1)] * invstd / M)};
        for (int64_t n = 0; n < N; ++n) {
          const int64_t at = (n * C_ + c) * HW;
          const float *p = x.data() + at, *d = dout.data() + at;
          float* q = dx->data() + at;
          for (int64_t i = 0; i < HW; ++i) {
            const float dy = relu_ ? bn_relu_grad(d[i], p[i], af.scale, af.shift) : d[i];
            q[i] = bn_input_grad(dy, p[i], ch);
          }
        }
      }
    });
  }

  void init_state() {
    if (o_.affine) {
      gamma_.value.fill(o_.zero_init ? 0.f : 1.f);
      beta_.value.zero();
    }
    mean_.value.zero();
    var_.value.fill(1.f);
    count_.value.zero();
  }

  // Channel c of out = gamma * (x - mean) * invstd + beta (then the fused ReLU); keeps the
  // statistics for backward.
  // With packed_out_, only the statistics and the channel's map (publish_output_map).
  void normalize_channel(const Tensor& x, Tensor& out, int64_t c, float mean, float invstd) {
    const int64_t N = x.dim(0), HW = x.numel() / (N * C_);
    batch_mean_[c] = mean;
    batch_invstd_[c] = invstd;
    const Affine af = affine(c);
    channels_[size_t(c)].scale = af.scale, channels_[size_t(c)].shift = af.shift;
    channels_[size_t(c)].mean = mean;  // a packing reader's backward sums (bn_plane_grad_sums)
    if (packed_out_) return;
    for (int64_t n = 0; n < N; ++n) {
      const float* p = x.data() + (n * C_ + c) * HW;
      float* q = out.data() + (n * C_ + c) * HW;
      if (relu_) apply_relu(p, q, HW, af.scale, af.shift);
      else apply(p, q, HW, af.scale, af.shift);
    }
  }

  // Channel c's output = x * scale + shift (bn_affine), from the statistics the last forward used.
  struct Affine {
    float scale, shift;
  };
  Affine affine(int64_t c) const {
    const float g = o_.affine ? gamma_.value[c] : 1.f, bt = o_.affine ? beta_.value[c] : 0.f;
    const float scale = g * batch_invstd_[c];
    return {scale, bt - batch_mean_[c] * scale};
  }

  static void apply(const float* x, float* y, int64_t n, float scale, float shift) {
    for (int64_t i = 0; i < n; ++i) y[i] = bn_affine(x[i], scale, shift);
  }
  static void apply_relu(const float* x, float* y, int64_t n, float scale, float shift) {
    for (int64_t i = 0; i < n; ++i) y[i] = bn_relu(x[i], scale, shift);
  }

  // Forward with RunContext::bn_output_map: the convolution reading the output applies it.
  void publish_output_map() {
    if (packed_out_) *packed_out_ = {true, {channels_.data(), relu_, false, nullptr}, nullptr};
  }

  BatchNormOptions o_;
  LayerArgs args_;
  int64_t C_ = 0;
  bool train_ = true;
  bool relu_ = false;  // fused with the ReLU that follows (Net planning)
  Param gamma_, beta_;
  Buffer mean_, var_, count_;
  Tensor batch_mean_, batch_invstd_;
  std::vector<BnChannel> channels_;  // the last forward's map, then the last backward's (packed BatchNorms)
  BnPackSlot* packed_out_ = nullptr;  // this forward's RunContext::bn_output_map
  bool synced_ = false;             // the last forward used forward_synced
  std::vector<double> sync_sums_;   // forward_synced / backward_synced: the sums exchanged
  double synced_count_ = 0;         // elements per channel over all processes
};

}  // namespace

BatchNormOptions parse_batchnorm(const LayerArgs& args) {
  BatchNormOptions o;
  o.eps = args.get_float("eps", 1e-5);
  o.momentum = args.get_float("momentum", 0.1);
  o.affine = args.get_bool("affine", true);
  o.zero_init = args.get_bool("zero_init", false);
  args.finish();
  if (o.eps <= 0) args.fail("eps", "expects a number > 0");
  if (o.momentum < 0 || o.momentum > 1) args.fail("momentum", "expects a number in [0, 1]");
  return o;
}

std::unique_ptr<Layer> make_batchnorm(const LayerArgs& args) { return std::make_unique<BatchNorm>(parse_batchnorm(args), args); }

}  // namespace cnn
