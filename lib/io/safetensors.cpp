#include "io/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include <zlib.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "io/atomic_file.h"

namespace cnn {

static_assert(std::endian::native == std::endian::little,
              "safetensors I/O assumes a little-endian host");

namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference implementation's limit
// __metadata__ key of the per-tensor CRC-32s (a JSON object {name: "8 hex digits"}).
constexpr const char* kChecksumKey = "tensor_crc32";

// ---------------------------------------------------------------------------------------------
// Reading

struct DtypeInfo {
  const char* name;
  int size;
  bool supported;
};

// Every dtype of the safetensors format, so that unsupported ones are named precisely.
constexpr DtypeInfo kDtypes[] = {
    {"F32", 4, true},      {"F64", 8, true},      {"F16", 2, true},     {"BF16", 2, true},
    {"I64", 8, true},      {"I32", 4, true},      {"I16", 2, true},     {"I8", 1, true},
    {"U64", 8, true},      {"U32", 4, true},      {"U16", 2, true},     {"U8", 1, true},
    {"BOOL", 1, true},    {"F8_E4M3", 1, false}, {"F8_E5M2", 1, false}, {"F8_E8M0", 1, false},
    {"F6_E2M3", 1, false}, {"F6_E3M2", 1, false}, {"F4", 1, false},     {"C64", 8, false},
};

const DtypeInfo* find_dtype(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

float half_to_float(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalize
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400) == 0);
      mant &= 0x3ff;
      bits = sign | uint32_t(127 - 15 - e) << 23 | mant << 13;
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | mant << 13;  // inf / nan
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  return std::bit_cast<float>(bits);
}

template <typename T>
float cast_to_float(T v) {
  return static_cast<float>(v);
}
float bf16_to_float(uint16_t v) { return std::bit_cast<float>(uint32_t(v) << 16); }
float bool_to_float(uint8_t v) { return v != 0 ? 1.0f : 0.0f; }  // any non-zero byte is true

// dst[i] = to_float(the i-th T stored at src, unaligned). Integer tensors (torchvision's
// BatchNorm `num_batches_tracked` is I64) become floats exactly up to 2^24 in magnitude, rounded
// to nearest beyond.
template <typename T, float (*to_float)(T) = cast_to_float<T>>
void convert_each(const char* src, float* dst, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, src + sizeof(T) * i, sizeof(T));
    dst[i] = to_float(v);
  }
}

