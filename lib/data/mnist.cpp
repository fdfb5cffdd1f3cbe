#include "data/mnist.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "core/error.h"

namespace cnn {

namespace {

constexpr uint32_t kImagesMagic = 2051;  // 0x00000803: unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 2049;  // 0x00000801: unsigned bytes, 1 dimension

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw RuntimeError(fmt::format("{}: {}", path, problem));
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string read_raw(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) fail(path, "not found");
    fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, "not a regular file");
  }
  std::string data;
  data.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      fail(path, fmt::format("read error: {}", std::strerror(err)));
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return data;
}

bool is_gzip(const std::string& data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
         static_cast<unsigned char>(data[1]) == 0x8b;
}

// What gunzip does when the stream inflates to more than `limit` bytes.
enum class OverLimit { stop, fail };

// Inflates one or more concatenated gzip members, at most `limit` bytes: a decompression bomb
// inflates no further than the size its IDX header can legitimately need. With OverLimit::stop
// the first `limit` bytes are returned (to read a header); with OverLimit::fail more output is
// an error. A stream that ends early or fails its CRC check throws.
std::string gunzip(const std::string& path, const std::string& in, uint64_t limit, OverLimit over) {
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, 15 + 16) != Z_OK) fail(path, "zlib: cannot initialize inflate");
  std::string out;
  // ISIZE (the last 4 bytes) is the uncompressed size mod 2^32: a good first guess, trusted
  // only within deflate's maximum ratio (a truncated file ends in arbitrary bytes).
  uint64_t guess = uint64_t(in.size()) * 4;
  if (in.size() >= 18) {
    const auto* t = reinterpret_cast<const unsigned char*>(in.data() + in.size() - 4);
    const uint64_t isize = t[0] | t[1] << 8 | t[2] << 16 | uint64_t(t[3]) << 24;
    if (isize > 0 && isize <= uint64_t(in.size()) * 1032) guess = isize;
  }
  // One byte past the limit tells "more than allowed" from "exactly the limit".
  const uint64_t cap = limit == std::numeric_limits<uint64_t>::max() ? limit : limit + 1;
  out.resize(static_cast<size_t>(std::min<uint64_t>(std::max<uint64_t>(guess, 1024), cap)));
  size_t produced = 0;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  size_t in_left = in.size();
  for (;;) {
    if (produced == out.size()) {
      if (produced >= cap) break;
      out.resize(static_cast<size_t>(std::min<uint64_t>(uint64_t(out.size()) * 2, cap)));
    }
    const uInt in_chunk = static_cast<uInt>(std::min<size_t>(in_left, 1u << 30));
    const uInt out_chunk = static_cast<uInt>(std::min<size_t>(out.size() - produced, 1u << 30));
    zs.avail_in = in_chunk;
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = out_chunk;
    int rc = inflate(&zs, Z_NO_FLUSH);
    in_left -= in_chunk - zs.avail_in;
    produced += out_chunk - zs.avail_out;
    if (rc == Z_STREAM_END) {
      // Another gzip member may follow (as `cat a.gz b.gz` makes); anything else is ignored,
      // like gzip's "trailing garbage".
      if (in_left >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
        inflateReset(&zs);
        continue;
      }
      break;
    }
    if (rc == Z_OK) continue;
    // Z_BUF_ERROR with output space left: the input ran out before the end of the stream.
    if (rc == Z_BUF_ERROR && produced < out.size()) {
      inflateEnd(&zs);
      fail(path, fmt::format("truncated gzip stream: compressed data ends early ({} bytes "
                             "decompressed so far); re-download the file",
                             produced));
    }
    if (rc == Z_BUF_ERROR) continue;  // out of output space: grow (or stop at the cap) above
    std::string msg = zs.msg ? zs.msg : fmt::format("zlib error {}", rc);
    inflateEnd(&zs);
    fail(path, fmt::format("corrupt gzip data: {}", msg));
  }
  inflateEnd(&zs);
  if (produced > limit) {
    if (over == OverLimit::fail)
      fail(path, fmt::format("decompresses to more than the {} bytes its IDX header declares "
                             "(a decompression bomb or trailing data); not an MNIST IDX file?",
                             limit));
    produced = static_cast<size_t>(limit);
  }
  out.resize(produced);
  return out;
}

