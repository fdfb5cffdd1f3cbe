#include <fmt/format.h>

#include "command.h"
#include "config/any_config.h"
#include "core/error.h"
#include "graph/net.h"
#include "io/summary_report.h"

namespace cnn::cli {

Run add_summary(CLI::App& app) {
  auto* cmd = app.add_subcommand("summary", "per-layer output shapes, parameters and MACs of a model");
  struct Opts {
    std::string config, input;
    std::vector<std::string> sets;
    int64_t batch = 1;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--config,-c", o->config, "model or recipe YAML")->required();
  cmd->add_option("--input", o->input, "input shape CxHxW (default: the model's)");
  cmd->add_option("--batch", o->batch, "batch size for the memory estimate")->check(CLI::PositiveNumber);
  add_set_option(cmd, o->sets);
  cmd->add_flag("--json", o->json, "machine-readable output");
  return [o] {
    std::vector<std::string> sets = o->sets;
    if (!o->input.empty()) sets.push_back(input_override(o->input));
    ModelSpec spec = load_model_or_recipe(o->config, sets);
    Net net(spec);
    print_banner();
    const Net::PlannedMemory train = net.planned_memory(o->batch, true), eval = net.planned_inference_memory(o->batch);
    fmt::print("{}", o->json ? summary_json(net, o->batch, train, eval) : summary_table(net, o->batch, train, eval));
    return 0;
  };
}

}  // namespace cnn::cli
