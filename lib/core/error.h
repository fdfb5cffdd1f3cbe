#pragma once
// Error types. ConfigError (bad usage, config or input spec) maps to exit code 2;
// RuntimeError (data, I/O, numerics at run time) maps to exit code 1.
// what() is always the complete one-line message, location first.
#include <stdexcept>
#include <string>
#include <vector>

namespace cnn {

struct SourceLoc {
  std::string file;  // "" when unknown; "--set" for command-line overrides
  int line = 0;      // 1-based; 0 when unknown
  int col = 0;       // 1-based
  std::string str() const;  // "file:line:col" / "file" / ""
};

class ConfigError : public std::runtime_error {
 public:
  // message: what was wrong and what was expected. path: layer path ("layer3.2.conv2") or field
  // ("train.epochs"), may be empty.
  ConfigError(const SourceLoc& loc, const std::string& path, const std::string& message);
  explicit ConfigError(const std::string& message) : std::runtime_error(message) {}
  const SourceLoc& loc() const { return loc_; }

 private:
  SourceLoc loc_;
};

class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "did you mean 'x'?" helper: the closest candidate within a small edit distance, or "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace cnn
