// Downloaded images, content-addressed on disk, and what each URL's server said about them last time.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace sluice {

struct StoredImage {
  std::string sha256;
  std::string path;  // <dir>/<2 hex>/<2 hex>/<sha256>.<ext>
  std::string mime;
  std::uint32_t width = 0, height = 0;
  std::uint64_t bytes = 0;
};

// Validators of a URL's last good response, for a conditional request next time.
struct UrlEntry {
  std::string etag, last_modified;
  StoredImage image;
  bool fetched_this_run = false;  // a later record with the same URL needs no request at all
};

class ImageStore {
 public:
  // Loads dir/index.tsv if present. With read_only, nothing is ever written (dry runs).
  ImageStore(std::string dir, bool read_only);

  // Writes bytes under their SHA-256 (temp file + rename; an existing file is left alone).
  // Thread-safe. Throws std::runtime_error on a disk error.
  StoredImage put(std::string_view bytes, std::string_view ext, std::string_view mime, std::uint32_t width,
                  std::uint32_t height);

  std::optional<UrlEntry> find(const std::string& url) const;
  void remember(const std::string& url, UrlEntry entry);

  // Rewrites the index atomically with every URL remembered so far.
  void save() const;

 private:
  std::string dir_;
  bool read_only_;
  mutable std::mutex mutex_;
  std::map<std::string, UrlEntry> urls_;
};

}  // namespace sluice
