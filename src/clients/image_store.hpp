// Downloaded images, content-addressed on disk, and what each URL's server said about them last time.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <set>
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

// The store's file system failed. Most failures (no space, a read-only or unreachable folder, no
// permission, quota) hit every image alike, so they are fatal: rejecting each row would empty the
// feed. Only EFBIG (this one file is too large for the file system) concerns a single image.
class ImageStoreError : public std::runtime_error {
 public:
  ImageStoreError(const std::string& what, int error_number);
  int error_number() const { return errno_; }
  bool fatal() const;

 private:
  int errno_;
};

class ImageStore {
 public:
  // Loads the validators from PostgreSQL's image_cache when conninfo is given, else from
  // dir/index.tsv if present. With read_only, nothing is ever written (dry runs).
  ImageStore(std::string dir, bool read_only, std::optional<std::string> conninfo = std::nullopt);

  // Writes bytes under their SHA-256 (temp file + rename; an existing file is left alone).
  // Thread-safe. Throws ImageStoreError on a disk error.
  StoredImage put(std::string_view bytes, std::string_view ext, std::string_view mime, std::uint32_t width,
                  std::uint32_t height);

  std::optional<UrlEntry> find(const std::string& url) const;
  void remember(const std::string& url, UrlEntry entry);

  // Rewrites the index file atomically with every URL remembered so far, or upserts the URLs
  // fetched in this run into image_cache.
  void save() const;

 private:
  void load_file();
  void load_database();
  void save_file() const;
  void save_database() const;

  std::string dir_;
  bool read_only_;
  std::optional<std::string> conninfo_;
  bool folder_made(const std::string& prefix) const;

  mutable std::mutex mutex_;
  std::map<std::string, UrlEntry> urls_;
  std::set<std::string> folders_;  // made (or found) by this run: no more mkdir calls for them
};

}  // namespace sluice
