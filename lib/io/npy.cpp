#include "io/npy.h"

#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sys/stat.h>

#include <fmt/format.h>

#include "core/error.h"
#include "io/safetensors.h"

namespace cnn {

static_assert(std::endian::native == std::endian::little, ".npy I/O assumes a little-endian host");

namespace {

constexpr char kMagic[] = "\x93NUMPY";  // 6 bytes
constexpr size_t kMagicLen = 6;
// numpy.lib.format refuses longer headers unless told otherwise (a header needs ~40 bytes plus
// ~20 per dimension); it is also what keeps a hostile length from sizing an allocation.
constexpr uint64_t kMaxHeaderBytes = 10000;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw RuntimeError(fmt::format("{}: {}", path, problem));
}

std::string printable(std::string s) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  if (s.size() > 120) s = s.substr(0, 120) + "...";
  return s;
}

// The header is a Python dict literal. This reads its top level into key -> raw value text,
// skipping over any nested value (strings, tuples, lists, dicts) without interpreting it.
class DictParser {
 public:
  DictParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  std::map<std::string, std::string> parse() {
    std::map<std::string, std::string> out;
    ws();
    expect('{');
    for (;;) {
      ws();
      if (peek() == '}') {
        ++i_;
        break;
      }
      std::string key = string_literal();
      ws();
      expect(':');
      ws();
      size_t begin = i_;
      skip_value();
      std::string value = s_.substr(begin, i_ - begin);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
      out[key] = value;
      ws();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      ws();
      expect('}');
      break;
    }
    ws();
    if (i_ != s_.size()) bad("unexpected text after the dict");
    return out;
  }

  // "'<f4'" -> "<f4"; false if `raw` is not one string literal.
  static bool unquote(const std::string& raw, std::string& out) {
    if (raw.size() < 2 || (raw[0] != '\'' && raw[0] != '"') || raw.back() != raw[0]) return false;
    out = raw.substr(1, raw.size() - 2);
    return out.find(raw[0]) == std::string::npos && out.find('\\') == std::string::npos;
  }

 private:
  [[noreturn]] void bad(const std::string& what) const {
    fail(path_, fmt::format("header is not a valid .npy dict ({} at offset {}): {}", what, i_, printable(s_)));
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  void expect(char c) {
    if (peek() != c) bad(fmt::format("expected '{}'", c));
    ++i_;
  }
  std::string string_literal() {
    char q = peek();
    if (q != '\'' && q != '"') bad("expected a quoted key");
    size_t begin = ++i_;
    while (i_ < s_.size() && s_[i_] != q) {
      if (s_[i_] == '\\') ++i_;
      ++i_;
    }
    if (i_ >= s_.size()) bad("unterminated string");
    return s_.substr(begin, i_++ - begin);
  }
  void skip_value() {
    int depth = 0;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '\'' || c == '"') {
        string_literal();
        continue;
      }
      if (c == '(' || c == '[' || c == '{') ++depth;
      else if (c == ')' || c == ']' || c == '}') {
        if (depth == 0) return;  // the closing brace of the dict itself
        --depth;
      } else if (c == ',' && depth == 0) {
        return;
      }
      ++i_;
    }
    if (depth != 0) bad("unbalanced brackets");
  }

  const std::string& s_;
  const std::string& path_;
  size_t i_ = 0;
};

// "(2, 3)" / "(5,)" / "()" -> dims.
bool parse_shape(const std::string& raw, Shape& out) {
  if (raw.size() < 2 || raw.front() != '(' || raw.back() != ')') return false;
  out.clear();
  size_t i = 1;
  const size_t end = raw.size() - 1;
  auto ws = [&] {
    while (i < end && raw[i] == ' ') ++i;
  };
  ws();
  while (i < end) {
    if (raw[i] < '0' || raw[i] > '9') return false;
    uint64_t v = 0;
    while (i < end && raw[i] >= '0' && raw[i] <= '9') {
      if (v > uint64_t(std::numeric_limits<int64_t>::max()) / 10) return false;
      v = v * 10 + uint64_t(raw[i++] - '0');
    }
    if (i < end && raw[i] == 'L') ++i;  // Python 2 longs
    out.push_back(static_cast<int64_t>(v));
    ws();
    if (i < end) {
      if (raw[i] != ',') return false;
      ++i;
      ws();
    }
  }
  // A one-element tuple needs its trailing comma: "(5)" is not a tuple.
  if (out.size() == 1 && raw.find(',') == std::string::npos) return false;
  return true;
}

// '<f8' -> "float64" (for messages).
std::string dtype_name(const std::string& descr) {
  if (descr.size() < 2) return "";
  std::string kind = descr.substr(1);
  static const std::map<std::string, std::string> names = {
      {"f2", "float16"}, {"f4", "float32"},  {"f8", "float64"}, {"f16", "float128"}, {"i1", "int8"},
      {"i2", "int16"},   {"i4", "int32"},    {"i8", "int64"},   {"u1", "uint8"},     {"u2", "uint16"},
      {"u4", "uint32"},  {"u8", "uint64"},   {"b1", "bool"},    {"c8", "complex64"}, {"c16", "complex128"},
      {"O", "object"},   {"V", "void"},
  };
  auto it = names.find(kind);
  return it == names.end() ? "" : it->second;
}

}  // namespace

