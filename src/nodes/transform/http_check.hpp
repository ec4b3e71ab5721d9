// http_check: asks whether each record's URL answers, on the fetcher's libcurl multi loop.
#pragma once

#include "nodes/node_type.hpp"

namespace sluice {

const NodeType& http_check_type();

}  // namespace sluice
