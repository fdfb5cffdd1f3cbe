#pragma once
// Class activation maps: where in a feature map the evidence for a class lies.
//  - CAM (Zhou et al. 2016), for nets that end in global average pooling and one linear layer:
//    map_k = sum_c W[k, c] * A_c, with W the linear layer's weight and A the pooled feature map.
//  - Grad-CAM (Selvaraju et al. 2017), for any net: map_k = sum_c alpha_c * A_c with
//    alpha_c = the spatial mean of d logit_k / d A_c (the definition pytorch-grad-cam uses).
// On a GAP + linear net the two agree up to the positive factor H x W (tested). The raw maps here
// are before ReLU and at the feature map's resolution; explain/heatmap.h turns them into images.
#include <string>
#include <vector>

#include "graph/net.h"

namespace cnn {

enum class CamMethod { cam, gradcam };

struct CamLayer {
  int node = -1;
  std::string name;
  int64_t channels = 0, height = 0, width = 0;
};

// `name` "": the last C x H x W map (H x W > 1) on the way to the output, i.e. the one before
// global pooling or flatten. Otherwise a node name ("layer4.1.then.0") or the name of a block,
// meaning its last node ("layer4"). ConfigError (naming the layer, with a "did you mean") when it
// does not exist, only feeds a side head, or has no spatial map.
CamLayer resolve_cam_layer(const Net& net, const std::string& name);

// The classifier weight [classes x C] when every node after `layer` is global average pooling of
// it, then flatten/dropout, then one linear layer: the nets CAM applies to. nullptr otherwise.
const Tensor* cam_classifier_weight(const Net& net, const CamLayer& layer);

// CAM where the net allows it, else Grad-CAM.
CamMethod default_cam_method(const Net& net, const CamLayer& layer);

// Runs a batch once (eval mode) and computes maps of chosen classes from that forward.
class CamExplainer {
 public:
  // ConfigError if `method` is CAM and the net does not end in GAP + linear after `layer`.
  CamExplainer(Net& net, CamLayer layer, CamMethod method);
  // input: N x <model input>. Returns the logits (N x classes), valid until the next forward.
  const Tensor& forward(const Tensor& input);
  // One raw map per sample of the last forward, for class classes[n]: N x H x W.
  Tensor maps(const std::vector<int64_t>& classes);

 private:
  Net& net_;
  CamLayer layer_;
  CamMethod method_;
  const Tensor* weight_ = nullptr;
  int64_t batch_ = 0, classes_ = 0;
};

}  // namespace cnn
