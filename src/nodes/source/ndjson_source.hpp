// ndjson_source: reads newline-delimited JSON objects lazily and maps paths in them to record fields.
#pragma once

#include "nodes/node_type.hpp"

namespace sluice {

const NodeType& ndjson_source_type();

}  // namespace sluice
