#pragma once
// Datasets listed in CSV files (data.dataset: csv): <root>/train.csv and <root>/val.csv, one image
// a row as `path,label`. The path is relative to the CSV file's folder (or absolute); the label is
// a class index (0..K-1, every row of the file) or a class name (every row; the classes are then
// the names sorted, label = position, as ImageFolder's folders). A first row whose fields are
// `path,label` (also file/filename/image and class/target, any case) is a header. Fields may be
// double-quoted ("a,b.jpg", "" for a quote). Every problem names file:line.
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/decode.h"

namespace cnn {

// The classes of a CSV file: indices 0..K-1 or sorted names.
struct CsvClasses {
  bool by_index = false;
  std::vector<std::string> names;  // by_index: "0".."K-1"
};

// One parsed row: the image path (resolved against the CSV's folder), its label text, its line.
struct CsvRow {
  std::string path, label;
  int64_t line = 0;
};

// Parses a CSV file's rows (header dropped); RuntimeError "<file>:<line>: ..." on bad rows, a
// missing file or one without rows.
std::vector<CsvRow> read_csv_rows(const std::string& csv_path);
// The classes the rows' labels define (an error naming file:line when they mix indices and names).
CsvClasses csv_classes(const std::vector<CsvRow>& rows, const std::string& csv_path);

class CsvDataset : public Dataset {
 public:
  // `classes`: those of the training CSV (labels of `csv_path` must be among them), or null for
  // the file's own. `channels`: 3 (RGB, as PIL's convert("RGB")) or 1 (convert("L")). Image files
  // must exist (checked here, naming file:line). `limit` > 0 keeps the first rows.
  CsvDataset(const std::string& csv_path, const CsvClasses* classes, int64_t limit, int channels,
             const DecodeLimits& limits = {});

  int64_t size() const override { return int64_t(files_.size()); }
  int32_t label(int64_t i) const override { return labels_[size_t(i)]; }
  int num_classes() const override { return int(classes_.names.size()); }
  const std::vector<std::string>& class_names() const override { return classes_.names; }
  int64_t channels() const override { return channels_; }
  void read(int64_t i, Image& out) const override;
  std::string sample_name(int64_t i) const override { return files_[size_t(i)]; }

 private:
  CsvClasses classes_;
  std::vector<std::string> files_;
  std::vector<int32_t> labels_;
  int channels_ = 3;
  DecodeLimits limits_;
};

}  // namespace cnn
