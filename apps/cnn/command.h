#pragma once
// Each subcommand registers its flags on the CLI11 app and returns the function that runs it.
#include <CLI/CLI.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>

#include "core/error.h"

namespace cnn {
struct ReportResult;
}

namespace cnn::cli {

using Run = std::function<int()>;

Run add_train(CLI::App& app);
Run add_eval(CLI::App& app);
Run add_summary(CLI::App& app);
Run add_bench(CLI::App& app);
Run add_predict(CLI::App& app);
Run add_export(CLI::App& app);
Run add_explain(CLI::App& app);
Run add_report(CLI::App& app);

// `--set dotted.key=value`, repeatable, one value per occurrence (so that `--set x=1 img.jpg`
// leaves img.jpg to the positional arguments).
inline CLI::Option* add_set_option(CLI::App* cmd, std::vector<std::string>& sets) {
  return cmd->add_option("--set", sets, "override a config field: dotted.key=value (repeatable)")
      ->allow_extra_args(false);
}

// Numeric flag checks that say what is expected. CLI11's PositiveNumber/NonNegativeNumber answer
// `--batch 0` and `--batch abc` alike with "Value 0 not in range 0.000000 to 1797...(309 digits)".
inline CLI::Validator whole_number_at_least(int64_t min) {
  return CLI::Validator(
      [min](std::string& text) -> std::string {
        int64_t v = 0;
        const char* end = text.data() + text.size();
        const auto [p, ec] = std::from_chars(text.data(), end, v);
        if (ec != std::errc() || p != end || v < min)
          return "expected a whole number >= " + std::to_string(min) + ", got '" + text + "'";
        return "";
      },
      "INT>=" + std::to_string(min));
}
inline CLI::Validator positive_real() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || !(v > 0) || v == HUGE_VAL)
          return "expected a number > 0, got '" + text + "'";
        return "";
      },
      "NUMBER>0");
}

// `--input CxHxW` (e.g. 3x224x224) as the model override "input=[C,H,W]"; ConfigError otherwise.
inline std::string input_override(const std::string& cxhxw) {
  std::string dims = cxhxw;
  for (char& c : dims) {
    if (c == 'x' || c == 'X') c = ',';
    else if (!std::isdigit(static_cast<unsigned char>(c)))
      throw ConfigError("--input: expected CxHxW such as 3x224x224, got '" + cxhxw + "'");
  }
  return "input=[" + dims + "]";
}

// `--ema`: load train.ema's average from the checkpoint instead of the raw weights (default raw).
inline CLI::Option* add_ema_flag(CLI::App* cmd, bool& ema) {
  return cmd->add_flag("--ema", ema,
                       "use the checkpoint's EMA weights (train.ema's average) instead of the raw weights; an error "
                       "when it has none (default: raw weights)");
}

// Prints the run banner (and a BLAS warning) to stderr.
void print_banner();

// "report: <page> (N files, S s)", after any notes on stderr.
void print_report_result(const ReportResult& r, double seconds);

}  // namespace cnn::cli
