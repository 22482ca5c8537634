// cp and mv: committed runs into another repository (storage/run_copy.h).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/run_copy.h"
#include "tools/segtool/commands.h"
#include "tools/segtool/common.h"
#include "tools/segtool/format.h"
#include "tracking/value_json.h"

namespace runlog::segtool {
namespace {

// The copy in `dest` read back whole: every checksum sound and as many
// points as the source run holds.
absl::Status VerifyCopy(Repo& dest, const std::string& id,
                        int64_t source_points) {
  absl::StatusOr<VerifyReport> report = dest.VerifyRun(id);
  if (!report.ok()) return report.status();
  if (report->state != storage::RunState::kCommitted) {
    return absl::DataLossError(absl::StrCat("run ", id, ": the copy in ",
                                            dest.path(), " is not committed"));
  }
  if (!report->problems.empty()) {
    const VerifyProblem& p = report->problems.front();
    return absl::DataLossError(absl::StrCat(
        "run ", id, ": the copy in ", dest.path(), " fails verification: ",
        p.file, ": offset ", p.offset, ": ", p.status.message()));
  }
  if (report->points != source_points) {
    return absl::DataLossError(
        absl::StrCat("run ", id, ": the copy in ", dest.path(), " reads ",
                     report->points, " points, the source ", source_points));
  }
  return absl::OkStatus();
}

}  // namespace

int Copy(const CopyArgs& args, const Env& env, std::ostream& out,
         std::ostream& err) {
  if (!CheckArgs(args.repo, args.runs, err)) return kExitUsage;
  if (args.dest.empty()) {
    err << "segtool: destination repository path is empty\n";
    return kExitUsage;
  }
  std::optional<Selection> selection =
      OpenAndSelect(args.repo, args.runs, env, err);
  if (!selection) return kExitProblem;
  auto& [repo, ids, failed] = *selection;
  // Every id resolves before anything is copied.
  if (failed) return kExitProblem;
  RepoOptions options = RepoOptionsFor(env);
  options.create_if_missing = true;
  absl::StatusOr<std::unique_ptr<Repo>> dest = Repo::Open(args.dest, options);
  if (!dest.ok()) {
    PrintError(err, dest.status());
    return kExitProblem;
  }
  const char* verb = args.move ? "moved" : "copied";
  Value::List done, errors;
  auto fail = [&](const std::string& id, const absl::Status& s) {
    PrintRunError(err, id, s);
    Value::Map m;
    m["run"] = Value(id);
    m["error"] = Value(s.ToString());
    errors.emplace_back(std::move(m));
    failed = true;
  };
  for (const std::string& id : ids) {
    absl::StatusOr<RunRecord> record = repo->GetRun(id);
    if (!record.ok()) {
      fail(id, record.status());
      continue;
    }
    absl::StatusOr<storage::RunCopyReport> copied =
        storage::CopyCommittedRun(repo->store(), (*dest)->store(), id);
    if (!copied.ok()) {
      fail(id, copied.status());
      continue;
    }
    const int64_t points = PointCount(*record);
    if (absl::Status v = VerifyCopy(**dest, id, points); !v.ok()) {
      // A copy that does not read back is not kept (nor is the source
      // of a move touched).
      DeleteOptions force;
      force.force = true;
      (*dest)->DeleteRun(id, force).IgnoreError();
      fail(id, absl::Status(v.code(), absl::StrCat(v.message(),
                                                   "; the copy was removed")));
      continue;
    }
    if (args.move) {
      // Committed runs delete without force; the copy is already durable.
      if (absl::Status s = repo->DeleteRun(id); !s.ok()) {
        fail(id, absl::Status(
                     s.code(),
                     absl::StrCat("copied to ", (*dest)->path(),
                                  " but not deleted here: ", s.message())));
        continue;
      }
    }
    if (args.json) {
      Value::Map m;
      m["run"] = Value(id);
      m["files"] = Value(copied->files);
      m["bytes"] = Value(copied->bytes);
      m["points"] = Value(points);
      done.emplace_back(std::move(m));
    } else {
      out << verb << ' ' << id << " to " << (*dest)->path() << " ("
          << copied->files << " files, " << FormatBytes(copied->bytes) << ", "
          << points << " points, verified)\n";
    }
  }
  if (args.json) {
    Value::Map doc;
    doc[verb] = Value(std::move(done));
    doc["errors"] = Value(std::move(errors));
    out << ToJson(Value(std::move(doc)), /*pretty=*/true) << '\n';
  }
  return failed ? kExitProblem : kExitOk;
}

}  // namespace runlog::segtool
