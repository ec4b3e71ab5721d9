// The one list of built-in node types.
#include "nodes/node_type.hpp"
#include "nodes/sink/csv_sink.hpp"
#include "nodes/sink/ndjson_sink.hpp"
#include "nodes/sink/pg_sink.hpp"
#include "nodes/sink/url_history.hpp"
#include "nodes/source/csv_source.hpp"
#include "nodes/source/ndjson_source.hpp"
#include "nodes/source/url_list.hpp"
#include "nodes/transform/filter.hpp"
#include "nodes/transform/http_check.hpp"
#include "nodes/transform/http_fetch.hpp"
#include "nodes/transform/lookup.hpp"
#include "nodes/transform/price.hpp"
#include "nodes/transform/route.hpp"
#include "nodes/transform/validate.hpp"

namespace sluice {

const std::vector<NodeType>& builtin_nodes() {
  static const std::vector<NodeType> types{
      csv_source_type(),  ndjson_source_type(), url_list_type(), lookup_type(),      validate_type(),
      price_type(),       filter_type(),        route_type(),    http_fetch_type(),  http_check_type(),
      ndjson_sink_type(), csv_sink_type(),      pg_sink_type(),  url_history_type(),
  };
  return types;
}

}  // namespace sluice
