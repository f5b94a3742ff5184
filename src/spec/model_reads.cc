// What a mart's model may read: the lake's tables (curated.<t>, marts.<t>, staging.<s>) and
// files under the project directory, through a file-reading table function whose paths are
// string literals. Checked on DuckDB's own parse tree (duck/sql_parser.h) when the project is
// loaded, before anything binds or runs the model; `RefreshMarts` runs models with DuckDB's
// file access restricted as well.
#include <glob.h>

#include <filesystem>
#include <set>
#include <system_error>
#include <vector>

#include "spec/project_loader.h"

namespace sluice {

namespace fs = std::filesystem;

namespace {

// Table functions that read the files named by their positional arguments.
const std::set<std::string>& FileFunctions() {
  static const std::set<std::string> kNames = {"read_csv",          "read_csv_auto",       "read_json",
                                               "read_json_auto",    "read_ndjson",         "read_ndjson_auto",
                                               "read_json_objects", "read_ndjson_objects", "read_parquet",
                                               "parquet_scan",      "read_text",           "read_blob"};
  return kNames;
}

// Table functions that read nothing outside the query.
const std::set<std::string>& PureFunctions() {
  static const std::set<std::string> kNames = {"range", "generate_series", "unnest"};
  return kNames;
}

bool Within(const fs::path& root, const fs::path& p) {
  const std::string r = root.string(), s = p.string();
  return s == r ||
         (s.size() > r.size() && s.compare(0, r.size(), r) == 0 && (r.back() == '/' || s[r.size()] == '/'));
}

// The path with every symlink of its existing part resolved.
fs::path Resolved(const fs::path& p) {
  std::error_code ec;
  fs::path out = fs::weakly_canonical(p, ec);
  return ec ? p.lexically_normal() : out;
}

// Why `path` (as written in the model) is not a file under `root`; "" when it is.
// `matches` receives the files a glob matches (absolute).
std::string OutsideReason(const std::string& root_text, const std::string& path,
                          std::vector<std::string>& matched) {
  const size_t scheme = path.find("://");
  if (scheme != std::string::npos) return "is a URL";
  const fs::path root = Resolved(root_text);
  const fs::path written = Absolute(root_text, path);
  if (!Within(fs::path(root_text).lexically_normal(), written) && !Within(root, written)) {
    return "is outside the project directory";
  }
  const size_t wild = written.string().find_first_of("*?[{");
  if (wild == std::string::npos) {
    return Within(root, Resolved(written)) ? "" : "leads outside the project directory through a symlink";
  }
  // A glob: the directory before its first wildcard, and every file it matches, resolved.
  const std::string text = written.string();
  const fs::path prefix = fs::path(text.substr(0, text.rfind('/', wild) + 1)).lexically_normal();
  if (!Within(root, Resolved(prefix))) return "leads outside the project directory through a symlink";
  glob_t matches{};
  if (::glob(text.c_str(), GLOB_NOSORT, nullptr, &matches) == 0) {
    for (size_t i = 0; i < matches.gl_pathc; ++i) {
      matched.emplace_back(matches.gl_pathv[i]);
      if (!Within(root, Resolved(matches.gl_pathv[i]))) {
        const std::string match = matches.gl_pathv[i];
        ::globfree(&matches);
        return "matches " + match + ", a symlink leading outside the project directory";
      }
    }
  }
  ::globfree(&matches);
  if (text.find("**") != std::string::npos) {
    // A recursive glob may match at any depth: no symlink below its directory may lead out.
    std::error_code ec;
    for (fs::recursive_directory_iterator it(prefix, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
      if (it->is_symlink(ec) && !Within(root, Resolved(it->path()))) {
        return "may match " + it->path().string() + ", a symlink leading outside the project directory";
      }
    }
  }
  return "";
}

std::string Joined(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

Status ProjectLoader::CheckModelReads(const duck::ParsedSql& parsed, const ModelErrorFn& error,
                                      TableSpec& mart) {
  for (const duck::SqlTableRef& ref : parsed.tables) {
    const std::string schema = LakeSchema(ref);
    if (schema != "curated" && schema != "marts" && schema != "staging") {
      return error(ref.position, "'" + ref.QualifiedName() +
                                     "' is not a table of the lake: a model reads curated.<table>, "
                                     "marts.<table>, staging.<source>, and files under the project "
                                     "directory with e.g. read_csv('seeds/x.csv')");
    }
  }
  for (const duck::SqlTableFunction& fn : parsed.table_functions) {
    if (PureFunctions().count(fn.name)) continue;
    if (FileFunctions().count(fn.name) == 0) {
      return error(fn.position, "table function " + fn.name + " is not allowed in a model (allowed: " +
                                    Joined(FileFunctions()) + ", " + Joined(PureFunctions()) + ")");
    }
    for (const duck::SqlArgument& arg : fn.arguments) {
      if (!arg.literal) {
        return error(fn.position, fn.name +
                                      ": the files a model reads are written as string literals "
                                      "(a path, a glob, or a list of them), not computed");
      }
      for (const std::string& path : arg.strings) {
        std::vector<std::string> matched;
        if (std::string why = OutsideReason(spec_.root, path, matched); !why.empty()) {
          return error(fn.position, fn.name + ": '" + path + "' " + why + " (" + spec_.root +
                                        "); a model reads the lake's tables and files under the "
                                        "project directory only");
        }
        AddOnce(mart.reads_files, path);
        if (!fs::path(path).is_absolute()) {
          // DuckDB checks the files a relative glob expands to by their relative names too.
          for (const auto& m : matched) {
            if (m.rfind(spec_.root + "/", 0) == 0) AddOnce(mart.reads_files, m.substr(spec_.root.size() + 1));
          }
        }
      }
    }
  }
  return Status::OK();
}

}  // namespace sluice
