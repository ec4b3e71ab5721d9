// url_list: the URLs to check, each once with how often the input names it, from a file or a table.
//
// A URL named many times (the same image on every variant of a product) is checked once: the source
// hands on its distinct URLs, each with `occurrences`, and counts the repeats as skipped rows.
//
// File input (`format: lines` or `csv`) is read whole when the node opens, since a URL's last repeat
// may come on the last line. Memory is the distinct URLs, not the lines: about 120 bytes plus the URL's
// own length each (a hash-map node of 64 bytes, its bucket, its place in the first-appearance order and
// the string's heap block; measured at 196 bytes for 80-byte URLs), so 10 million distinct URLs of that
// length take about 2 GB. Rejected lines are kept too, with their text (at most 64 KiB each).
//
// Table input (`table:`) lets PostgreSQL count the URLs and reads the result through a cursor, one page
// at a time: memory is one page whatever the table's size.
#pragma once

#include "nodes/node_type.hpp"

namespace sluice {

const NodeType& url_list_type();

}  // namespace sluice
