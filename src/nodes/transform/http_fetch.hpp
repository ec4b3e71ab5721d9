// http_fetch: downloads each record's image over libcurl's multi interface, without holding worker threads.
#pragma once

#include "nodes/node_type.hpp"

namespace sluice {

const NodeType& http_fetch_type();

}  // namespace sluice