// Reads an IDX file, raw or gzip'd. `header_bytes` of the (decompressed) file are enough for
// `expected_size` to tell the whole file's size (it throws on a bad header); a gzip'd file
// inflates no further than that. `was_gz` is set for messages.
template <typename ExpectedSize>
std::string read_idx(const std::string& path, uint64_t header_bytes, ExpectedSize expected_size, bool* was_gz) {
  std::string data = read_raw(path);
  *was_gz = is_gzip(data);
  if (!*was_gz) {
    if (data.size() >= header_bytes) expected_size(data);
    return data;
  }
  std::string head = gunzip(path, data, header_bytes, OverLimit::stop);
  if (head.size() < header_bytes) return head;  // the caller reports the truncation
  return gunzip(path, data, expected_size(head), OverLimit::fail);
}

uint32_t be32(const std::string& d, size_t off) {
  const auto* p = reinterpret_cast<const unsigned char*>(d.data() + off);
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

// `<root>/<stem>` or its `.gz`, or the dot variant (`train-images.idx3-ubyte`); "" if none.
std::string find_idx(const std::string& root, const std::string& split, const std::string& kind,
                     const std::string& idx) {
  const std::string dir = root.empty() ? std::string(".") : root;
  for (const std::string& stem :
       {split + "-" + kind + "-" + idx + "-ubyte", split + "-" + kind + "." + idx + "-ubyte"}) {
    for (const char* ext : {"", ".gz"}) {
      std::string p = dir + "/" + stem + ext;
      if (file_exists(p)) return p;
    }
  }
  return "";
}

std::string size_problem(uint64_t expected, uint64_t got, bool gz) {
  const char* after = gz ? " after decompression" : "";
  if (got < expected)
    return fmt::format("truncated: expected {} bytes{}, got {}", expected, after, got);
  return fmt::format("expected {} bytes{}, got {} (trailing data: not an MNIST IDX file?)",
                     expected, after, got);
}

std::string magic_problem(uint32_t magic, uint32_t expected, const char* what) {
  std::string hint;
  if (magic == kImagesMagic) hint = " (this is an IDX image file)";
  else if (magic == kLabelsMagic) hint = " (this is an IDX label file)";
  else if ((magic & 0xffff) == 0x8b1f) hint = " (gzip data inside gzip?)";
  return fmt::format("bad magic number {} (0x{:08x}), expected {} for an IDX {} file{}", magic,
                     magic, expected, what, hint);
}

}  // namespace

std::string read_maybe_gz(const std::string& path) {
  std::string data = read_raw(path);
  if (is_gzip(data)) return gunzip(path, data, std::numeric_limits<uint64_t>::max(), OverLimit::fail);
  return data;
}

