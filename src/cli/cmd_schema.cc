#include "cli/commands.h"

namespace sluice::cli {

int Schema(const SchemaArgs&) { return Fail("not implemented yet"); }

}  // namespace sluice::cli
