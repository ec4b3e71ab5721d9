// filter: keeps the records a condition holds for; the others are dropped and counted.
#pragma once

#include "nodes/node_type.hpp"

namespace sluice {

const NodeType& filter_type();

}  // namespace sluice
