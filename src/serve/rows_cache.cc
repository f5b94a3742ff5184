#include "serve/rows_cache.h"

#include <cstdint>
#include <optional>

namespace sluice {

std::shared_ptr<const VersionFacts> VersionFactsCache::Find(const std::string& table, int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = versions_.find({table, version});
  return it == versions_.end() ? nullptr : it->second;
}

void VersionFactsCache::Insert(const std::string& table, std::shared_ptr<const VersionFacts> facts) {
  std::lock_guard<std::mutex> lock(mu_);
  versions_[{table, facts->version.version}] = std::move(facts);
  // The table's versions are adjacent in the map, lowest first.
  auto first = versions_.lower_bound({table, INT64_MIN});
  size_t kept = 0;
  for (auto it = first; it != versions_.end() && it->first.first == table; ++it) ++kept;
  while (kept-- > versions_per_table_) first = versions_.erase(first);
}

size_t CachedAnswer::bytes() const {
  size_t n = content_type.size() + body.size() + sizeof(CachedAnswer);
  for (const auto& [k, v] : headers) n += k.size() + v.size();
  return n;
}

std::shared_ptr<const CachedAnswer> AnswerCache::Find(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void AnswerCache::Insert(const std::string& key, std::shared_ptr<const CachedAnswer> answer) {
  const size_t n = answer->bytes() + key.size();
  if (n > max_answer_bytes_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = index_.find(key); it != index_.end()) {
    bytes_ -= it->second->second->bytes() + key.size();
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.emplace_front(key, std::move(answer));
  index_[key] = lru_.begin();
  bytes_ += n;
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    const Entry& last = lru_.back();
    bytes_ -= last.second->bytes() + last.first.size();
    index_.erase(last.first);
    lru_.pop_back();
  }
}

size_t AnswerCache::bytes() {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

size_t AnswerCache::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.size();
}

std::string RowsAnswerKey(const std::string& table, int64_t version, const std::string& format,
                          const RowsQuery& query, const std::vector<std::string>& tenants, int64_t limit) {
  std::string key;
  auto add = [&key](const std::string& field) {
    key += std::to_string(field.size());
    key += ':';
    key += field;
  };
  auto add_optional = [&](const std::optional<std::string>& field) {
    add(field ? "1" : "0");
    if (field) add(*field);
  };
  add(table);
  add(std::to_string(version));
  add(format);
  add(std::to_string(limit));
  add_optional(query.day_from);
  add_optional(query.day_to);
  add_optional(query.tenant);
  add(std::to_string(query.filters.size()));
  for (const auto& [col, value] : query.filters) {
    add(col);
    add(value);
  }
  add(std::to_string(query.order.size()));
  for (const auto& [col, desc] : query.order) {
    add(col);
    add(desc ? "d" : "a");
  }
  add(std::to_string(tenants.size()));
  for (const auto& t : tenants) add(t);
  return key;
}

}  // namespace sluice
