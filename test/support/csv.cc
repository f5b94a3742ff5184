#include "support/csv.h"

namespace sluice::testing {

std::vector<std::vector<std::optional<std::string>>> ParseCsv(const std::string& data) {
  std::vector<std::vector<std::optional<std::string>>> records;
  size_t i = 0;
  while (i < data.size()) {
    std::vector<std::optional<std::string>> rec;
    while (true) {
      std::string field;
      bool quoted = false;
      if (i < data.size() && data[i] == '"') {
        quoted = true;
        ++i;
        while (i < data.size()) {
          if (data[i] == '"') {
            if (i + 1 < data.size() && data[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          field += data[i++];
        }
      }
      while (i < data.size() && data[i] != ',' && data[i] != '\n') field += data[i++];
      if (!field.empty() && field.back() == '\r') field.pop_back();
      rec.push_back(quoted || !field.empty() ? std::optional<std::string>(field) : std::nullopt);
      if (i < data.size() && data[i] == ',') {
        ++i;
        continue;
      }
      ++i;  // '\n' or end
      break;
    }
    records.push_back(std::move(rec));
  }
  return records;
}

}  // namespace sluice::testing
