// `sluice streams reset SOURCE --from-start | --from-seq N`: an operator's decision about where a
// nats source resumes in its stream, after serve refused it (the stream was replaced or went
// backwards; docs/JETSTREAM.md). Opens the lake for writing, so it runs while serve is stopped.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "catalog/stream_ledger.h"
#include "cli/commands.h"
#include "cli/read_commands.h"
#include "engine/engine.h"

namespace sluice::cli {

namespace {

// "user@host" of whoever runs the command, for the record.
std::string WhoAmI() {
  std::string user;
  if (const char* u = std::getenv("USER"); u != nullptr && *u != '\0') user = u;
  if (user.empty()) {
    if (const char* l = ::getlogin(); l != nullptr) user = l;
  }
  if (user.empty()) user = "uid " + std::to_string(::getuid());
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') user += std::string("@") + host;
  return user;
}

std::string Describe(const std::optional<StreamPosition>& p) {
  if (!p) return "no position";
  return "sequence " + std::to_string(p->last_seq) +
         (p->stream_created != 0 ? " of the stream created at " + std::to_string(p->stream_created) + " ns"
                                 : std::string(" (stream identity not recorded)"));
}

}  // namespace

int Streams(const StreamsArgs& args) {
  if (args.from_start == args.from_seq.has_value()) {
    return Fail("streams reset: give exactly one of --from-start and --from-seq N");
  }
  if (args.from_seq && *args.from_seq < 1) {
    return Fail("streams reset: --from-seq " + std::to_string(*args.from_seq) +
                " is not a stream sequence (they start at 1)");
  }
  auto engine = Engine::Open(args.project);
  if (!engine.ok()) {
    return FailWhileServing(args.project, engine.status(), "streams reset", "stop sluice serve first");
  }
  const SourceSpec* source = nullptr;
  for (const auto& s : (*engine)->spec().sources) {
    if (s.name == args.source) source = &s;
  }
  if (source == nullptr) return Fail("streams reset: no source '" + args.source + "' in sluice.yaml");
  if (source->type != SourceType::kNats) {
    return Fail("streams reset: source '" + args.source + "' is " + SourceTypeName(source->type) +
                ", not nats: only a JetStream source has a stream position");
  }
  Catalog& catalog = (*engine)->catalog();
  auto before = CommittedPosition(catalog, source->name, source->nats.stream);
  if (!before.ok()) return Fail(before.status().message());
  const uint64_t to_seq = args.from_seq ? static_cast<uint64_t>(*args.from_seq) - 1 : 0;
  const std::string mode = args.from_seq ? "from-seq " + std::to_string(*args.from_seq) : "from-start";
  Status st = ResetStreamPosition(catalog, source->name, source->nats.stream, to_seq, mode, WhoAmI(),
                                  catalog.env()->NowMicros());
  if (!st.ok()) return Fail(st.message());
  if (args.json) {
    nlohmann::ordered_json out = {
        {"source", source->name},
        {"stream", source->nats.stream},
        {"from_seq", *before ? nlohmann::ordered_json((*before)->last_seq) : nlohmann::ordered_json(nullptr)},
        {"to_seq", to_seq},
        {"mode", mode},
        {"next_seq", to_seq + 1}};
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  std::cout << "streams reset " << source->name << ": stream " << source->nats.stream << " was at "
            << Describe(*before) << "; the next `sluice serve` reads it from sequence " << to_seq + 1
            << " (recorded in the catalog; `sluice status` shows the last reset)" << std::endl;
  return 0;
}

}  // namespace sluice::cli
