// ndjson_sink: writes each record as one JSON object per line.
#pragma once

#include "nodes/node_type.hpp"

namespace sluice {

const NodeType& ndjson_sink_type();

}  // namespace sluice
