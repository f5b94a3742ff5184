// Fuzzes the contract parser (ParseContract: YAML via yaml-cpp, then sluice's own checks) and,
// when the input is a valid contract, the validator built from it: ContractValidator::Create
// (RE2 patterns, enums, decimal types, a path column) and a small JSONL and CSV batch generated
// from the contract's columns, decoded and checked like the decoder targets (fuzz_support.h).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"

using namespace sluice;

namespace {

// Values tried in every column, as JSON and as CSV text: valid and invalid for each type.
struct Sample {
  const char* json;
  const char* csv;
};
constexpr Sample kSamples[] = {
    {R"("abc")", "abc"},
    {"1", "1"},
    {"-7", "-7"},
    {"1.5", "1.5"},
    {"1e400", "1e400"},
    {R"("12.34")", "12.34"},
    {"true", "true"},
    {"null", ""},
    {R"("2024-02-29")", "2024-02-29"},
    {R"("2024-01-02T03:04:05.123456+01:00")", "2024-01-02 03:04:05"},
    {R"("A-1")", "A-1"},
    {R"("")", R"("")"},
    {"99999999999999999999", "99999999999999999999"},
    {R"([1,{"a":2}])", R"("x,""y""")"},
    {R"("x\u0000y")", "\"multi\nline\""},
    {"{}", "0"},
};
constexpr size_t kSampleCount = sizeof(kSamples) / sizeof(kSamples[0]);
constexpr size_t kRows = 24;

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string CsvField(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Row k, column i: a sample value, or for every third row the column's own enum value / default,
// so that rows pass as well as fail.
void Value(const ColumnSpec& spec, size_t k, size_t i, std::string* json, std::string* csv) {
  if (k % 3 == 2 && !spec.enum_values.empty()) {
    const std::string& v = spec.enum_values[k % spec.enum_values.size()];
    *json = JsonString(v);
    *csv = CsvField(v);
  } else if (k % 3 == 1 && spec.default_value) {
    *json = JsonString(*spec.default_value);
    *csv = CsvField(*spec.default_value);
  } else {
    const Sample& s = kSamples[(k * 7 + i * 3) % kSampleCount];
    *json = s.json;
    *csv = s.csv;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Result<Contract> contract = ParseContract(text, "contracts/fuzz.yaml");
  if (!contract.ok()) return 0;
  if (contract->columns.empty()) fuzz::Fail("a parsed contract has no columns");
  for (const ColumnSpec& c : contract->columns) {
    if (!IsValidIdentifier(c.name)) fuzz::Fail("column name '" + c.name + "' is not an identifier");
    Result<ColumnType> again = ParseColumnType(c.type.Name());
    if (!again.ok() || !(*again == c.type)) fuzz::Fail("type does not round-trip: " + c.type.Name());
    (void)c.type.DuckType();
  }

  DecodeOptions options;
  options.max_field_bytes = 32;
  for (const ColumnSpec& c : contract->columns) {
    if (c.type.kind == TypeKind::kString) {
      options.path_columns.push_back(c.name);
      break;
    }
  }
  Result<ContractValidator> validator = ContractValidator::Create(*contract, options);
  if (!validator.ok()) return 0;  // e.g. a pattern RE2 rejects

  std::string jsonl, csv;
  for (size_t i = 0; i < contract->columns.size(); ++i) {
    csv += (i ? "," : "") + contract->columns[i].name;
  }
  csv += "\r\n";
  std::vector<std::string> records;
  for (size_t k = 0; k < kRows; ++k) {
    std::string line = "{";
    for (size_t i = 0; i < contract->columns.size(); ++i) {
      std::string json, field;
      Value(contract->columns[i], k, i, &json, &field);
      if (i) line += ",";
      line += JsonString(contract->columns[i].name) + ":" + json;
      csv += (i ? "," : "") + field;
    }
    line += "}";
    jsonl += line + "\n";
    records.push_back(std::move(line));
    csv += "\n";
  }
  jsonl += "{\"truncated\": \n\xff\xfe\n[]\n";
  csv += "\"unterminated\n";

  Result<RecordBatch> from_jsonl = validator->DecodeJsonl(jsonl);
  if (!from_jsonl.ok()) fuzz::Fail("DecodeJsonl failed as a whole: " + from_jsonl.status().ToString());
  fuzz::CheckBatch(*contract, options, *from_jsonl);
  Result<RecordBatch> from_records = validator->DecodeJsonRecords(records);
  if (!from_records.ok()) fuzz::Fail("DecodeJsonRecords failed: " + from_records.status().ToString());
  fuzz::CheckBatch(*contract, options, *from_records);
  Result<RecordBatch> from_csv = validator->DecodeCsv(csv);
  if (!from_csv.ok()) fuzz::Fail("DecodeCsv failed as a whole: " + from_csv.status().ToString());
  fuzz::CheckBatch(*contract, options, *from_csv);
  return 0;
}
