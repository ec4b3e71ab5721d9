// Shared by the fuzz targets: a feed held in memory that sources can open by path, and a pipeline
// run node by node without a graph, so one input costs microseconds rather than a thread pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::fuzz {

// The repository's root (graphs/, config/): SLUICE_SOURCE_DIR at build time.
std::string source_dir();

// Loads `graph` with `supplier` (paths relative to the repository), reads `feed` through the
// graph's source and passes every batch through its transforms, checking that each row read comes
// out as a record, a reject or a skipped row. Aborts on a broken identity.
void run_feed(const std::string& graph, const std::string& supplier, std::string_view feed);

}  // namespace sluice::fuzz
