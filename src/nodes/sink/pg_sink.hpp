// pg_sink: idempotent upserts into PostgreSQL through COPY into a staging table and one merge per batch.
#pragma once

#include "nodes/node_type.hpp"

namespace sluice {

const NodeType& pg_sink_type();

}  // namespace sluice
