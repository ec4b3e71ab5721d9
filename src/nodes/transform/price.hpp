// price: exact net, tax and gross in the currency's minor units.
#pragma once

#include "nodes/node_type.hpp"

namespace sluice {

const NodeType& price_type();

}  // namespace sluice
