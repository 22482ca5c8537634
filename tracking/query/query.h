// A run query compiled once and applied to run records: the filter
// (where), the sort keys (order_by) and paging (offset, limit) of
// RunFilter, in the language of docs/query.md.
//
//   ASSIGN_OR_RETURN(RunQuery q, RunQuery::Compile("metrics.acc > 0.9",
//                                                  {"metrics.acc DESC"}));
//   if (q.Matches(record, absl::Now())) ...
//   q.SortAndPage(&records, offset, limit, absl::Now());
//
// Thread-safety: a compiled RunQuery is immutable; Matches may be called
// from many threads at once.
#ifndef RUNLOG_TRACKING_QUERY_QUERY_H_
#define RUNLOG_TRACKING_QUERY_QUERY_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tracking/query/ast.h"
#include "tracking/query/fields.h"
#include "tracking/repo.h"

namespace runlog::query {

class RunQuery {
 public:
  // InvalidArgument naming "query:LINE:COL" for the filter and
  // "order_by[i]:LINE:COL" for a sort key.
  static absl::StatusOr<RunQuery> Compile(
      absl::string_view where, const std::vector<std::string>& order_by);

  // Whether the filter is true for `r` (an empty filter is true).
  bool Matches(const RunRecord& r, absl::Time now) const;
  // The same for a committed run not yet decoded (fields.h); nullopt when
  // the query needs the decoded record to answer.
  std::optional<bool> Matches(const EncodedRun& r, absl::Time now) const;

  // Sorts by the keys (stable; runs missing a key after the others, ties
  // by run id) — or keeps the order given when there are none — then keeps
  // `limit` records from `offset` on.
  void SortAndPage(std::vector<RunRecord>* records, size_t offset,
                   std::optional<size_t> limit, absl::Time now) const;

  bool filters() const { return where_ != nullptr; }
  // Whether the filter or a sort key reads attributes.size, which only a
  // listing that measures disk usage has (RunFilter::disk_usage).
  bool uses_size() const { return uses_size_; }
  bool sorts() const { return !order_.empty(); }

 private:
  std::shared_ptr<const Expr> where_;
  std::vector<OrderKey> order_;
  bool uses_size_ = false;
};

// Whether `f` is attributes.size.
bool IsSizeField(const Field& f);

}  // namespace runlog::query

#endif  // RUNLOG_TRACKING_QUERY_QUERY_H_
