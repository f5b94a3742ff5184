#include "duck/json_encoder.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "common/utf8.h"
#include "duck/value_text.h"

namespace sluice::duck {

// The encoding of one type, read from its duckdb_logical_type once (the types are not kept).
struct JsonRowWriter::Node {
  duckdb_type id = DUCKDB_TYPE_INVALID;
  duckdb_type internal = DUCKDB_TYPE_INVALID;  // storage of a DECIMAL or an ENUM
  int scale = 0;                               // DECIMAL
  idx_t array_size = 0;                        // ARRAY
  std::vector<std::string> keys;               // STRUCT: field names, quoted, with ':'
  std::vector<std::string> dictionary;         // ENUM: values, quoted
  // LIST, ARRAY: the element; MAP: key, value; STRUCT: the fields; UNION: the members.
  std::vector<std::unique_ptr<Node>> children;
};

namespace {

using Node = JsonRowWriter::Node;

// DuckDB's infinite DATE and TIMESTAMP values (date_t/timestamp_t::infinity()).
constexpr int32_t kDateInfinity = 2147483647;
constexpr int64_t kTimestampInfinity = 9223372036854775807LL;

std::string QuotedKey(std::string_view name) {
  std::string key;
  AppendJsonString(name, &key);
  return key + ":";
}

// Takes ownership of `type` (destroyed here), for the child types the C API hands out.
Result<std::unique_ptr<Node>> BuildOwned(duckdb_logical_type type, const std::string& column);

Result<std::unique_ptr<Node>> Build(duckdb_logical_type type, const std::string& column) {
  auto node = std::make_unique<Node>();
  node->id = duckdb_get_type_id(type);
  switch (node->id) {
    case DUCKDB_TYPE_BOOLEAN:
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT:
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE:
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_BLOB:
    case DUCKDB_TYPE_BIT:
    case DUCKDB_TYPE_DATE:
    case DUCKDB_TYPE_TIME:
    case DUCKDB_TYPE_TIME_NS:
    case DUCKDB_TYPE_TIME_TZ:
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS:
    case DUCKDB_TYPE_TIMESTAMP_TZ:
    case DUCKDB_TYPE_INTERVAL:
    case DUCKDB_TYPE_UUID:
    case DUCKDB_TYPE_SQLNULL:
      return node;
    case DUCKDB_TYPE_DECIMAL:
      node->internal = duckdb_decimal_internal_type(type);
      node->scale = duckdb_decimal_scale(type);
      return node;
    case DUCKDB_TYPE_ENUM: {
      node->internal = duckdb_enum_internal_type(type);
      const uint32_t n = duckdb_enum_dictionary_size(type);
      for (uint32_t i = 0; i < n; ++i) {
        char* value = duckdb_enum_dictionary_value(type, i);
        node->dictionary.emplace_back();
        AppendJsonString(value, &node->dictionary.back());
        duckdb_free(value);
      }
      return node;
    }
    case DUCKDB_TYPE_LIST: {
      ASSIGN_OR_RETURN(auto child, BuildOwned(duckdb_list_type_child_type(type), column));
      node->children.push_back(std::move(child));
      return node;
    }
    case DUCKDB_TYPE_ARRAY: {
      node->array_size = duckdb_array_type_array_size(type);
      ASSIGN_OR_RETURN(auto child, BuildOwned(duckdb_array_type_child_type(type), column));
      node->children.push_back(std::move(child));
      return node;
    }
    case DUCKDB_TYPE_MAP: {
      ASSIGN_OR_RETURN(auto key, BuildOwned(duckdb_map_type_key_type(type), column));
      ASSIGN_OR_RETURN(auto value, BuildOwned(duckdb_map_type_value_type(type), column));
      node->children.push_back(std::move(key));
      node->children.push_back(std::move(value));
      return node;
    }
    case DUCKDB_TYPE_STRUCT: {
      const idx_t n = duckdb_struct_type_child_count(type);
      for (idx_t i = 0; i < n; ++i) {
        char* name = duckdb_struct_type_child_name(type, i);
        node->keys.push_back(QuotedKey(name));
        duckdb_free(name);
        ASSIGN_OR_RETURN(auto child, BuildOwned(duckdb_struct_type_child_type(type, i), column));
        node->children.push_back(std::move(child));
      }
      return node;
    }
    case DUCKDB_TYPE_UNION: {
      const idx_t n = duckdb_union_type_member_count(type);
      for (idx_t i = 0; i < n; ++i) {
        ASSIGN_OR_RETURN(auto child, BuildOwned(duckdb_union_type_member_type(type, i), column));
        node->children.push_back(std::move(child));
      }
      return node;
    }
    default: {
      const std::string what =
          node->id == DUCKDB_TYPE_BIGNUM ? "BIGNUM" : "#" + std::to_string(static_cast<int>(node->id));
      return Status::InvalidArgument("column " + column + ": a value of type " + what +
                                     " has no JSON encoding (cast it to VARCHAR in the query)");
    }
  }
}

Result<std::unique_ptr<Node>> BuildOwned(duckdb_logical_type type, const std::string& column) {
  auto node = Build(type, column);
  duckdb_destroy_logical_type(&type);
  return node;
}

template <typename T>
void AppendInteger(T v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

__int128 Int128(const duckdb_hugeint& h) {
  const auto upper = static_cast<unsigned __int128>(static_cast<uint64_t>(h.upper));
  return static_cast<__int128>((upper << 64) | h.lower);
}

std::string_view StringAt(void* data, idx_t row) {
  duckdb_string_t* s = &static_cast<duckdb_string_t*>(data)[row];
  return {duckdb_string_t_data(s), duckdb_string_t_length(*s)};
}

void AppendQuoted(const std::string& text, std::string* out) {
  *out += '"';
  *out += text;
  *out += '"';
}

// Units of 10^-digits s since the epoch as an RFC 3339 string; null when infinite.
void AppendTimestamp(int64_t units, int digits, std::string* out) {
  if (units == kTimestampInfinity || units == -kTimestampInfinity) {
    *out += "null";
    return;
  }
  AppendQuoted(FormatTimestamp(units, digits, TimestampStyle::kRfc3339), out);
}

void AppendTimeTz(uint64_t bits, std::string* out) {
  const duckdb_time_tz_struct t = duckdb_from_time_tz(duckdb_time_tz{bits});
  const int64_t micros =
      ((int64_t{t.time.hour} * 60 + t.time.min) * 60 + t.time.sec) * 1000000 + t.time.micros;
  const int32_t offset = t.offset < 0 ? -t.offset : t.offset;
  char zone[16];
  std::snprintf(zone, sizeof zone, "%c%02d:%02d", t.offset < 0 ? '-' : '+', offset / 3600, offset / 60 % 60);
  std::string text = FormatTimeOfDay(micros, 6) + zone;
  if (offset % 60 != 0) {
    char secs[8];
    std::snprintf(secs, sizeof secs, ":%02d", offset % 60);
    text += secs;
  }
  AppendQuoted(text, out);
}

void Encode(const Node& node, duckdb_vector vec, idx_t row, std::string* out) {
  uint64_t* validity = duckdb_vector_get_validity(vec);
  if ((validity != nullptr && !duckdb_validity_row_is_valid(validity, row)) ||
      node.id == DUCKDB_TYPE_SQLNULL) {
    *out += "null";
    return;
  }
  void* data = duckdb_vector_get_data(vec);
  switch (node.id) {
    case DUCKDB_TYPE_BOOLEAN:
      *out += static_cast<bool*>(data)[row] ? "true" : "false";
      return;
    case DUCKDB_TYPE_TINYINT:
      return AppendInteger(static_cast<int8_t*>(data)[row], out);
    case DUCKDB_TYPE_SMALLINT:
      return AppendInteger(static_cast<int16_t*>(data)[row], out);
    case DUCKDB_TYPE_INTEGER:
      return AppendInteger(static_cast<int32_t*>(data)[row], out);
    case DUCKDB_TYPE_BIGINT:
      return AppendInteger(static_cast<int64_t*>(data)[row], out);
    case DUCKDB_TYPE_UTINYINT:
      return AppendInteger(static_cast<uint8_t*>(data)[row], out);
    case DUCKDB_TYPE_USMALLINT:
      return AppendInteger(static_cast<uint16_t*>(data)[row], out);
    case DUCKDB_TYPE_UINTEGER:
      return AppendInteger(static_cast<uint32_t*>(data)[row], out);
    case DUCKDB_TYPE_UBIGINT:
      return AppendInteger(static_cast<uint64_t*>(data)[row], out);
    case DUCKDB_TYPE_HUGEINT:
      *out += FormatInt128(Int128(static_cast<duckdb_hugeint*>(data)[row]));
      return;
    case DUCKDB_TYPE_UHUGEINT: {
      const duckdb_uhugeint h = static_cast<duckdb_uhugeint*>(data)[row];
      *out += FormatUInt128((static_cast<unsigned __int128>(h.upper) << 64) | h.lower);
      return;
    }
    case DUCKDB_TYPE_FLOAT: {
      const float v = static_cast<float*>(data)[row];
      *out += std::isfinite(v) ? FormatFloat(v) : "null";
      return;
    }
    case DUCKDB_TYPE_DOUBLE: {
      const double v = static_cast<double*>(data)[row];
      *out += std::isfinite(v) ? FormatDouble(v) : "null";
      return;
    }
    case DUCKDB_TYPE_DECIMAL:
      switch (node.internal) {
        case DUCKDB_TYPE_SMALLINT:
          *out += FormatDecimal(static_cast<int16_t*>(data)[row], node.scale);
          return;
        case DUCKDB_TYPE_INTEGER:
          *out += FormatDecimal(static_cast<int32_t*>(data)[row], node.scale);
          return;
        case DUCKDB_TYPE_BIGINT:
          *out += FormatDecimal(static_cast<int64_t*>(data)[row], node.scale);
          return;
        default:
          *out += FormatDecimal(Int128(static_cast<duckdb_hugeint*>(data)[row]), node.scale);
          return;
      }
    case DUCKDB_TYPE_VARCHAR:
      return AppendJsonString(StringAt(data, row), out);
    case DUCKDB_TYPE_BLOB: {
      std::string_view bytes = StringAt(data, row);
      return AppendQuoted(Base64(bytes.data(), bytes.size()), out);
    }
    case DUCKDB_TYPE_BIT: {
      std::string_view bytes = StringAt(data, row);
      return AppendQuoted(FormatBits(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()),
                          out);
    }
    case DUCKDB_TYPE_ENUM: {
      size_t index;
      switch (node.internal) {
        case DUCKDB_TYPE_UTINYINT:
          index = static_cast<uint8_t*>(data)[row];
          break;
        case DUCKDB_TYPE_USMALLINT:
          index = static_cast<uint16_t*>(data)[row];
          break;
        default:
          index = static_cast<uint32_t*>(data)[row];
          break;
      }
      *out += index < node.dictionary.size() ? node.dictionary[index] : "null";
      return;
    }
    case DUCKDB_TYPE_DATE: {
      const int32_t days = static_cast<int32_t*>(data)[row];
      if (days == kDateInfinity || days == -kDateInfinity) {
        *out += "null";
        return;
      }
      return AppendQuoted(FormatDate(days), out);
    }
    case DUCKDB_TYPE_TIME:
      return AppendQuoted(FormatTimeOfDay(static_cast<int64_t*>(data)[row], 6), out);
    case DUCKDB_TYPE_TIME_NS:
      return AppendQuoted(FormatTimeOfDay(static_cast<int64_t*>(data)[row], 9), out);
    case DUCKDB_TYPE_TIME_TZ:
      return AppendTimeTz(static_cast<uint64_t*>(data)[row], out);
    case DUCKDB_TYPE_TIMESTAMP_S:
      return AppendTimestamp(static_cast<int64_t*>(data)[row], 0, out);
    case DUCKDB_TYPE_TIMESTAMP_MS:
      return AppendTimestamp(static_cast<int64_t*>(data)[row], 3, out);
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_TZ:
      return AppendTimestamp(static_cast<int64_t*>(data)[row], 6, out);
    case DUCKDB_TYPE_TIMESTAMP_NS:
      return AppendTimestamp(static_cast<int64_t*>(data)[row], 9, out);
    case DUCKDB_TYPE_INTERVAL: {
      const duckdb_interval v = static_cast<duckdb_interval*>(data)[row];
      return AppendQuoted(FormatInterval(v.months, v.days, v.micros), out);
    }
    case DUCKDB_TYPE_UUID: {
      const duckdb_hugeint h = static_cast<duckdb_hugeint*>(data)[row];
      return AppendQuoted(FormatUuid(h.lower, h.upper), out);
    }
    case DUCKDB_TYPE_LIST: {
      const duckdb_list_entry e = static_cast<duckdb_list_entry*>(data)[row];
      duckdb_vector child = duckdb_list_vector_get_child(vec);
      *out += '[';
      for (idx_t i = 0; i < e.length; ++i) {
        if (i) *out += ',';
        Encode(*node.children[0], child, e.offset + i, out);
      }
      *out += ']';
      return;
    }
    case DUCKDB_TYPE_ARRAY: {
      duckdb_vector child = duckdb_array_vector_get_child(vec);
      *out += '[';
      for (idx_t i = 0; i < node.array_size; ++i) {
        if (i) *out += ',';
        Encode(*node.children[0], child, row * node.array_size + i, out);
      }
      *out += ']';
      return;
    }
    case DUCKDB_TYPE_MAP: {
      const duckdb_list_entry e = static_cast<duckdb_list_entry*>(data)[row];
      duckdb_vector entries = duckdb_list_vector_get_child(vec);
      duckdb_vector keys = duckdb_struct_vector_get_child(entries, 0);
      duckdb_vector values = duckdb_struct_vector_get_child(entries, 1);
      *out += '[';
      for (idx_t i = 0; i < e.length; ++i) {
        *out += i ? ",{\"key\":" : "{\"key\":";
        Encode(*node.children[0], keys, e.offset + i, out);
        *out += ",\"value\":";
        Encode(*node.children[1], values, e.offset + i, out);
        *out += '}';
      }
      *out += ']';
      return;
    }
    case DUCKDB_TYPE_STRUCT: {
      *out += '{';
      for (size_t i = 0; i < node.children.size(); ++i) {
        if (i) *out += ',';
        *out += node.keys[i];
        Encode(*node.children[i], duckdb_struct_vector_get_child(vec, i), row, out);
      }
      *out += '}';
      return;
    }
    case DUCKDB_TYPE_UNION: {
      // Stored as a STRUCT whose first field is the tag (the index of the current member).
      duckdb_vector tags = duckdb_struct_vector_get_child(vec, 0);
      const uint8_t tag = static_cast<uint8_t*>(duckdb_vector_get_data(tags))[row];
      if (tag >= node.children.size()) {
        *out += "null";
        return;
      }
      Encode(*node.children[tag], duckdb_struct_vector_get_child(vec, tag + 1), row, out);
      return;
    }
    default:
      // Create refused every other type.
      *out += "null";
      return;
  }
}

}  // namespace

void AppendJsonString(std::string_view text, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  out->reserve(out->size() + text.size() + 2);
  *out += '"';
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    if (c >= 0x80) {
      const size_t len = Utf8SequenceLength(p + i, n - i);
      if (len == 0) {
        *out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER for one invalid byte
        ++i;
      } else {
        out->append(text.data() + i, len);
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      default:
        if (c < 0x20) {
          *out += "\\u00";
          *out += kHex[c >> 4];
          *out += kHex[c & 15];
        } else {
          *out += static_cast<char>(c);
        }
    }
    ++i;
  }
  *out += '"';
}

Result<std::unique_ptr<JsonRowWriter>> JsonRowWriter::Create(const std::vector<std::string>& names,
                                                             const std::vector<duckdb_logical_type>& types,
                                                             Layout layout) {
  std::unique_ptr<JsonRowWriter> writer(new JsonRowWriter());
  writer->layout_ = layout;
  for (size_t c = 0; c < names.size() && c < types.size(); ++c) {
    writer->keys_.push_back(QuotedKey(names[c]));
    ASSIGN_OR_RETURN(auto node, Build(types[c], names[c]));
    writer->columns_.push_back(std::move(node));
  }
  return writer;
}

JsonRowWriter::~JsonRowWriter() = default;

void JsonRowWriter::Begin(std::string* out) {
  if (layout_ == Layout::kArray) *out += '[';
}

void JsonRowWriter::WriteChunk(const Chunk& chunk, std::string* out) {
  const size_t n = chunk.size();
  std::vector<duckdb_vector> vectors;
  for (size_t c = 0; c < columns_.size(); ++c) vectors.push_back(chunk.column(c));
  for (size_t r = 0; r < n; ++r) {
    if (layout_ == Layout::kArray && rows_ > 0) *out += ",\n";
    *out += '{';
    for (size_t c = 0; c < columns_.size(); ++c) {
      if (c) *out += ',';
      *out += keys_[c];
      Encode(*columns_[c], vectors[c], r, out);
    }
    *out += '}';
    if (layout_ == Layout::kLines) *out += '\n';
    ++rows_;
  }
}

void JsonRowWriter::End(std::string* out) {
  if (layout_ == Layout::kArray) *out += "]\n";
}

}  // namespace sluice::duck
