#pragma once
// The report's HTML page and the files that go with it, from computed inputs (no I/O here).
#include <string>
#include <utility>
#include <vector>

#include "config/recipe.h"
#include "data/image.h"
#include "report/class_metrics.h"
#include "report/run_metrics.h"
#include "report/svg.h"
#include "train/evaluator.h"

namespace cnn {

struct GalleryItem {
  SampleOutcome outcome;
  std::string true_name, predicted_name;
  Image image, overlay;  // the test image after the eval transforms' 8-bit steps, and its CAM overlay
};

struct PageInput {
  std::string title;
  const RunMetrics* metrics = nullptr;
  const Recipe* recipe = nullptr;
  std::string checkpoint, config_text, summary, banner;
  std::string training_banner;  // banner.txt of the run directory (the training processes), or ""
  std::vector<LineChart> charts;
  Image filters;                                // empty: the model has no convolution
  const EvalResult* eval = nullptr;             // null: no evaluation sections
  std::vector<std::string> class_names;
  std::vector<ClassStats> stats;
  std::vector<ConfusedPair> pairs;
  ConfusionView confusion;
  std::vector<GalleryItem> gallery;
  Image feature_maps;
  std::string feature_caption;
  std::vector<std::string> notes;
};

struct RenderedPage {
  std::string html;
  std::vector<std::pair<std::string, std::string>> files;  // file name -> content (.svg, .png)
};

RenderedPage render_page(const PageInput& in);

}  // namespace cnn
