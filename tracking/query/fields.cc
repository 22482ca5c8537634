#include "tracking/query/fields.h"

#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace runlog::query {
namespace {

struct AttributeAlias {
  const char* name;
  Attribute attribute;
};

constexpr AttributeAlias kAttributes[] = {
    {"id", Attribute::kId},
    {"experiment", Attribute::kExperiment},
    {"name", Attribute::kName},
    {"description", Attribute::kDescription},
    {"status", Attribute::kStatus},
    {"state", Attribute::kState},
    {"created", Attribute::kCreated},
    {"ended", Attribute::kEnded},
    {"duration", Attribute::kDuration},
    {"points", Attribute::kPoints},
    {"series", Attribute::kSeries},
    {"size", Attribute::kSize},
    // MLflow's names for the same things.
    {"run_id", Attribute::kId},
    {"run_uuid", Attribute::kId},
    {"run_name", Attribute::kName},
    {"experiment_id", Attribute::kExperiment},
    {"start_time", Attribute::kCreated},
    {"end_time", Attribute::kEnded},
};
// (MLflow's "created" is our own name already.)

struct AggregateAlias {
  const char* name;
  Aggregate aggregate;
};

constexpr AggregateAlias kAggregates[] = {
    {"last", Aggregate::kLast},
    {"first", Aggregate::kFirst},
    {"min", Aggregate::kMin},
    {"max", Aggregate::kMax},
    {"count", Aggregate::kCount},
    {"first_step", Aggregate::kFirstStep},
    {"last_step", Aggregate::kLastStep},
};

// The param at `path`; a path of several parts that is not in the tree is
// also tried as one key with dots ("a.b"), which is how params imported
// from flat stores (MLflow's) are named.
const Value* FindParam(const Value& root,
                       const std::vector<std::string>& path) {
  const Value* v = &root;
  for (const std::string& part : path) {
    v = v->Find(part);
    if (v == nullptr) break;
  }
  if (v == nullptr && path.size() > 1) v = root.Find(absl::StrJoin(path, "."));
  return v;
}

const SeriesSummary* FindSeries(const RunRecord& r, absl::string_view name,
                                const std::optional<Context>& context) {
  const SeriesSummary* only = nullptr;
  int count = 0;
  for (const SeriesSummary& s : r.summary.series) {
    if (s.key.name != name) continue;
    if (context) {
      if (s.key.context == *context) return &s;
      continue;
    }
    if (s.key.context.empty()) return &s;
    only = &s;
    ++count;
  }
  return count == 1 ? only : nullptr;
}

}  // namespace

std::optional<Attribute> AttributeByName(absl::string_view name) {
  for (const AttributeAlias& a : kAttributes) {
    // MLflow also accepts "Created".
    if (absl::EqualsIgnoreCase(name, a.name)) return a.attribute;
  }
  return std::nullopt;
}

absl::string_view AttributeName(Attribute a) {
  for (const AttributeAlias& x : kAttributes) {
    if (x.attribute == a) return x.name;
  }
  return "?";
}

const std::vector<std::string>& AttributeNames() {
  static const auto* names = new std::vector<std::string>{
      "id",    "experiment", "name",  "description", "status",
      "state", "created",    "ended", "duration"};
  return *names;
}

std::optional<Aggregate> AggregateByName(absl::string_view name) {
  for (const AggregateAlias& a : kAggregates) {
    if (name == a.name) return a.aggregate;
  }
  return std::nullopt;
}

absl::string_view AggregateName(Aggregate a) {
  for (const AggregateAlias& x : kAggregates) {
    if (x.aggregate == a) return x.name;
  }
  return "?";
}

const std::vector<std::string>& AggregateNames() {
  static const auto* names = new std::vector<std::string>{
      "last", "first", "min", "max", "count", "first_step", "last_step"};
  return *names;
}

absl::string_view StatusWord(const RunRecord& r) {
  return RunStatusName(r.status);
}

const SeriesSummary* FindMetric(const Field& f, const RunRecord& r,
                                Aggregate* aggregate) {
  if (const SeriesSummary* s = FindSeries(r, f.metric, f.context)) {
    *aggregate = f.aggregate;
    return s;
  }
  if (f.alt_name) {
    if (const SeriesSummary* s = FindSeries(r, *f.alt_name, f.context)) {
      *aggregate = f.alt_aggregate;
      return s;
    }
  }
  return nullptr;
}

