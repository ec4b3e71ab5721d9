// url_history: keeps every URL check in PostgreSQL and reports which URLs went down and came back.
#pragma once

#include "nodes/node_type.hpp"

namespace sluice {

const NodeType& url_history_type();

}  // namespace sluice
