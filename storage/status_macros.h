// Status propagation macros used across runlog.
//
// RUNLOG_RETURN_IF_ERROR(expr): evaluates `expr` (an absl::Status) and returns
// it from the enclosing function when it is not OK.
// RUNLOG_ASSIGN_OR_RETURN(lhs, expr): evaluates `expr` (an absl::StatusOr<T>),
// returns its status when not OK, otherwise moves the value into `lhs`
// (`lhs` may be a declaration such as `auto x`).
#ifndef RUNLOG_STORAGE_STATUS_MACROS_H_
#define RUNLOG_STORAGE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define RUNLOG_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status runlog_status_ = (expr);          \
    if (!runlog_status_.ok()) return runlog_status_; \
  } while (0)

#define RUNLOG_STATUS_CONCAT_INNER_(a, b) a##b
#define RUNLOG_STATUS_CONCAT_(a, b) RUNLOG_STATUS_CONCAT_INNER_(a, b)

#define RUNLOG_ASSIGN_OR_RETURN(lhs, expr) \
  RUNLOG_ASSIGN_OR_RETURN_IMPL_(           \
      RUNLOG_STATUS_CONCAT_(runlog_statusor_, __LINE__), lhs, expr)

#define RUNLOG_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // RUNLOG_STORAGE_STATUS_MACROS_H_