Datum FieldDatum(const Field& f, const RunRecord& r, absl::Time now) {
  switch (f.kind) {
    case Field::Kind::kParam: {
      const Value* v = FindParam(r.summary.params, f.path);
      return v ? Datum::FromValue(*v) : Datum::Missing();
    }
    case Field::Kind::kTag: {
      const std::set<std::string>& tags = r.summary.tags;
      if (tags.count(f.tag) > 0) return Datum::Bool(true);
      // MLflow's tags have values: runlog spells one as the tag "key=value".
      const std::string prefix = absl::StrCat(f.tag, "=");
      auto it = tags.lower_bound(prefix);
      if (it != tags.end() && absl::StartsWith(*it, prefix)) {
        return Datum::String(absl::string_view(*it).substr(prefix.size()));
      }
      return Datum::Bool(false);
    }
    case Field::Kind::kTags: {
      Datum d;
      d.kind = Datum::Kind::kTags;
      d.tags = &r.summary.tags;
      return d;
    }
    case Field::Kind::kMetric: {
      Aggregate agg;
      const SeriesSummary* s = FindMetric(f, r, &agg);
      if (s == nullptr) return Datum::Missing();
      const bool scalar = s->kind == SeriesKind::kScalar;
      switch (agg) {
        case Aggregate::kCount:
          return Datum::Int(s->count);
        case Aggregate::kFirstStep:
          return s->count ? Datum::Int(s->first_step) : Datum::Missing();
        case Aggregate::kLastStep:
          return s->count ? Datum::Int(s->last_step) : Datum::Missing();
        case Aggregate::kLast:
          return scalar && s->count ? Datum::Double(s->last) : Datum::Missing();
        case Aggregate::kFirst:
          return scalar && s->count ? Datum::Double(s->first)
                                    : Datum::Missing();
        case Aggregate::kMin:
          // A series of NaNs only has no min or max.
          return scalar && !std::isnan(s->min) ? Datum::Double(s->min)
                                               : Datum::Missing();
        case Aggregate::kMax:
          return scalar && !std::isnan(s->max) ? Datum::Double(s->max)
                                               : Datum::Missing();
      }
      return Datum::Missing();
    }
    case Field::Kind::kAttribute:
      switch (f.attribute) {
        case Attribute::kId:
          return Datum::String(r.id);
        case Attribute::kExperiment:
          return Datum::String(r.summary.experiment);
        case Attribute::kName:
          return Datum::String(r.summary.name);
        case Attribute::kDescription:
          return Datum::String(r.summary.description);
        case Attribute::kStatus:
          return Datum::String(StatusWord(r));
        case Attribute::kState:
          return Datum::String(storage::RunStateName(r.state));
        case Attribute::kCreated:
          return Datum::Time(r.summary.created);
        case Attribute::kEnded:
          return r.ended == absl::InfinitePast() ? Datum::Missing()
                                                 : Datum::Time(r.ended);
        case Attribute::kDuration: {
          const absl::Time end =
              r.ended == absl::InfinitePast() ? now : r.ended;
          return Datum::Duration(end - r.summary.created);
        }
        case Attribute::kPoints: {
          int64_t points = 0;
          for (const SeriesSummary& s : r.summary.series) points += s.count;
          return Datum::Int(points);
        }
        case Attribute::kSeries:
          return Datum::Int(static_cast<int64_t>(r.summary.series.size()));
        case Attribute::kSize:
          return r.bytes_on_disk
                     ? Datum::Int(static_cast<int64_t>(*r.bytes_on_disk))
                     : Datum::Missing();
      }
  }
  return Datum::Missing();
}

std::optional<Value> FieldValue(const Field& f, const RunRecord& r,
                                absl::Time now) {
  const Datum d = FieldDatum(f, r, now);
  switch (d.kind) {
    case Datum::Kind::kMissing:
      return std::nullopt;
    case Datum::Kind::kNull:
      return Value();
    case Datum::Kind::kBool:
      return Value(d.b);
    case Datum::Kind::kInt:
      return Value(d.i);
    case Datum::Kind::kDouble:
      return Value(d.d);
    case Datum::Kind::kString:
      return Value(d.s);
    case Datum::Kind::kTime:
      return Value(absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", d.time,
                                    absl::UTCTimeZone()));
    case Datum::Kind::kDuration:
      return Value(absl::ToDoubleSeconds(d.duration));
    case Datum::Kind::kList:
    case Datum::Kind::kMap:
      if (f.kind == Field::Kind::kParam) {
        const Value* v = FindParam(r.summary.params, f.path);
        if (v) return *v;
      }
      return std::nullopt;
    case Datum::Kind::kTags:
      return Value(Value::List(d.tags->begin(), d.tags->end()));
  }
  return std::nullopt;
}

}  // namespace runlog::query
