#pragma once
// safetensors: 8-byte little-endian header length, JSON header
// {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}},
// then the raw little-endian data. Writes are atomic: temp file in the same directory, fsync,
// rename, fsync of the directory. Reads validate everything and refuse truncated or corrupt files
// with a RuntimeError naming the file and the problem.
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/atomic_file.h"  // write_file_atomic

namespace cnn {

struct NamedTensor {
  std::string name;
  const Tensor* tensor;
  bool as_i64 = false;  // write as I64 (values rounded), e.g. PyTorch's num_batches_tracked
};

struct SafetensorsFile {
  // Held as float: F64/F16/BF16 and the integer dtypes (I64/I32/I16/I8, U64/U32/U16/U8, BOOL as
  // 0/1) are converted on reading; writes are F32 (I64 for tensors marked as_i64).
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;    // __metadata__
  std::vector<std::string> order;                 // tensor names in file order
  bool checksummed = false;                       // every tensor's CRC-32 was recorded and matched
};

// With `checksums`, __metadata__ "tensor_crc32" holds a CRC-32 of each tensor's bytes (as JSON
// {name: "8 hex digits"}); read_safetensors verifies them when present (and drops the key from
// the metadata it returns), so a flipped bit is named; files without them read as before.
void write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {}, bool checksums = false);
SafetensorsFile read_safetensors(const std::string& path);


}  // namespace cnn
