#include "duck/database_lock.h"

#include <fcntl.h>
#include <unistd.h>

namespace sluice::duck {

std::optional<int64_t> DatabaseLockHolder(const std::string& path, bool for_write) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct flock probe {};
  probe.l_type = for_write ? F_WRLCK : F_RDLCK;
  probe.l_whence = SEEK_SET;
  probe.l_start = 0;
  probe.l_len = 0;  // the whole file, as DuckDB locks it
  const int rc = ::fcntl(fd, F_GETLK, &probe);
  ::close(fd);
  if (rc != 0 || probe.l_type == F_UNLCK) return std::nullopt;
  return static_cast<int64_t>(probe.l_pid);
}

}  // namespace sluice::duck
