#include "data/csv_dataset.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "data/image_ops.h"

namespace cnn {

namespace fs = std::filesystem;

namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Splits one line into fields: commas separate, double quotes enclose (with "" for a quote).
std::vector<std::string> split_fields(const std::string& line, const std::string& where) {
  std::vector<std::string> fields;
  std::string cur;
  size_t i = 0;
  while (true) {
    cur.clear();
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i < line.size() && line[i] == '"') {
      for (++i;; ++i) {
        if (i >= line.size()) throw RuntimeError(where + ": a quoted field is not closed (\")");
        if (line[i] == '"' && i + 1 < line.size() && line[i + 1] == '"') {
          cur += '"', ++i;
        } else if (line[i] == '"') {
          ++i;
          break;
        } else {
          cur += line[i];
        }
      }
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && line[i] != ',')
        throw RuntimeError(where + ": text after a closing quote (expected ',' or the end of the line)");
    } else {
      const size_t comma = line.find(',', i);
      cur = trim(line.substr(i, comma == std::string::npos ? std::string::npos : comma - i));
      i = comma == std::string::npos ? line.size() : comma;
    }
    fields.push_back(cur);
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return fields;
}

bool is_header(const std::vector<std::string>& f) {
  static const std::set<std::string> paths = {"path", "file", "filename", "image"};
  static const std::set<std::string> labels = {"label", "class", "target"};
  return f.size() == 2 && paths.count(lower(f[0])) && labels.count(lower(f[1]));
}

// A class index: digits only (no sign, no spaces), fitting int32.
bool parse_index(const std::string& s, int64_t& out) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  std::from_chars(s.data(), s.data() + s.size(), out);
  return true;
}

}  // namespace

std::vector<CsvRow> read_csv_rows(const std::string& csv_path) {
  std::ifstream in(csv_path, std::ios::binary);
  if (!in)
    throw RuntimeError(fmt::format("{}: cannot open (data.dataset csv expects <root>/train.csv and <root>/val.csv "
                                   "with rows 'path,label')",
                                   csv_path));
  const fs::path dir = fs::path(csv_path).parent_path();
  std::vector<CsvRow> rows;
  std::string line;
  int64_t number = 0;
  bool first = true;
  while (std::getline(in, line)) {
    ++number;
    if (number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 byte-order mark
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line).empty()) continue;
    const std::string where = fmt::format("{}:{}", csv_path, number);
    const std::vector<std::string> f = split_fields(line, where);
    if (first && is_header(f)) {
      first = false;
      continue;
    }
    first = false;
    if (f.size() != 2)
      throw RuntimeError(fmt::format("{}: expected 2 fields 'path,label', got {}", where, f.size()));
    if (f[0].empty()) throw RuntimeError(where + ": the image path is empty");
    if (f[1].empty()) throw RuntimeError(where + ": the label is empty (a class index or a class name)");
    const fs::path p = fs::path(f[0]).is_absolute() ? fs::path(f[0]) : dir / f[0];
    rows.push_back({p.string(), f[1], number});
  }
  if (rows.empty()) throw RuntimeError(csv_path + ": no rows (expected 'path,label' lines)");
  return rows;
}

CsvClasses csv_classes(const std::vector<CsvRow>& rows, const std::string& csv_path) {
  CsvClasses c;
  int64_t index = 0;
  c.by_index = parse_index(rows.front().label, index);
  int64_t max_index = -1;
  std::set<std::string> names;
  for (const CsvRow& r : rows) {
    if (parse_index(r.label, index) != c.by_index)
      throw RuntimeError(fmt::format("{}:{}: label '{}' is {} but line {} has {} '{}' (use class indices or class "
                                     "names, not both)",
                                     csv_path, r.line, r.label, c.by_index ? "a name" : "an index", rows.front().line,
                                     c.by_index ? "the index" : "the name", rows.front().label));
    if (c.by_index) max_index = std::max(max_index, index);
    else names.insert(r.label);
  }
  if (c.by_index)
    for (int64_t k = 0; k <= max_index; ++k) c.names.push_back(std::to_string(k));
  else
    c.names.assign(names.begin(), names.end());
  return c;
}

CsvDataset::CsvDataset(const std::string& csv_path, const CsvClasses* classes, int64_t limit, int channels,
                       const DecodeLimits& limits)
    : channels_(channels), limits_(limits) {
  const std::vector<CsvRow> rows = read_csv_rows(csv_path);
  classes_ = classes ? *classes : csv_classes(rows, csv_path);
  std::map<std::string, int32_t> by_name;
  for (size_t k = 0; k < classes_.names.size(); ++k) by_name[classes_.names[k]] = int32_t(k);
  for (const CsvRow& r : rows) {
    if (limit > 0 && int64_t(files_.size()) >= limit) break;
    const std::string where = fmt::format("{}:{}", csv_path, r.line);
    int64_t index = 0;
    const bool numeric = classes_.by_index && parse_index(r.label, index);
    auto it = by_name.find(numeric ? std::to_string(index) : r.label);
    if (it == by_name.end())
      throw RuntimeError(fmt::format("{}: label '{}' is not a class of the training set ({})", where, r.label,
                                     classes_.by_index
                                         ? fmt::format("indices 0 to {}", classes_.names.size() - 1)
                                         : fmt::format("{} names from train.csv", classes_.names.size())));
    std::error_code ec;
    if (!fs::is_regular_file(r.path, ec))
      throw RuntimeError(fmt::format("{}: image '{}' not found (paths are relative to the csv file's folder)", where,
                                     r.path));
    files_.push_back(r.path);
    labels_.push_back(it->second);
  }
}

void CsvDataset::read(int64_t i, Image& out) const {
  thread_local std::vector<uint8_t> buffer;
  load_image_file(files_[size_t(i)], out, buffer, limits_);
  if (channels_ == 1) to_grayscale(out);
}

}  // namespace cnn
