// csv_sink: writes records as RFC 4180 CSV with a header row.
#pragma once

#include "nodes/node_type.hpp"

namespace sluice {

const NodeType& csv_sink_type();

}  // namespace sluice
