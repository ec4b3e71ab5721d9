// csv_source: reads a delimited feed lazily and maps its columns to record fields by header name.
#pragma once

#include "nodes/node_type.hpp"

namespace sluice {

const NodeType& csv_source_type();

}  // namespace sluice