ImageDataset load_mnist(const std::string& root, const std::string& split, bool fashion,
                        int64_t limit) {
  const char* family = fashion ? "Fashion-MNIST" : "MNIST";
  const std::string dir = root.empty() ? std::string(".") : root;
  auto not_found = [&](const std::string& stem) {
    throw RuntimeError(
        fmt::format("{}/{}[.gz]: not found (expected {} IDX files in {}; see datasets/README.md)",
                    dir, stem, family, dir));
  };
  const std::string images_path = find_idx(root, split, "images", "idx3");
  if (images_path.empty()) not_found(split + "-images-idx3-ubyte");
  const std::string labels_path = find_idx(root, split, "labels", "idx1");
  if (labels_path.empty()) not_found(split + "-labels-idx1-ubyte");

  // Images: magic, N, rows, cols (big-endian u32), then N*rows*cols bytes.
  auto images_size = [&](const std::string& h) -> uint64_t {
    if (be32(h, 0) != kImagesMagic) fail(images_path, magic_problem(be32(h, 0), kImagesMagic, "image"));
    const uint64_t n = be32(h, 4), rows = be32(h, 8), cols = be32(h, 12);
    if (n == 0) fail(images_path, "header declares 0 images");
    if (rows == 0 || cols == 0)
      fail(images_path, fmt::format("bad image size {}x{} in the header", rows, cols));
    const uint64_t image_bytes = rows * cols;  // < 2^64: both < 2^32
    if (image_bytes > (uint64_t(1) << 40) / n)
      fail(images_path, fmt::format("header declares an absurd size: {} images of {}x{}", n, rows, cols));
    return 16 + n * image_bytes;
  };
  bool gz = false;
  std::string img = read_idx(images_path, 16, images_size, &gz);
  if (img.size() >= 4 && be32(img, 0) != kImagesMagic)
    fail(images_path, magic_problem(be32(img, 0), kImagesMagic, "image"));
  if (img.size() < 16)
    fail(images_path, fmt::format("truncated: expected at least 16 bytes of IDX header{}, got {}",
                                  gz ? " after decompression" : "", img.size()));
  const uint64_t img_expected = images_size(img);
  if (img.size() != img_expected) fail(images_path, size_problem(img_expected, img.size(), gz));
  const uint64_t n = be32(img, 4), rows = be32(img, 8), cols = be32(img, 12);
  const uint64_t image_bytes = rows * cols;

  // Labels: magic, N (big-endian u32), then N bytes.
  auto labels_size = [&](const std::string& h) -> uint64_t {
    if (be32(h, 0) != kLabelsMagic) fail(labels_path, magic_problem(be32(h, 0), kLabelsMagic, "label"));
    const uint64_t nl = be32(h, 4);
    if (nl != n) fail(labels_path, fmt::format("{} labels, but {} has {} images", nl, images_path, n));
    return 8 + nl;
  };
  std::string lab = read_idx(labels_path, 8, labels_size, &gz);
  if (lab.size() >= 4 && be32(lab, 0) != kLabelsMagic)
    fail(labels_path, magic_problem(be32(lab, 0), kLabelsMagic, "label"));
  if (lab.size() < 8)
    fail(labels_path, fmt::format("truncated: expected at least 8 bytes of IDX header{}, got {}",
                                  gz ? " after decompression" : "", lab.size()));
  const uint64_t lab_expected = labels_size(lab);
  if (lab.size() != lab_expected) fail(labels_path, size_problem(lab_expected, lab.size(), gz));

  const uint64_t keep = limit > 0 ? std::min<uint64_t>(n, static_cast<uint64_t>(limit)) : n;
  ImageDataset ds;
  ds.count = static_cast<int64_t>(keep);
  ds.channels = 1;
  ds.height = static_cast<int64_t>(rows);
  ds.width = static_cast<int64_t>(cols);
  ds.labels.resize(keep);
  for (uint64_t i = 0; i < n; ++i) {  // validate every label, even beyond `limit`
    const unsigned v = static_cast<unsigned char>(lab[8 + i]);
    if (v >= 10)
      fail(labels_path,
           fmt::format("label {} at index {} is out of range (expected 0..9)", v, i));
    if (i < keep) ds.labels[i] = static_cast<int32_t>(v);
  }
  ds.pixels.assign(reinterpret_cast<const uint8_t*>(img.data()) + 16,
                   reinterpret_cast<const uint8_t*>(img.data()) + 16 + keep * image_bytes);
  ds.num_classes = 10;
  ds.class_names = mnist_class_names(fashion);
  return ds;
}

std::vector<std::string> mnist_class_names(bool fashion) {
  if (fashion)
    return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
  std::vector<std::string> names;
  for (int c = 0; c < 10; ++c) names.push_back(std::to_string(c));
  return names;
}

}  // namespace cnn
