// ei8/core/output_files.h — output files that appear whole or not at all.
//
// Every file EdgeINT8-ArchKit writes goes through OutputFiles (write_file() in npy.h is a
// transaction of one file). add() writes the bytes at once to a temporary name in the
// destination's own directory (".<name>.tmp-<pid>-<n>"), so a full disk or a missing directory
// fails there; commit() renames every temporary over its destination. Until commit() nothing is
// visible at the destinations, and the destructor removes the temporaries of a transaction that
// was not committed: a command that fails halfway (bad second path, error after the first
// write) leaves no output behind, and never a previous run's file half overwritten.
//
//   OutputFiles out;
//   EI8_RETURN_IF_ERROR(out.add("x.npy", serialize_npy(x)));
//   EI8_RETURN_IF_ERROR(out.add("labels.npy", serialize_npy(labels)));  // same path as x: error
//   EI8_RETURN_IF_ERROR(out.commit());
//
// Destinations that exist and are not regular files (/dev/null, /dev/stdout, a FIFO) cannot be
// renamed over: their bytes are written directly at commit(). A destination that is a directory,
// or the same file twice in one transaction, is an error naming the path.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ei8/core/status.h"

namespace ei8 {

class OutputFiles {
 public:
  OutputFiles() = default;
  OutputFiles(const OutputFiles&) = delete;
  OutputFiles& operator=(const OutputFiles&) = delete;
  OutputFiles(OutputFiles&& other) noexcept;
  OutputFiles& operator=(OutputFiles&&) = delete;
  ~OutputFiles();  // removes the temporaries of an uncommitted transaction

  // Writes `bytes` to a temporary beside `path`. Errors: empty path, a directory, a path already
  // added to this transaction, a directory that does not exist or is not writable.
  [[nodiscard]] Status add(const std::string& path, std::string_view bytes);
  // Renames every temporary over its destination (in the order added).
  [[nodiscard]] Status commit();
  // Removes every temporary; nothing is written. Also what the destructor does.
  void discard();

  size_t size() const { return pending_.size(); }

 private:
  struct Pending {
    std::string path;    // destination as given
    std::string key;     // normalized destination, to refuse the same file twice
    std::string temp;    // temporary beside it; empty when written directly
    std::string direct;  // bytes of a destination that is not a regular file
  };
  std::vector<Pending> pending_;
  bool committed_ = false;
};

}  // namespace ei8
