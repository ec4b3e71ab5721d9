// validate: converts fields to their types and checks the supplier's field rules.
#pragma once

#include "nodes/node_type.hpp"

namespace sluice {

const NodeType& validate_type();

}  // namespace sluice
