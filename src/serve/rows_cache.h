// What the rows endpoint (GET /v1/tables/<layer>.<name>/rows, query_api.cc) keeps between
// requests: the facts of a published version (its files by day, its columns) and whole answers
// of one-page requests, so that a repeated lookup reads no directory and runs no DuckDB query.
//
// Sound because a published version never changes: its directory is immutable once `current`
// points at it (served_tables.h), and a version number names one content for the server's life
// (cursors rely on the same). An answer is therefore a function of the table, the version and
// the request, and a cached one is byte for byte what reading the files again would give. A
// request still reads `current` and pins the version it answers from, so it never answers from
// a version older than the one published when it arrived.
//
// Bounded: versions by count per table, answers by bytes (least recently used first out). Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "serve/rows_query.h"
#include "serve/served_tables.h"

namespace sluice {

// A published version as the rows endpoint reads it.
struct VersionFacts {
  PublishedVersion version;
  std::vector<ColumnInfo> columns;  // the version's own columns; empty when it has no file
};

class VersionFactsCache {
 public:
  // Publishing keeps a table's current and previous versions, and cursors pin a few more.
  explicit VersionFactsCache(size_t versions_per_table = 4) : versions_per_table_(versions_per_table) {}

  // The facts of `table`'s version `version`, or nullptr when not kept.
  std::shared_ptr<const VersionFacts> Find(const std::string& table, int64_t version);
  // Keeps `facts` (of `table`); beyond versions_per_table of that table its lowest version
  // goes first.
  void Insert(const std::string& table, std::shared_ptr<const VersionFacts> facts);

 private:
  const size_t versions_per_table_;
  std::mutex mu_;
  std::map<std::pair<std::string, int64_t>, std::shared_ptr<const VersionFacts>> versions_;
};

// One whole answer: its content type, the headers the rows endpoint sets, and the body.
struct CachedAnswer {
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int64_t partitions_read = 0, partitions_total = 0;  // for the metrics of a request it answers
  size_t bytes() const;
};

class AnswerCache {
 public:
  AnswerCache(size_t max_bytes, size_t max_answer_bytes)
      : max_bytes_(max_bytes), max_answer_bytes_(max_answer_bytes) {}

  // The answer kept under `key`, or nullptr.
  std::shared_ptr<const CachedAnswer> Find(const std::string& key);
  // Keeps `answer` under `key` (replacing one there) unless it is larger than max_answer_bytes;
  // evicts the least recently used answers past max_bytes.
  void Insert(const std::string& key, std::shared_ptr<const CachedAnswer> answer);
  size_t bytes();
  size_t size();

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const CachedAnswer>>;
  const size_t max_bytes_, max_answer_bytes_;
  std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  size_t bytes_ = 0;
};

// The key of a first-page answer: everything it depends on (table, version, format, the
// request's filters and order, the tenants it is restricted to, the page size), each field
// length-prefixed so that no two requests share a key.
std::string RowsAnswerKey(const std::string& table, int64_t version, const std::string& format,
                          const RowsQuery& query, const std::vector<std::string>& tenants, int64_t limit);

}  // namespace sluice
