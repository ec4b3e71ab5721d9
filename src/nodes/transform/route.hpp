// route: sends each record to the port of the first case whose condition holds.
#pragma once

#include "nodes/node_type.hpp"

namespace sluice {

const NodeType& route_type();

}  // namespace sluice
