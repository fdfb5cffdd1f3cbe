#pragma once
// cnn report: one self-contained HTML page about a training run (no network, no JavaScript):
// curves of metrics.jsonl, the confusion matrix, per-class precision/recall/F1, the highest-loss
// test images with their CAM/Grad-CAM, the first convolution's filters, feature maps, the model
// summary, the resolved config, the banner and the wall time. Each chart is also written as an
// .svg and each picture as a .png next to the page.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/recipe.h"

namespace cnn {

struct ReportOptions {
  std::string run_dir;
  std::string out;          // default: <run_dir>/report.html; the .svg/.png files go next to it
  std::string checkpoint;   // default: <run_dir>/best.safetensors, else last.safetensors
  int64_t samples = 16;     // highest-loss test images shown
  std::string layer;        // explained layer (CAM/Grad-CAM, feature maps); default: as cnn explain's
  const Recipe* recipe = nullptr;  // the run's recipe (cnn train); default: <run_dir>/config.yaml
};

struct ReportResult {
  std::string html;                  // the page's path
  std::vector<std::string> files;    // every file written, the page last
  std::vector<std::string> notes;    // sections left out and why (e.g. the test set is unavailable)
};

// Computes everything before writing anything; every file is written atomically. Errors: a run
// directory without metrics.jsonl or config.yaml (RuntimeError naming the file), a checkpoint
// that does not fit the model (ConfigError, as load_checkpoint), a file or directory that cannot be
// written (RuntimeError "cannot write '<file>': <strerror>"). The page is written last, so a failed
// report leaves no new page (the charts written before the failure stay, each one whole).
ReportResult write_report(const ReportOptions& options);

}  // namespace cnn