Tensor read_npy(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);

  char pre[12];
  const size_t got = static_cast<size_t>(in.read(pre, 10).gcount());
  if (got < kMagicLen || std::memcmp(pre, kMagic, kMagicLen) != 0)
    fail(path, "not a .npy file (it does not start with \\x93NUMPY)");
  if (got < 10) fail(path, fmt::format("truncated: {} bytes, shorter than the .npy preamble", file_size));
  const int major = static_cast<unsigned char>(pre[6]), minor = static_cast<unsigned char>(pre[7]);
  uint64_t header_len = 0, prefix = 0;
  if (major == 1) {
    header_len = uint64_t(static_cast<unsigned char>(pre[8])) | uint64_t(static_cast<unsigned char>(pre[9])) << 8;
    prefix = 10;
  } else if (major == 2 || major == 3) {
    if (in.read(pre + 10, 2).gcount() < 2)
      fail(path, fmt::format("truncated: {} bytes, shorter than the .npy preamble", file_size));
    for (int i = 0; i < 4; ++i) header_len |= uint64_t(static_cast<unsigned char>(pre[8 + i])) << (8 * i);
    prefix = 12;
  } else {
    fail(path, fmt::format("unsupported .npy format version {}.{} (supported: 1.0, 2.0, 3.0)", major, minor));
  }
  if (header_len > kMaxHeaderBytes)
    fail(path, fmt::format("header length {} is over the limit of {} bytes (numpy's max_header_size)", header_len,
                           kMaxHeaderBytes));
  if (header_len > file_size - prefix)
    fail(path, fmt::format("truncated: header length {} exceeds the {} bytes after the preamble", header_len,
                           file_size - prefix));
  std::string header(header_len, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_len));
  if (static_cast<uint64_t>(in.gcount()) != header_len) fail(path, "truncated header (file changed while reading?)");

  std::map<std::string, std::string> dict = DictParser(header, path).parse();
  for (const char* key : {"descr", "fortran_order", "shape"})
    if (!dict.count(key)) fail(path, fmt::format("header has no '{}': {}", key, printable(header)));
  std::string descr;
  if (!DictParser::unquote(dict["descr"], descr))
    fail(path, fmt::format("structured dtype {} is not supported: cnn reads float32 arrays only",
                           printable(dict["descr"])));
  bool swap = false;
  if (descr == "<f4") {
  } else if (descr == ">f4") {
    swap = true;
  } else {
    std::string name = dtype_name(descr);
    fail(path, fmt::format("dtype {}'{}' is not supported: cnn reads float32 arrays only (save a.astype(np.float32))",
                           name.empty() ? "" : name + " ", printable(descr)));
  }
  if (dict["fortran_order"] == "True")
    fail(path, "Fortran-order arrays are not supported: save a C-order array (np.ascontiguousarray(a))");
  if (dict["fortran_order"] != "False")
    fail(path, fmt::format("'fortran_order' is {}, not True or False", printable(dict["fortran_order"])));
  Shape shape;
  if (!parse_shape(dict["shape"], shape))
    fail(path, fmt::format("'shape' {} is not a tuple of non-negative integers", printable(dict["shape"])));

  // numel * 4, refusing products beyond 2^62 bytes so nothing overflows.
  uint64_t nbytes = 4;
  bool zero = false;
  for (int64_t d : shape) {
    if (d == 0) zero = true;
    else if (nbytes > (uint64_t(1) << 62) / uint64_t(d))
      fail(path, fmt::format("shape ({}) is too large", shape_str(shape)));
    else nbytes *= uint64_t(d);
  }
  if (zero) nbytes = 0;
  const uint64_t available = file_size - prefix - header_len;
  if (available < nbytes)
    fail(path, fmt::format("truncated: shape ({}) of float32 needs {} data bytes, file has {}", shape_str(shape), nbytes,
                           available));
  if (available > nbytes)
    fail(path, fmt::format("{} trailing bytes after the data of shape ({}) (not a .npy file written by numpy?)",
                           available - nbytes, shape_str(shape)));

  Tensor t(shape);
  if (nbytes > 0) {
    in.read(reinterpret_cast<char*>(t.data()), static_cast<std::streamsize>(nbytes));
    if (static_cast<uint64_t>(in.gcount()) != nbytes) fail(path, "truncated data (file changed while reading?)");
    if (swap) {
      auto* words = reinterpret_cast<uint32_t*>(t.data());
      for (int64_t i = 0; i < t.numel(); ++i) words[i] = __builtin_bswap32(words[i]);
    }
  }
  return t;
}

void write_npy(const std::string& path, const Tensor& t) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < t.ndim(); ++i) dict += std::to_string(t.dim(i)) + ", ";
  if (t.ndim() > 1) dict.resize(dict.size() - 2);  // "(2, 3)"; one dim keeps its comma: "(5,)"
  else if (t.ndim() == 1) dict.pop_back();
  dict += "), }";
  // Pad with spaces so that the data starts at a multiple of 64 bytes; end with '\n'.
  size_t prefix = 10;
  int major = 1;
  if (dict.size() + 1 + 64 > 65535) {
    prefix = 12;
    major = 2;
  }
  size_t total = prefix + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  const uint64_t header_len = dict.size();

  std::string out(kMagic, kMagicLen);
  out += static_cast<char>(major);
  out += '\0';
  for (size_t i = 0; i < prefix - 8; ++i) out += static_cast<char>(header_len >> (8 * i));
  out += dict;
  if (t.numel() > 0) out.append(reinterpret_cast<const char*>(t.data()), static_cast<size_t>(t.numel()) * sizeof(float));
  write_file_atomic(path, out);
}

}  // namespace cnn
