// `serve:` of sluice.yaml: the settings of `sluice serve`. Each sub-key is parsed in its own file
// (warehouse_loader.cc: `postgres`).
#include "spec/project_loader.h"

namespace sluice {

Status ProjectLoader::ParseServe(const YamlEntry& entry) {
  ASSIGN_OR_RETURN(auto keys, file_.Entries(entry.value, "serve"));
  RETURN_IF_ERROR(file_.CheckKeys(keys, "serve",
                                  {
                                      "postgres",
                                  }));
  if (const YamlEntry* postgres = FindEntry(keys, "postgres"); postgres && !postgres->value.IsNull()) {
    RETURN_IF_ERROR(ParsePostgres(*postgres));
  }
  return Status::OK();
}

}  // namespace sluice
