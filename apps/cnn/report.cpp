#include <fmt/format.h>

#include <chrono>

#include "command.h"
#include "report/report.h"

namespace cnn::cli {

// The report's result lines (shared with train, which writes a report at its end).
void print_report_result(const ReportResult& r, double seconds) {
  for (const std::string& n : r.notes) fmt::print(stderr, "note: {}\n", n);
  fmt::print("report: {} ({} files, {:.1f} s)\n", r.html, r.files.size(), seconds);
}

Run add_report(CLI::App& app) {
  auto* cmd = app.add_subcommand("report", "one self-contained HTML page about a training run");
  auto o = std::make_shared<ReportOptions>();
  cmd->add_option("run_dir", o->run_dir, "the run's output directory (metrics.jsonl, config.yaml, checkpoints)")
      ->required();
  cmd->add_option("--out,-o", o->out, "the page (default: RUN_DIR/report.html); charts and pictures go next to it");
  cmd->add_option("--checkpoint", o->checkpoint, "the weights evaluated (default: best.safetensors, else last)");
  cmd->add_option("--layer", o->layer,
                  "layer of the class activation maps and feature maps (default: as cnn explain's)");
  cmd->add_option("--samples", o->samples, "highest-loss test images shown (default 16)")->check(whole_number_at_least(0));
  return [o] {
    print_banner();
    const auto t0 = std::chrono::steady_clock::now();
    const ReportResult r = write_report(*o);
    print_report_result(r, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return 0;
  };
}

}  // namespace cnn::cli