// One line, printable: parser messages may quote raw header bytes.
// A JSON parser callback that records the first key repeated within one object (nlohmann keeps
// the last silently; the safetensors reference implementation refuses the file).
nlohmann::json::parser_callback_t duplicate_key_finder(std::string& duplicate) {
  auto keys = std::make_shared<std::vector<std::set<std::string>>>();
  return [keys, &duplicate](int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start) keys->emplace_back();
    else if (event == E::object_end && !keys->empty()) keys->pop_back();
    else if (event == E::key && !keys->empty() && !keys->back().insert(parsed.get<std::string>()).second &&
             duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  if (s.size() > 300) s = s.substr(0, 300) + "...";
  return s;
}

// torch.save writes a zip archive (PyTorch >= 1.6) or a bare pickle (protocol 2..5). Either one
// executes code when unpickled, so it is named and refused, never parsed.
bool is_pytorch_magic(const unsigned char* first8) {
  const bool zip = std::memcmp(first8, "PK\x03\x04", 4) == 0;
  const bool pickle = first8[0] == 0x80 && first8[1] >= 2 && first8[1] <= 5;
  return zip || pickle;
}

std::string pytorch_file_message(const std::string& path) {
  return fmt::format(
      "a PyTorch torch.save file (zip/pickle), not safetensors; cnn does not unpickle files. Save it as "
      "safetensors: python3 -c \"import torch, safetensors.torch as st; st.save_file({{k: v.contiguous() for k, v in "
      "torch.load('{0}', map_location='cpu', weights_only=True).items()}}, '{0}.safetensors')\"",
      path);
}

class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {}
  ~Reader() {
    if (fd_ >= 0) ::close(fd_);
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  [[noreturn]] void fail(const std::string& problem) const {
    throw RuntimeError(fmt::format("{}: {}", path_, problem));
  }

  void open() {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail(fmt::format("cannot open: {}", std::strerror(errno)));
    struct stat st;
    if (::fstat(fd_, &st) != 0) fail(fmt::format("cannot stat: {}", std::strerror(errno)));
    if (!S_ISREG(st.st_mode)) fail("not a regular file");
    size_ = static_cast<uint64_t>(st.st_size);
  }

  uint64_t size() const { return size_; }

  // Reads exactly `n` bytes at `offset`; a short read means the file shrank under us.
  void read_at(uint64_t offset, void* dst, uint64_t n) const {
    char* p = static_cast<char*>(dst);
    uint64_t done = 0;
    while (done < n) {
      size_t chunk = static_cast<size_t>(std::min<uint64_t>(n - done, uint64_t(1) << 30));
      ssize_t r = ::pread(fd_, p + done, chunk, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        fail(fmt::format("read error: {}", std::strerror(errno)));
      }
      if (r == 0)
        fail(fmt::format("truncated: unexpected end of file at byte {} (file changed while reading?)",
                         offset + done));
      done += static_cast<uint64_t>(r);
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

std::vector<int64_t> as_int64(const Tensor& t) {
  std::vector<int64_t> v(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int64_t>(std::llround(t.data()[i]));
  return v;
}

uint32_t crc32_of(const void* data, uint64_t n) {
  return static_cast<uint32_t>(::crc32_z(0, static_cast<const Bytef*>(data), static_cast<z_size_t>(n)));
}

// The CRC-32 of the bytes write_safetensors writes for `nt`.
uint32_t written_crc32(const NamedTensor& nt) {
  if (nt.as_i64) {
    const std::vector<int64_t> v = as_int64(*nt.tensor);
    return crc32_of(v.data(), v.size() * sizeof(int64_t));
  }
  return crc32_of(nt.tensor->data(), uint64_t(nt.tensor->numel()) * sizeof(float));
}

// The CRC-32 of every metadata key and value (but the checksums), in key order.
uint32_t metadata_crc32(const std::map<std::string, std::string>& metadata) {
  uLong crc = 0;
  for (const auto& [k, v] : metadata) {
    if (k == kChecksumKey) continue;
    crc = ::crc32_z(crc, reinterpret_cast<const Bytef*>(k.c_str()), k.size() + 1);
    crc = ::crc32_z(crc, reinterpret_cast<const Bytef*>(v.c_str()), v.size() + 1);
  }
  return static_cast<uint32_t>(crc);
}

// __metadata__[kChecksumKey] -> {tensor name: CRC-32}, or throws via `r` when it is malformed.
std::map<std::string, uint32_t> parse_checksums(const std::string& text, const Reader& r) {
  std::map<std::string, uint32_t> out;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    r.fail(fmt::format("__metadata__ '{}' is not a JSON object of CRC-32s (the checksums are corrupt)", kChecksumKey));
  }
  if (!j.is_object()) r.fail(fmt::format("__metadata__ '{}' is not a JSON object of CRC-32s", kChecksumKey));
  for (const auto& [name, v] : j.items()) {
    const std::string hex = v.is_string() ? v.get<std::string>() : "";
    uint32_t crc = 0;
    auto res = std::from_chars(hex.data(), hex.data() + hex.size(), crc, 16);
    // Exactly as written (lower case), so that no flipped bit in the digits goes unnoticed.
    if (hex.size() != 8 || res.ec != std::errc() || res.ptr != hex.data() + hex.size() ||
        fmt::format("{:08x}", crc) != hex)
      r.fail(fmt::format("__metadata__ '{}': the CRC-32 of '{}' is not 8 hex digits", kChecksumKey, one_line(name)));
    out[name] = crc;
  }
  return out;
}

struct Entry {
  std::string name;
  const DtypeInfo* dtype;
  Shape shape;
  uint64_t begin, end;
};

}  // namespace

// -----------------------------------------------------------------------------------------------

void write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata, bool checksums) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  std::map<std::string, std::string> meta_out = metadata;
  if (checksums) {
    nlohmann::ordered_json crcs = nlohmann::ordered_json::object();
    crcs["__metadata__"] = fmt::format("{:08x}", metadata_crc32(meta_out));
    for (const auto& nt : tensors)
      if (nt.tensor) crcs[nt.name] = fmt::format("{:08x}", written_crc32(nt));
    meta_out[kChecksumKey] = crcs.dump();
  }
  if (!meta_out.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : meta_out) meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const auto& nt : tensors) {
    if (nt.name == "__metadata__" || nt.name.empty())
      throw RuntimeError(fmt::format("cannot write '{}': invalid tensor name '{}'", path, nt.name));
    if (!seen.insert(nt.name).second)
      throw RuntimeError(fmt::format("cannot write '{}': duplicate tensor name '{}'", path, nt.name));
    if (!nt.tensor || nt.tensor->numel() != numel_of(nt.tensor->shape()))
      throw RuntimeError(
          fmt::format("cannot write '{}': tensor '{}' is not allocated", path, nt.name));
    uint64_t bytes = static_cast<uint64_t>(nt.tensor->numel()) * (nt.as_i64 ? sizeof(int64_t) : sizeof(float));
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    entry["dtype"] = nt.as_i64 ? "I64" : "F32";
    entry["shape"] = nt.tensor->shape();
    entry["data_offsets"] = {offset, offset + bytes};
    header[nt.name] = std::move(entry);
    offset += bytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {  // e.g. a name or metadata value not UTF-8
    throw RuntimeError(fmt::format("cannot write '{}': {}", path, one_line(e.what())));
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  uint64_t header_len = text.size();
  unsigned char len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>(header_len >> (8 * i));

  atomic_write(path, [&](int fd) {
    if (!write_all(fd, len_bytes, 8) || !write_all(fd, text.data(), text.size())) return false;
    for (const auto& nt : tensors) {
      if (nt.tensor->numel() == 0) continue;
      if (nt.as_i64) {
        const std::vector<int64_t> v = as_int64(*nt.tensor);
        if (!write_all(fd, v.data(), v.size() * sizeof(int64_t))) return false;
        continue;
      }
      if (!write_all(fd, nt.tensor->data(), static_cast<size_t>(nt.tensor->numel()) * sizeof(float)))
        return false;
    }
    return true;
  });
}

namespace {

// The header: the 8-byte length, then that many bytes of a JSON object. Files of torch.save are
// named as such; sizes are checked against the file before anything is read.
nlohmann::json read_header(const Reader& r, const std::string& path, uint64_t& header_len) {
  const uint64_t file_size = r.size();
  if (file_size < 8)
    r.fail(fmt::format("not a safetensors file: {} bytes, shorter than the 8-byte header length",
                       file_size));
  unsigned char len_bytes[8];
  r.read_at(0, len_bytes, 8);
  header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= uint64_t(len_bytes[i]) << (8 * i);
  if (is_pytorch_magic(len_bytes)) {  // unless it is a valid safetensors header that happens to start so
    char brace = 0;
    if (file_size > 8) r.read_at(8, &brace, 1);
    if (header_len > file_size - 8 || brace != '{') r.fail(pytorch_file_message(path));
  }
  if (header_len > kMaxHeaderBytes)
    r.fail(fmt::format("not a safetensors file: header length {} is absurd (limit {})", header_len,
                       kMaxHeaderBytes));
  if (header_len > file_size - 8)
    r.fail(fmt::format("truncated: header length {} exceeds the {} bytes after the length field",
                       header_len, file_size - 8));

  std::string text(header_len, '\0');
  if (header_len) r.read_at(8, text.data(), header_len);
  if (text.empty() || text[0] != '{')  // the reference implementation's check: an object first
    r.fail("header is not a JSON object (it does not start with '{')");
  if (text.find('\0') != std::string::npos)  // the JSON parser would stop there and ignore the rest
    r.fail(fmt::format("header has a NUL byte at offset {}", text.find('\0')));
  nlohmann::json header;
  std::string duplicate;
  try {
    header = nlohmann::json::parse(text, duplicate_key_finder(duplicate));
  } catch (const nlohmann::json::exception& e) {
    r.fail("header is not valid JSON: " + one_line(e.what()));
  }
  if (!duplicate.empty()) r.fail(fmt::format("duplicate key '{}' in the header", one_line(duplicate)));
  if (!header.is_object()) r.fail("header is not a JSON object");
  return header;
}

// One tensor's header entry {dtype, shape, data_offsets}: a known, supported dtype, and offsets
// that span exactly the bytes of the shape.
Entry parse_entry(const std::string& name, const nlohmann::json& value, const Reader& r) {
  auto bad = [&](const std::string& what) {
    r.fail(fmt::format("tensor '{}': {}", one_line(name), what));
  };
  if (!value.is_object()) bad("entry is not an object");
  auto dt = value.find("dtype");
  auto sh = value.find("shape");
  auto of = value.find("data_offsets");
  if (dt == value.end()) bad("missing 'dtype'");
  if (sh == value.end()) bad("missing 'shape'");
  if (of == value.end()) bad("missing 'data_offsets'");
  if (!dt->is_string()) bad("'dtype' is not a string");
  Entry e;
  e.name = name;
  std::string dname = dt->get<std::string>();
  e.dtype = find_dtype(dname);
  if (!e.dtype) bad(fmt::format("unknown dtype '{}'", one_line(dname)));
  if (!e.dtype->supported)
    bad(fmt::format("unsupported dtype {} (supported: F32, F64, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL)", dname));
  if (!sh->is_array()) bad("'shape' is not an array");
  // numel * element size, refusing products beyond 2^62 bytes so nothing overflows.
  uint64_t nbytes = static_cast<uint64_t>(e.dtype->size);
  bool huge = false, zero = false;
  for (const auto& d : *sh) {
    if (!d.is_number_unsigned()) bad("'shape' must hold non-negative integers");
    uint64_t v = d.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) bad("dimension too large");
    e.shape.push_back(static_cast<int64_t>(v));
    if (v != 0 && nbytes > (uint64_t(1) << 62) / v) huge = true;
    else if (v != 0) nbytes *= v;
    else zero = true;
  }
  if (!of->is_array() || of->size() != 2 || !(*of)[0].is_number_unsigned() ||
      !(*of)[1].is_number_unsigned())
    bad("'data_offsets' must be [begin, end] with non-negative integers");
  e.begin = (*of)[0].get<uint64_t>();
  e.end = (*of)[1].get<uint64_t>();
  if (e.begin > e.end) bad(fmt::format("bad data_offsets [{}, {}]: begin > end", e.begin, e.end));
  if (zero && !huge) nbytes = 0;
  if (huge || e.end - e.begin != nbytes)
    bad(fmt::format("data_offsets [{}, {}] span {} bytes but shape [{}] of {} needs {}", e.begin,
                    e.end, e.end - e.begin, fmt::join(e.shape, ", "), dname,
                    huge ? std::string("more than 2^62") : std::to_string(nbytes)));
  return e;
}

// Sorts the entries by offset and checks, as the reference implementation, that they tile the
// `available` data bytes exactly, from byte 0 to the end of the file (no overlap, no gap,
// nothing after).
void check_tiling(std::vector<Entry>& entries, uint64_t available, const Reader& r) {
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t declared = 0;        // the largest end offset so far
  const Entry* last = nullptr;  // the entry that reaches `declared`
  for (const auto& e : entries) {
    if (last && e.begin < declared)
      r.fail(fmt::format("tensors '{}' [{}, {}] and '{}' [{}, {}] overlap", one_line(last->name),
                         last->begin, last->end, one_line(e.name), e.begin, e.end));
    if (e.begin > declared)
      r.fail(fmt::format("data_offsets leave a gap: no tensor covers data bytes [{}, {}) (before '{}')",
                         declared, e.begin, one_line(e.name)));
    if (!last || e.end >= declared) {
      last = &e;
      declared = e.end;
    }
  }
  if (declared > available)
    r.fail(fmt::format("truncated: header declares {} data bytes, file has {}", declared,
                       available));
  if (declared < available)
    r.fail(fmt::format("{} trailing bytes after the {} data bytes the header declares", available - declared,
                       declared));
}

// Our checkpoints carry a CRC-32 per tensor in the metadata: takes them out of `metadata`, checks
// the metadata's own and that every tensor has one. None for files without them (PyTorch's).
std::optional<std::map<std::string, uint32_t>> take_checksums(std::map<std::string, std::string>& metadata,
                                                              const std::vector<Entry>& entries, const Reader& r) {
  const auto crc_it = metadata.find(kChecksumKey);
  if (crc_it == metadata.end()) return std::nullopt;
  std::map<std::string, uint32_t> checksums = parse_checksums(crc_it->second, r);
  metadata.erase(crc_it);
  if (auto m = checksums.find("__metadata__"); m != checksums.end()) {
    const uint32_t crc = metadata_crc32(metadata);
    if (crc != m->second)
      r.fail(fmt::format("__metadata__: checksum mismatch (CRC-32 {:08x}, recorded {:08x}): the file is corrupt", crc,
                         m->second));
    checksums.erase(m);
  }
  for (const auto& e : entries)
    if (!checksums.count(e.name))
      r.fail(fmt::format("tensor '{}' has no CRC-32 in __metadata__ '{}' (the file was altered)", one_line(e.name),
                         kChecksumKey));
  if (checksums.size() != entries.size())
    r.fail(fmt::format("__metadata__ '{}' lists {} tensors, the file has {} (the file was altered)", kChecksumKey,
                       checksums.size(), entries.size()));
  return checksums;
}

// `n` values of dtype `dname` (not F32) at `src` as floats.
void convert_to_float(const std::string& dname, const char* src, float* dst, uint64_t n) {
  if (dname == "F64") convert_each<double>(src, dst, n);
  else if (dname == "F16") convert_each<uint16_t, half_to_float>(src, dst, n);
  else if (dname == "BF16") convert_each<uint16_t, bf16_to_float>(src, dst, n);
  else if (dname == "I64") convert_each<int64_t>(src, dst, n);
  else if (dname == "I32") convert_each<int32_t>(src, dst, n);
  else if (dname == "I16") convert_each<int16_t>(src, dst, n);
  else if (dname == "I8") convert_each<int8_t>(src, dst, n);
  else if (dname == "U64") convert_each<uint64_t>(src, dst, n);
  else if (dname == "U32") convert_each<uint32_t>(src, dst, n);
  else if (dname == "U16") convert_each<uint16_t>(src, dst, n);
  else if (dname == "U8") convert_each<uint8_t>(src, dst, n);
  else convert_each<uint8_t, bool_to_float>(src, dst, n);  // BOOL
}

}  // namespace

SafetensorsFile read_safetensors(const std::string& path) {
  Reader r(path);
  r.open();
  uint64_t header_len = 0;
  const nlohmann::json header = read_header(r, path, header_len);

  SafetensorsFile out;
  std::vector<Entry> entries;
  for (const auto& item : header.items()) {
    const std::string& name = item.key();
    const nlohmann::json& value = item.value();
    if (name != "__metadata__") {
      entries.push_back(parse_entry(name, value, r));
      continue;
    }
    if (!value.is_object()) r.fail("__metadata__ is not an object");
    for (const auto& [k, v] : value.items()) {
      if (!v.is_string()) r.fail(fmt::format("__metadata__ value '{}' is not a string", k));
      out.metadata[k] = v.get<std::string>();
    }
  }
  const uint64_t data_start = 8 + header_len;
  check_tiling(entries, r.size() - data_start, r);

  const std::optional<std::map<std::string, uint32_t>> checksums = take_checksums(out.metadata, entries, r);
  auto verify = [&](const Entry& e, const void* bytes, uint64_t n) {
    if (!checksums) return;
    const uint32_t crc = crc32_of(bytes, n), want = checksums->at(e.name);
    if (crc != want)
      r.fail(fmt::format("tensor '{}': checksum mismatch (data CRC-32 {:08x}, recorded {:08x}): the file is corrupt",
                         one_line(e.name), crc, want));
  };

  out.checksummed = checksums.has_value();
  std::vector<char> scratch;
  for (const auto& e : entries) {
    Tensor t;
    t.resize(e.shape);
    const uint64_t n = static_cast<uint64_t>(t.numel());
    if (n == 0) {
      verify(e, nullptr, 0);
    } else if (std::string(e.dtype->name) == "F32") {
      r.read_at(data_start + e.begin, t.data(), n * 4);
      verify(e, t.data(), n * 4);
    } else {
      scratch.resize(static_cast<size_t>(e.end - e.begin));
      r.read_at(data_start + e.begin, scratch.data(), scratch.size());
      verify(e, scratch.data(), scratch.size());
      convert_to_float(e.dtype->name, scratch.data(), t.data(), n);
    }
    out.order.push_back(e.name);
    out.tensors.emplace(e.name, std::move(t));
  }
  return out;
}

}  // namespace cnn
