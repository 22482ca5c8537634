// The evaluator against a brute-force reference: seeded random runs and
// random queries, rendered to text for RunQuery and evaluated directly on
// the generator's own tree here. Same set, same order.
#include <cmath>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tests/tracking/query/run_fixture.h"

namespace runlog::query {
namespace {

using ::runlog::query::testing::AddScalar;
using ::runlog::query::testing::MakeRun;
using ::runlog::query::testing::Select;

// A reference value: missing, a number, a string or a bool.
using RefValue = std::variant<std::monostate, double, std::string, bool>;
enum class Tri { kF, kT, kU };

Tri Not(Tri t) { return t == Tri::kU ? t : (t == Tri::kT ? Tri::kF : Tri::kT); }

struct RefRun {
  std::string id;
  std::map<std::string, RefValue> fields;  // "params.lr", "metrics.loss", ...
};

struct Atom {
  std::string field;
  std::string op;  // = != < <= > >=
  RefValue literal;
};

struct Node {
  enum Kind { kAtom, kAnd, kOr, kNot, kIn, kExists } kind = kAtom;
  Atom atom;
  std::vector<RefValue> items;  // kIn
  std::vector<Node> children;
};

std::string Render(const RefValue& v) {
  if (std::holds_alternative<double>(v)) {
    return absl::StrFormat("%.17g", std::get<double>(v));
  }
  if (std::holds_alternative<std::string>(v)) {
    return absl::StrCat("'", std::get<std::string>(v), "'");
  }
  if (std::holds_alternative<bool>(v))
    return std::get<bool>(v) ? "true" : "false";
  return "null";
}

std::string Render(const Node& n) {
  switch (n.kind) {
    case Node::kAtom:
      return absl::StrCat(n.atom.field, " ", n.atom.op, " ",
                          Render(n.atom.literal));
    case Node::kExists:
      return absl::StrCat("exists(", n.atom.field, ")");
    case Node::kIn: {
      std::string s = absl::StrCat(n.atom.field, " IN (");
      for (size_t i = 0; i < n.items.size(); ++i) {
        absl::StrAppend(&s, i ? ", " : "", Render(n.items[i]));
      }
      return s + ")";
    }
    case Node::kNot:
      return absl::StrCat("NOT (", Render(n.children[0]), ")");
    case Node::kAnd:
    case Node::kOr: {
      std::string s = "(";
      for (size_t i = 0; i < n.children.size(); ++i) {
        absl::StrAppend(&s, i ? (n.kind == Node::kAnd ? " AND " : " OR ") : "",
                        Render(n.children[i]));
      }
      return s + ")";
    }
  }
  return "";
}

// Reference order of two present values: nullopt when they do not compare.
std::optional<int> RefCompare(const RefValue& a, const RefValue& b) {
  if (a.index() != b.index()) return std::nullopt;
  if (std::holds_alternative<double>(a)) {
    const double x = std::get<double>(a), y = std::get<double>(b);
    if (std::isnan(x) || std::isnan(y)) return std::nullopt;
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (std::holds_alternative<std::string>(a)) {
    const int c = std::get<std::string>(a).compare(std::get<std::string>(b));
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  const bool x = std::get<bool>(a), y = std::get<bool>(b);
  return x == y ? 0 : (x ? 1 : -1);
}

Tri RefAtom(const RefRun& r, const Atom& a) {
  auto it = r.fields.find(a.field);
  if (it == r.fields.end()) return Tri::kU;
  const RefValue& v = it->second;
  std::optional<int> c = RefCompare(v, a.literal);
  if (!c) {
    const bool nan_numbers = std::holds_alternative<double>(v) &&
                             std::holds_alternative<double>(a.literal);
    return nan_numbers && a.op == "!=" ? Tri::kT
           : nan_numbers               ? Tri::kF
                                       : Tri::kU;
  }
  bool t = false;
  if (a.op == "=") t = *c == 0;
  if (a.op == "!=") t = *c != 0;
  if (a.op == "<") t = *c < 0;
  if (a.op == "<=") t = *c <= 0;
  if (a.op == ">") t = *c > 0;
  if (a.op == ">=") t = *c >= 0;
  return t ? Tri::kT : Tri::kF;
}

Tri RefEval(const RefRun& r, const Node& n) {
  switch (n.kind) {
    case Node::kAtom:
      return RefAtom(r, n.atom);
    case Node::kExists:
      return r.fields.count(n.atom.field) ? Tri::kT : Tri::kF;
    case Node::kIn: {
      if (!r.fields.count(n.atom.field)) return Tri::kU;
      for (const RefValue& item : n.items) {
        if (RefAtom(r, Atom{n.atom.field, "=", item}) == Tri::kT)
          return Tri::kT;
      }
      return Tri::kF;
    }
    case Node::kNot:
      return Not(RefEval(r, n.children[0]));
    case Node::kAnd: {
      Tri out = Tri::kT;
      for (const Node& c : n.children) {
        const Tri t = RefEval(r, c);
        if (t == Tri::kF) return Tri::kF;
        if (t == Tri::kU) out = Tri::kU;
      }
      return out;
    }
    case Node::kOr: {
      Tri out = Tri::kF;
      for (const Node& c : n.children) {
        const Tri t = RefEval(r, c);
        if (t == Tri::kT) return Tri::kT;
        if (t == Tri::kU) out = Tri::kU;
      }
      return out;
    }
  }
  return Tri::kU;
}

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  int Uniform(int n) {
    return std::uniform_int_distribution<int>(0, n - 1)(rng_);
  }

  RefValue Number() {
    static const double kValues[] = {0.001, 0.01, 0.1, 0.5, 1, 2, 3};
    return kValues[Uniform(7)];
  }
  RefValue String() {
    static const char* kValues[] = {"a", "b", "c", "ab"};
    return std::string(kValues[Uniform(4)]);
  }
  RefValue AnyLiteral() {
    switch (Uniform(3)) {
      case 0:
        return Number();
      case 1:
        return String();
      default:
        return Uniform(2) == 0;
    }
  }

  // A run and its reference view.
  std::pair<RunRecord, RefRun> Run(int i) {
    RefRun ref;
    ref.id = absl::StrFormat("run%03d", i);
    RunRecord r = MakeRun(ref.id);
    auto param = [&](const char* name, RefValue v) {
      if (Uniform(4) == 0) return;  // missing
      ref.fields[absl::StrCat("params.", name)] = v;
      Value pv;
      if (std::holds_alternative<double>(v)) pv = std::get<double>(v);
      if (std::holds_alternative<std::string>(v)) pv = std::get<std::string>(v);
      if (std::holds_alternative<bool>(v)) pv = std::get<bool>(v);
      ASSERT_TRUE(SetPath(r.summary.params, name, pv).ok());
    };
    param("lr", Number());
    param("model", String());
    param("flag", RefValue(Uniform(2) == 0));
    param("mixed", AnyLiteral());
    if (Uniform(3) != 0) {
      std::vector<double> values;
      const int n = 1 + Uniform(4);
      for (int k = 0; k < n; ++k) {
        values.push_back(Uniform(8) == 0 ? std::nan("")
                                         : std::get<double>(Number()));
      }
      AddScalar(r, "loss", values);
      ref.fields["metrics.loss"] = values.back();
      double mn = std::nan(""), mx = std::nan("");
      for (double v : values) {
        if (std::isnan(v)) continue;
        if (std::isnan(mn) || v < mn) mn = v;
        if (std::isnan(mx) || v > mx) mx = v;
      }
      if (!std::isnan(mn)) ref.fields["metrics.loss.min"] = mn;
      if (!std::isnan(mx)) ref.fields["metrics.loss.max"] = mx;
      ref.fields["metrics.loss.count"] = static_cast<double>(n);
    }
    static const char* kNames[] = {"x", "y", "z"};
    r.summary.name = kNames[Uniform(3)];
    ref.fields["name"] = std::string(r.summary.name);
    return {r, ref};
  }

  std::string AnyField() {
    static const char* kFields[] = {
        "params.lr",        "params.model",       "params.flag",
        "params.mixed",     "metrics.loss",       "metrics.loss.min",
        "metrics.loss.max", "metrics.loss.count", "name"};
    return kFields[Uniform(9)];
  }

  Node Query(int depth) {
    Node n;
    const int pick = depth > 3 ? Uniform(3) : Uniform(7);
    if (pick == 0 || pick == 1) {
      static const char* kOps[] = {"=", "!=", "<", "<=", ">", ">="};
      n.atom = Atom{AnyField(), kOps[Uniform(6)], AnyLiteral()};
      if (n.atom.field == "name" && Uniform(2)) {
        n.atom.literal = std::string(Uniform(2) ? "x" : "y");
      }
      return n;
    }
    if (pick == 2) {
      n.kind = Uniform(2) ? Node::kExists : Node::kIn;
      n.atom.field = AnyField();
      const int items = Uniform(12);
      for (int i = 0; i < items; ++i) n.items.push_back(AnyLiteral());
      return n;
    }
    if (pick == 3) {
      n.kind = Node::kNot;
      n.children.push_back(Query(depth + 1));
      return n;
    }
    n.kind = pick % 2 ? Node::kAnd : Node::kOr;
    const int k = 2 + Uniform(3);
    for (int i = 0; i < k; ++i) n.children.push_back(Query(depth + 1));
    return n;
  }

 private:
  std::mt19937 rng_;
};

// Reference order: DESC reverses ASC (kinds: bool, number, string), but
// missing and NaN stay last; ties by id.
std::vector<std::string> RefOrder(std::vector<const RefRun*> picked,
                                  const std::string& key, bool desc) {
  std::stable_sort(
      picked.begin(), picked.end(), [&](const RefRun* a, const RefRun* b) {
        auto ia = a->fields.find(key), ib = b->fields.find(key);
        const bool ma = ia == a->fields.end(), mb = ib == b->fields.end();
        if (ma != mb) return mb;
        if (!ma) {
          auto isnan = [](const RefValue& v) {
            return std::holds_alternative<double>(v) &&
                   std::isnan(std::get<double>(v));
          };
          const bool na = isnan(ia->second), nb = isnan(ib->second);
          if (na != nb) return nb;
          // Kinds in the evaluator's order: bool, number, string.
          auto rank = [](const RefValue& v) {
            return std::holds_alternative<bool>(v)     ? 1
                   : std::holds_alternative<double>(v) ? 2
                                                       : 3;
          };
          if (rank(ia->second) != rank(ib->second)) {
            return desc ? rank(ia->second) > rank(ib->second)
                        : rank(ia->second) < rank(ib->second);
          }
          std::optional<int> c = RefCompare(ia->second, ib->second);
          if (c && *c != 0) return desc ? *c > 0 : *c < 0;
        }
        return a->id < b->id;
      });
  std::vector<std::string> ids;
  for (const RefRun* r : picked) ids.push_back(r->id);
  return ids;
}

TEST(ReferenceTest, RandomQueriesSelectAndOrderAsTheReference) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    Generator g(seed);
    std::vector<RunRecord> runs;
    std::vector<RefRun> refs;
    for (int i = 0; i < 60; ++i) {
      auto [r, ref] = g.Run(i);
      runs.push_back(std::move(r));
      refs.push_back(std::move(ref));
    }
    for (int q = 0; q < 50; ++q) {
      const Node query = g.Query(0);
      const std::string text = Render(query);
      const std::string key = g.AnyField();
      const bool desc = g.Uniform(2) == 1;
      std::vector<const RefRun*> picked;
      for (const RefRun& r : refs) {
        if (RefEval(r, query) == Tri::kT) picked.push_back(&r);
      }
      const std::vector<std::string> want = RefOrder(picked, key, desc);
      const std::vector<std::string> got =
          Select(runs, text, {absl::StrCat(key, desc ? " DESC" : " ASC")});
      ASSERT_EQ(got, want) << "seed " << seed << " query " << q << ": " << text
                           << " order by " << key << (desc ? " DESC" : "");
    }
  }
}

}  // namespace
}  // namespace runlog::query
