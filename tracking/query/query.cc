#include "tracking/query/query.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tracking/query/evaluator.h"
#include "tracking/query/fields.h"
#include "tracking/query/parser.h"

namespace runlog::query {

bool IsSizeField(const Field& f) {
  return f.kind == Field::Kind::kAttribute && f.attribute == Attribute::kSize;
}

namespace {

bool ExprUsesSize(const Expr& e) {
  for (const Operand* op : {&e.lhs, &e.rhs}) {
    if (op->field && IsSizeField(*op->field)) return true;
  }
  for (const auto& c : e.children) {
    if (ExprUsesSize(*c)) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<RunQuery> RunQuery::Compile(
    absl::string_view where, const std::vector<std::string>& order_by) {
  RunQuery q;
  auto expr = ParseWhere(where, "query");
  if (!expr.ok()) return expr.status();
  q.where_ = std::shared_ptr<const Expr>(*std::move(expr));
  for (size_t i = 0; i < order_by.size(); ++i) {
    auto key = ParseOrderKey(order_by[i], absl::StrCat("order_by[", i, "]"));
    if (!key.ok()) return key.status();
    if (IsSizeField(key->field)) q.uses_size_ = true;
    q.order_.push_back(*std::move(key));
  }
  if (q.where_ && ExprUsesSize(*q.where_)) q.uses_size_ = true;
  return q;
}

bool RunQuery::Matches(const RunRecord& r, absl::Time now) const {
  return where_ == nullptr || Evaluate(*where_, r, now) == Truth::kTrue;
}

std::optional<bool> RunQuery::Matches(const EncodedRun& r,
                                      absl::Time now) const {
  if (where_ == nullptr) return true;
  r.needs_decode = false;
  const Truth t = Evaluate(*where_, r, now);
  if (r.needs_decode) return std::nullopt;
  return t == Truth::kTrue;
}

void RunQuery::SortAndPage(std::vector<RunRecord>* records, size_t offset,
                           std::optional<size_t> limit, absl::Time now) const {
  std::vector<RunRecord>& v = *records;
  if (!order_.empty()) {
    // Keys are looked up once per run, not once per comparison.
    const size_t n = v.size();
    std::vector<std::vector<Datum>> keys(n);
    for (size_t i = 0; i < n; ++i) {
      keys[i].reserve(order_.size());
      for (const OrderKey& k : order_) {
        keys[i].push_back(FieldDatum(k.field, v[i], now));
      }
    }
    std::vector<size_t> idx(n);
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
      for (size_t k = 0; k < order_.size(); ++k) {
        const Datum& x = keys[a][k];
        const Datum& y = keys[b][k];
        // Missing (and NaN) go last whichever the direction.
        const bool xm = x.missing(), ym = y.missing();
        if (xm != ym) return ym;
        const bool xnan = x.numeric() && std::isnan(x.as_double());
        const bool ynan = y.numeric() && std::isnan(y.as_double());
        if (xnan != ynan) return ynan;
        const int c = SortCompare(x, y);
        if (c == 0) continue;
        return order_[k].descending ? c > 0 : c < 0;
      }
      return v[a].id < v[b].id;
    });
    std::vector<RunRecord> sorted;
    sorted.reserve(n);
    for (size_t i : idx) sorted.push_back(std::move(v[i]));
    v = std::move(sorted);
  }
  const size_t begin = std::min(offset, v.size());
  const size_t end =
      limit ? begin + std::min(*limit, v.size() - begin) : v.size();
  v.erase(v.begin() + end, v.end());
  v.erase(v.begin(), v.begin() + begin);
}

}  // namespace runlog::query
