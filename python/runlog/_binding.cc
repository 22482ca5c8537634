// The C++ side of the Python package `runlog` (python/runlog/__init__.py):
// the module `runlog._runlog`, a thin layer over tracking/repo.h.
//
// Contracts kept here, beyond those of the C++ API:
//   - Every absl::Status error becomes a Python exception of the runlog.Error
//     hierarchy (see ThrowIfError) carrying the C++ message.
//   - Calls that may block on I/O (commit, flush, track_many, reads, listing,
//     recover, delete) release the GIL. Runs and RunViews are not
//     thread-safe in C++, and Repo::DeleteRun() reaches into a Run open in
//     this process, so every call on a Run, every call that releases the GIL
//     and delete_run hold WriterMutex(). It is taken after the GIL is
//     released and never held while taking the GIL, so the two cannot
//     deadlock; calls of several threads are serialized, not interleaved.
//   - The module starts no thread.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tracking/repo.h"
#include "tracking/run.h"
#include "tracking/series.h"
#include "tracking/value.h"

namespace py = pybind11;

namespace runlog {
namespace {

// ---- errors -----------------------------------------------------------------

struct StatusError {
  absl::Status status;
};

struct Exceptions {
  PyObject* error = nullptr;
  PyObject* not_found = nullptr;
  PyObject* data_loss = nullptr;
  PyObject* invalid_argument = nullptr;
  PyObject* failed_precondition = nullptr;
};
// Created once at import and never freed: the module lives as long as the
// interpreter.
Exceptions g_exceptions;

void ThrowIfError(const absl::Status& s) {
  if (!s.ok()) throw StatusError{s};
}

template <typename T>
T ValueOrThrow(absl::StatusOr<T> s) {
  ThrowIfError(s.status());
  return *std::move(s);
}

PyObject* ExceptionFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kNotFound:
      return g_exceptions.not_found;
    case absl::StatusCode::kDataLoss:
      return g_exceptions.data_loss;
    case absl::StatusCode::kInvalidArgument:
      return g_exceptions.invalid_argument;
    case absl::StatusCode::kFailedPrecondition:
      return g_exceptions.failed_precondition;
    default:
      return g_exceptions.error;
  }
}

std::mutex& WriterMutex() {
  static std::mutex* mu = new std::mutex();
  return *mu;
}

// Runs `f` without the GIL and with WriterMutex() held.
template <typename F>
auto Unlocked(F&& f) {
  py::gil_scoped_release release;
  std::lock_guard<std::mutex> lock(WriterMutex());
  return f();
}

// ---- Python <-> Value
// ---------------------------------------------------------

py::handle NumpyNumberType() {
  static PyObject* type = [] {
    py::object np = py::module_::import("numpy");
    return py::object(np.attr("number")).release().ptr();
  }();
  return type;
}
py::handle NumpyBoolType() {
  static PyObject* type = [] {
    py::object np = py::module_::import("numpy");
    return py::object(np.attr("bool_")).release().ptr();
  }();
  return type;
}

std::string Describe(py::handle obj) {
  std::string repr = py::repr(obj).cast<std::string>();
  if (repr.size() > 80) repr = repr.substr(0, 77) + "...";
  return absl::StrCat(repr, " (", Py_TYPE(obj.ptr())->tp_name, ")");
}

Value ToValue(py::handle obj, const std::string& where, int depth) {
  if (depth > kMaxValueDepth) {
    throw StatusError{absl::InvalidArgumentError(absl::StrCat(
        "params value at ", where, ": nested deeper than ", kMaxValueDepth))};
  }
  if (obj.is_none()) return Value();
  if (PyBool_Check(obj.ptr())) return Value(obj.ptr() == Py_True);
  if (PyLong_Check(obj.ptr())) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
    if (overflow != 0) {
      throw StatusError{absl::InvalidArgumentError(absl::StrCat(
          "params value at ", where, ": integer ",
          py::str(obj).cast<std::string>(), " does not fit in 64 bits"))};
    }
    return Value(static_cast<int64_t>(v));
  }
  if (PyFloat_Check(obj.ptr())) return Value(PyFloat_AS_DOUBLE(obj.ptr()));
  if (PyUnicode_Check(obj.ptr())) return Value(obj.cast<std::string>());
  if (PyDict_Check(obj.ptr())) {
    Value::Map map;
    for (auto [k, v] : obj.cast<py::dict>()) {
      if (!PyUnicode_Check(k.ptr())) {
        throw py::type_error(absl::StrCat("params key ", Describe(k), " at ",
                                          where, " is not a str"));
      }
      std::string key = k.cast<std::string>();
      std::string sub = where.empty() ? key : absl::StrCat(where, ".", key);
      map.insert_or_assign(std::move(key), ToValue(v, sub, depth + 1));
    }
    return Value(std::move(map));
  }
  if (PyList_Check(obj.ptr()) || PyTuple_Check(obj.ptr())) {
    Value::List list;
    size_t i = 0;
    for (py::handle item : obj) {
      list.push_back(
          ToValue(item, absl::StrCat(where, "[", i++, "]"), depth + 1));
    }
    return Value(std::move(list));
  }
  if (py::isinstance(obj, NumpyBoolType())) {
    return Value(obj.attr("item")().ptr() == Py_True);
  }
  if (py::isinstance(obj, NumpyNumberType()) ||
      py::isinstance<py::array>(obj)) {
    // Numpy scalars and arrays become the Python values they stand for.
    return ToValue(obj.attr("tolist")(), where, depth);
  }
  throw py::type_error(absl::StrCat("params value ", Describe(obj), " at ",
                                    where.empty() ? "<root>" : where,
                                    " is not None, bool, int, float, str, "
                                    "list, tuple or dict"));
}

py::object FromValue(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      return py::none();
    case Value::Kind::kBool:
      return py::bool_(v.as_bool());
    case Value::Kind::kInt:
      return py::int_(v.as_int());
    case Value::Kind::kDouble:
      return py::float_(v.as_double());
    case Value::Kind::kString:
      return py::str(v.as_string());
    case Value::Kind::kList: {
      py::list out;
      for (const Value& item : v.as_list()) out.append(FromValue(item));
      return std::move(out);
    }
    case Value::Kind::kMap: {
      py::dict out;
      for (const auto& [key, item] : v.as_map()) {
        out[py::str(key)] = FromValue(item);
      }
      return std::move(out);
    }
  }
  return py::none();
}

// ---- track()'s optional arguments, converted by hand: a wrong type is one
// TypeError naming the argument, not pybind's list of overloads.

std::optional<std::string> OptionalStr(const py::object& obj,
                                       const char* what) {
  if (obj.is_none()) return std::nullopt;
  if (!PyUnicode_Check(obj.ptr())) {
    throw py::type_error(
        absl::StrCat("track: ", what, " must be a str, not ", Describe(obj)));
  }
  return obj.cast<std::string>();
}

std::optional<int64_t> OptionalInt(const py::object& obj, const char* what) {
  if (obj.is_none()) return std::nullopt;
  if (PyBool_Check(obj.ptr()) || !PyIndex_Check(obj.ptr())) {
    throw py::type_error(
        absl::StrCat("track: ", what, " must be an int, not ", Describe(obj)));
  }
  int overflow = 0;
  py::object index =
      py::reinterpret_steal<py::object>(PyNumber_Index(obj.ptr()));
  if (!index) throw py::error_already_set();
  const long long v = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
  if (overflow != 0) {
    throw StatusError{absl::InvalidArgumentError(absl::StrCat(
        "track: ", what, " ", Describe(obj), " does not fit in 64 bits"))};
  }
  return static_cast<int64_t>(v);
}

std::optional<double> OptionalDouble(const py::object& obj, const char* what) {
  if (obj.is_none()) return std::nullopt;
  PyObject* p = obj.ptr();
  if (PyFloat_Check(p)) return PyFloat_AS_DOUBLE(p);
  if (PyBool_Check(p) || PyUnicode_Check(p) || !PyNumber_Check(p)) {
    throw py::type_error(absl::StrCat(
        "track: ", what, " must be a number, not ", Describe(obj)));
  }
  const double d = PyFloat_AsDouble(p);
  if (d == -1.0 && PyErr_Occurred()) throw py::error_already_set();
  return d;
}

// A tracked value: Python int/float (not bool), numpy numbers and 0-d arrays.
double ToNumber(py::handle obj, absl::string_view name) {
  PyObject* p = obj.ptr();
  if (PyFloat_CheckExact(p)) return PyFloat_AS_DOUBLE(p);
  if (PyLong_Check(p) && !PyBool_Check(p)) {
    double d = PyLong_AsDouble(p);
    if (d == -1.0 && PyErr_Occurred()) throw py::error_already_set();
    return d;
  }
  if (PyFloat_Check(p)) return PyFloat_AS_DOUBLE(p);
  if ((py::isinstance(obj, NumpyNumberType()) &&
       !py::isinstance(obj, NumpyBoolType())) ||
      (py::isinstance<py::array>(obj) && py::cast<py::array>(obj).ndim() == 0 &&
       py::cast<py::array>(obj).dtype().kind() != 'b' &&
       py::cast<py::array>(obj).dtype().kind() != 'O' &&
       py::cast<py::array>(obj).dtype().kind() != 'U' &&
       py::cast<py::array>(obj).dtype().kind() != 'S')) {
    double d = PyFloat_AsDouble(p);
    if (d == -1.0 && PyErr_Occurred()) throw py::error_already_set();
    return d;
  }
  throw py::type_error(absl::StrCat("track: value ", Describe(obj), " for '",
                                    name,
                                    "' is not a number (int, float or numpy "
                                    "number)"));
}

Context ToContext(const py::object& obj) {
  Context context;
  if (obj.is_none()) return context;
  if (!PyDict_Check(obj.ptr())) {
    throw py::type_error(
        absl::StrCat("context ", Describe(obj), " is not a dict of str"));
  }
  for (auto [k, v] : obj.cast<py::dict>()) {
    if (!PyUnicode_Check(k.ptr()) || !PyUnicode_Check(v.ptr())) {
      throw py::type_error(absl::StrCat("context entry ", Describe(k), ": ",
                                        Describe(v), " is not str: str"));
    }
    context.emplace(k.cast<std::string>(), v.cast<std::string>());
  }
  return context;
}

py::dict FromContext(const Context& context) {
  py::dict out;
  for (const auto& [k, v] : context) out[py::str(k)] = py::str(v);
  return out;
}

// ---- numpy columns
// ------------------------------------------------------------

// A numpy array viewing `v`'s buffer, which the array then owns.
template <typename T>
py::array_t<T> ToArray(std::vector<T>&& v) {
  auto* owned = new std::vector<T>(std::move(v));  // owned by the capsule
  py::capsule free_when_done(
      owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(static_cast<py::ssize_t>(owned->size()), owned->data(),
                        free_when_done);
}

// ---- records ----------------------------------------------------------------

double ToSeconds(absl::Time t) {
  if (t == absl::InfinitePast()) return std::nan("");
  return absl::ToDoubleSeconds(t - absl::UnixEpoch());
}

py::dict SummaryToDict(const SeriesSummary& s) {
  py::dict d;
  d["name"] = s.key.name;
  d["context"] = FromContext(s.key.context);
  d["kind"] = std::string(SeriesKindName(s.kind));
  d["count"] = s.count;
  d["first_step"] = s.first_step;
  d["last_step"] = s.last_step;
  d["first"] = s.first;
  d["last"] = s.last;
  d["min"] = s.min;
  d["max"] = s.max;
  return d;
}

py::dict RecordToDict(const RunRecord& r) {
  py::dict d;
  d["id"] = r.id;
  d["state"] = std::string(storage::RunStateName(r.state));
  d["status"] = std::string(RunStatusName(r.status));
  d["experiment"] = r.summary.experiment;
  d["name"] = r.summary.name;
  d["description"] = r.summary.description;
  d["created"] = ToSeconds(r.summary.created);
  d["ended"] = ToSeconds(r.ended);
  py::list tags;
  for (const std::string& t : r.summary.tags) tags.append(py::str(t));
  d["tags"] = tags;
  d["params"] = FromValue(r.summary.params);
  py::list series;
  for (const SeriesSummary& s : r.summary.series) {
    series.append(SummaryToDict(s));
  }
  d["series"] = series;
  d["failure_reason"] = r.failure_reason;
  d["detail"] = r.detail;
  d["error"] = r.error.ok() ? py::object(py::none())
                            : py::object(py::str(r.error.ToString()));
  d["bytes_on_disk"] = r.bytes_on_disk ? py::object(py::int_(*r.bytes_on_disk))
                                       : py::object(py::none());
  return d;
}

absl::string_view ActionKindName(storage::RecoveryAction::Kind kind) {
  using K = storage::RecoveryAction::Kind;
  switch (kind) {
    case K::kDeleteAbandonedRun:
      return "delete_abandoned_run";
    case K::kPurgeTrash:
      return "purge_trash";
    case K::kRemoveTempFile:
      return "remove_temp_file";
    case K::kRemoveUnreferencedSegment:
      return "remove_unreferenced_segment";
    case K::kSalvageAbandonedRun:
      return "salvage_abandoned_run";
    case K::kRemoveStaleCompaction:
      return "remove_stale_compaction";
    case K::kRecheckRemoval:
      return "recheck_removal";
    case K::kRemoveOldManifest:
      return "remove_old_manifest";
    case K::kRepairManifest:
      return "repair_manifest";
    case K::kRemoveUnfinishedCreation:
      return "remove_unfinished_creation";
  }
  return "unknown";
}

// One word per concept, as records print them: a status is how a run
// ended (or that it has not), a state where it stands on disk.
std::optional<RunStatus> ParseStatus(const std::optional<std::string>& s) {
  if (!s.has_value()) return std::nullopt;
  for (RunStatus st :
       {RunStatus::kRunning, RunStatus::kFinished, RunStatus::kFailed,
        RunStatus::kCrashed, RunStatus::kAbandoned}) {
    if (RunStatusName(st) == *s) return st;
  }
  throw StatusError{absl::InvalidArgumentError(absl::StrCat(
      "status '", *s,
      "' is not one of running, finished, failed, crashed, abandoned",
      *s == "committed" || *s == "live" || *s == "unknown"
          ? absl::StrCat(" ('", *s, "' is a state: pass state='", *s, "')")
          : ""))};
}

std::optional<storage::RunState> ParseState(
    const std::optional<std::string>& s) {
  if (!s.has_value()) return std::nullopt;
  for (storage::RunState st :
       {storage::RunState::kCommitted, storage::RunState::kLive,
        storage::RunState::kAbandoned, storage::RunState::kUnknown}) {
    if (storage::RunStateName(st) == *s) return st;
  }
  const bool is_status =
      *s == "running" || *s == "finished" || *s == "failed" || *s == "crashed";
  throw StatusError{absl::InvalidArgumentError(absl::StrCat(
      "state '", *s, "' is not one of committed, live, abandoned, unknown",
      is_status
          ? absl::StrCat(" ('", *s, "' is a status: pass status='", *s, "')")
          : ""))};
}

// ---- the wrapped objects
// ------------------------------------------------------

class PyRun {
 public:
  PyRun(std::shared_ptr<Repo> repo, std::unique_ptr<Run> run,
        std::string on_exception, std::string on_interrupt)
      : repo_(std::move(repo)),
        run_(std::move(run)),
        on_exception_(std::move(on_exception)),
        on_interrupt_(std::move(on_interrupt)) {}
  PyRun(const PyRun&) = delete;
  PyRun& operator=(const PyRun&) = delete;
  ~PyRun() {
    // The C++ destructor commits a run left open; it may write, so no GIL.
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(WriterMutex());
    run_.reset();
  }

  const std::string& id() const { return run_->id(); }
  bool is_open() const { return run_->is_open(); }

  void Track(py::handle value, const py::object& name_obj,
             const py::object& step_obj, const py::object& epoch_obj,
             const py::object& context) {
    const std::optional<std::string> name = OptionalStr(name_obj, "name");
    const std::optional<int64_t> step = OptionalInt(step_obj, "step");
    const std::optional<double> epoch = OptionalDouble(epoch_obj, "epoch");
    if (PyDict_Check(value.ptr())) {
      if (name.has_value()) {
        throw py::type_error(
            "track: name= is not allowed with a dict of values");
      }
      Context ctx = ToContext(context);
      std::vector<std::pair<std::string, double>> points;
      for (auto [k, v] : value.cast<py::dict>()) {
        if (!PyUnicode_Check(k.ptr())) {
          throw py::type_error(
              absl::StrCat("track: key ", Describe(k), " is not a str"));
        }
        std::string key = k.cast<std::string>();
        double d = ToNumber(v, key);
        points.emplace_back(std::move(key), d);
      }
      std::lock_guard<std::mutex> lock(WriterMutex());
      for (const auto& [key, d] : points) {
        ThrowIfError(run_->Track(key, d, step, ctx, epoch));
      }
      return;
    }
    if (!name.has_value()) {
      throw py::type_error("track: name= is required for a single value");
    }
    double d = ToNumber(value, *name);
    if (context.is_none()) {
      std::lock_guard<std::mutex> lock(WriterMutex());
      ThrowIfError(run_->Track(*name, d, step, EmptyContext(), epoch));
    } else {
      Context ctx = ToContext(context);
      std::lock_guard<std::mutex> lock(WriterMutex());
      ThrowIfError(run_->Track(*name, d, step, ctx, epoch));
    }
  }

  // The common call, already checked by TrackFast below: one value, no
  // epoch, no context. The error is returned, not thrown (TrackFast then
  // hands the call to Track, which reports it).
  absl::Status TrackChecked(absl::string_view name, double value,
                            std::optional<int64_t> step) {
    std::lock_guard<std::mutex> lock(WriterMutex());
    return run_->Track(name, value, step, EmptyContext(), std::nullopt);
  }

  void TrackMany(const std::string& name, const py::object& steps_obj,
                 const py::object& values_obj, const py::object& context) {
    auto steps =
        py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(
            steps_obj);
    auto values =
        py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(
            values_obj);
    if (!steps || !values) {
      PyErr_Clear();
      throw py::type_error(
          absl::StrCat("track_many: steps and values of '", name,
                       "' must be convertible to int64 and float64 arrays"));
    }
    if (steps.ndim() != 1 || values.ndim() != 1 ||
        steps.size() != values.size()) {
      throw StatusError{absl::InvalidArgumentError(
          absl::StrCat("track_many: steps and values of '", name,
                       "' must be 1-d arrays of one length (got ", steps.size(),
                       " and ", values.size(), ")"))};
    }
    Context ctx = ToContext(context);
    absl::Span<const int64_t> s(steps.data(), steps.size());
    absl::Span<const double> v(values.data(), values.size());
    // The arrays stay referenced (and immutable to us) while the GIL is out.
    ThrowIfError(Unlocked([&] { return run_->TrackBatch(name, ctx, s, v); }));
  }

  void TrackText(const std::string& text, const std::string& name,
                 std::optional<int64_t> step, std::optional<double> epoch,
                 const py::object& context) {
    Context ctx = ToContext(context);
    ThrowIfError(Unlocked(
        [&] { return run_->TrackText(name, text, step, ctx, epoch); }));
  }

  void TrackHistogram(const py::object& edges, const py::object& counts,
                      const std::string& name, std::optional<int64_t> step,
                      std::optional<double> epoch, const py::object& context) {
    Histogram h;
    try {
      h.edges = edges.cast<std::vector<double>>();
      h.counts = counts.cast<std::vector<double>>();
    } catch (const py::cast_error&) {
      throw py::type_error(
          absl::StrCat("track_histogram: edges ", Describe(edges),
                       " and counts ", Describe(counts), " of '", name,
                       "' must be sequences (or 1-d arrays) of numbers"));
    }
    Context ctx = ToContext(context);
    ThrowIfError(Unlocked([&] {
      return run_->TrackHistogram(name, std::move(h), step, ctx, epoch);
    }));
  }

  void TrackBlob(const py::bytes& data, const std::string& content_type,
                 const std::string& name, std::optional<int64_t> step,
                 std::optional<double> epoch, const py::object& context) {
    Blob blob{content_type, std::string(data)};
    Context ctx = ToContext(context);
    ThrowIfError(Unlocked(
        [&] { return run_->TrackBlob(name, blob, step, ctx, epoch); }));
  }

  void SetItem(const std::string& path, py::handle value) {
    Value v = ToValue(value, path, 0);
    std::lock_guard<std::mutex> lock(WriterMutex());
    ThrowIfError(run_->SetParam(path, std::move(v)));
  }
  py::object GetItem(const std::string& path) const {
    return FromValue(*ValueOrThrow(GetPath(run_->params(), path)));
  }
  py::object Params() const { return FromValue(run_->params()); }
  void SetParams(py::handle value) {
    Value v = ToValue(value, "", 0);
    std::lock_guard<std::mutex> lock(WriterMutex());
    ThrowIfError(run_->SetParams(v));
  }

  void AddTag(const std::string& tag) {
    std::lock_guard<std::mutex> lock(WriterMutex());
    ThrowIfError(run_->AddTag(tag));
  }
  void RemoveTag(const std::string& tag) {
    std::lock_guard<std::mutex> lock(WriterMutex());
    ThrowIfError(run_->RemoveTag(tag));
  }

  void Flush() {
    ThrowIfError(Unlocked([&] { return run_->Flush(); }));
  }
  void Commit() {
    ThrowIfError(Unlocked([&] { return run_->Commit(); }));
  }
  void Fail(const std::string& reason) {
    ThrowIfError(Unlocked([&] { return run_->Fail(reason); }));
  }
  void Close() {
    ThrowIfError(Unlocked([&] { return run_->Close(); }));
  }

  // The end of a `with` block. A run already ended inside the block (commit,
  // fail, close, delete_run) is left as it is. With an exception in flight,
  // errors of the cleanup are dropped so the user's exception is the one
  // that propagates.
  bool Exit(const py::object& exc_type, const py::object& exc,
            const py::object& /*traceback*/) {
    if (exc_type.is_none()) {
      if (is_open()) Commit();
      return false;
    }
    EndForException(exc_type, exc);
    return false;
  }

  // Ends an open run as the exception `exc` (of type `exc_type`) calls for:
  // KeyboardInterrupt and SystemExit by on_interrupt ("commit": committed
  // as failed, reason "interrupted"), any other by on_exception (leave
  // uncommitted, discard, or commit as failed with the exception as the
  // reason). Used by Exit() and, for a run still open when the interpreter
  // exits on an uncaught exception, by runlog's atexit handler. Cleanup
  // errors are dropped: the exception is what the user must see.
  void EndForException(const py::object& exc_type, const py::object& exc) {
    const bool interrupt =
        PyType_Check(exc_type.ptr()) &&
        (PyType_IsSubtype(
             reinterpret_cast<PyTypeObject*>(exc_type.ptr()),
             reinterpret_cast<PyTypeObject*>(PyExc_KeyboardInterrupt)) ||
         PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(exc_type.ptr()),
                          reinterpret_cast<PyTypeObject*>(PyExc_SystemExit)));
    std::string action = on_exception_;
    std::string reason;
    if (interrupt && on_interrupt_ == "commit") {
      action = "fail";
      reason = "interrupted";
    } else if (action == "fail") {
      reason =
          absl::StrCat(py::str(exc_type.attr("__name__")).cast<std::string>(),
                       ": ", py::str(exc).cast<std::string>());
    }
    absl::Status ignored = Unlocked([&]() -> absl::Status {
      if (!run_->is_open()) return absl::OkStatus();
      if (action == "discard") return repo_->DeleteRun(run_->id());
      if (action == "fail") return run_->Fail(reason);
      return run_->Close();
    });
    ignored.IgnoreError();
  }

 private:
  static const Context& EmptyContext() {
    static const Context* empty = new Context();
    return *empty;
  }

  std::shared_ptr<Repo> repo_;
  std::unique_ptr<Run> run_;
  std::string on_exception_;
  std::string on_interrupt_;
};

struct Series {
  py::object steps, values, epochs, times;
};

class PyRunView {
 public:
  explicit PyRunView(std::unique_ptr<RunView> view) : view_(std::move(view)) {}

  py::dict Record() const { return RecordToDict(view_->record()); }

  py::tuple ReadSeries(const std::string& name, const py::object& context,
                       std::optional<std::pair<int64_t, int64_t>> steps,
                       std::optional<size_t> max_points) {
    SeriesKey key{name, ToContext(context)};
    StepRange range;
    if (steps.has_value()) range = StepRange{steps->first, steps->second};
    SeriesKind kind = SeriesKind::kScalar;
    for (const SeriesSummary& s : view_->series()) {
      if (s.key == key) kind = s.kind;
    }
    switch (kind) {
      case SeriesKind::kScalar:
        return ToPython(ValueOrThrow(Unlocked([&] {
          return max_points.has_value()
                     ? view_->ReadScalarsDownsampled(key, *max_points, range)
                     : view_->ReadScalars(key, range);
        })));
      case SeriesKind::kText:
        return ToPython(ValueOrThrow(
            Unlocked([&] { return view_->ReadTexts(key, range); })));
      case SeriesKind::kHistogram:
        return ToPython(ValueOrThrow(
            Unlocked([&] { return view_->ReadHistograms(key, range); })));
      case SeriesKind::kBlob:
        return ToPython(ValueOrThrow(
            Unlocked([&] { return view_->ReadBlobs(key, range); })));
    }
    return py::tuple();
  }

  // Every series of the run, in the order of its summaries, as ReadSeries
  // gives each: one pass over the run's files (RunView::ReadAll), not one
  // per series. All are held until the last is read.
  py::list ReadAll() {
    std::vector<std::pair<SeriesKind, SeriesPoints>> got;
    ThrowIfError(Unlocked([&] {
      return view_->ReadAll([&](const SeriesSummary& s, SeriesPoints&& points) {
        got.emplace_back(s.kind, std::move(points));
        return absl::OkStatus();
      });
    }));
    py::list out;
    for (auto& [kind, points] : got) {
      switch (kind) {
        case SeriesKind::kScalar:
          out.append(ToPython(std::move(points.scalars)));
          break;
        case SeriesKind::kText:
          out.append(ToPython(std::move(points.texts)));
          break;
        case SeriesKind::kHistogram:
          out.append(ToPython(std::move(points.histograms)));
          break;
        case SeriesKind::kBlob:
          out.append(ToPython(std::move(points.blobs)));
          break;
      }
      points = SeriesPoints();  // freed as soon as it is converted
    }
    return out;
  }

 private:
  static py::tuple ToPython(ScalarColumns cols) {
    py::object values = ToArray(std::move(cols.values));
    return Columns(std::move(cols), values);
  }
  static py::tuple ToPython(TextColumns cols) {
    py::list values;
    for (const std::string& t : cols.values) values.append(py::str(t));
    return Columns(std::move(cols), values);
  }
  static py::tuple ToPython(HistogramColumns cols) {
    py::list values;
    for (Histogram& h : cols.values) {
      values.append(py::make_tuple(ToArray(std::move(h.edges)),
                                   ToArray(std::move(h.counts))));
    }
    return Columns(std::move(cols), values);
  }
  static py::tuple ToPython(BlobColumns cols) {
    py::list values;
    for (const Blob& b : cols.values) {
      values.append(py::make_tuple(py::bytes(b.data), b.content_type));
    }
    return Columns(std::move(cols), values);
  }

 private:
  template <typename C>
  static py::tuple Columns(C&& cols, py::object values) {
    return py::make_tuple(ToArray(std::move(cols.steps)), values,
                          ToArray(std::move(cols.epochs)),
                          ToArray(std::move(cols.times_us)));
  }

  std::unique_ptr<RunView> view_;
};

class PyRepo {
 public:
  explicit PyRepo(const std::string& path, bool create_if_missing) {
    RepoOptions options;
    options.create_if_missing = create_if_missing;
    repo_ = std::shared_ptr<Repo>(
        ValueOrThrow(Unlocked([&] { return Repo::Open(path, options); })));
  }

  const std::string& path() const { return repo_->path(); }

  std::unique_ptr<PyRun> CreateRun(
      const std::string& experiment, const std::string& name,
      const std::string& description, const std::vector<std::string>& tags,
      const py::object& params, const std::string& on_exception,
      const std::string& on_interrupt, const std::string& sync,
      bool system_metrics, double system_metrics_interval) {
    RunOptions options;
    options.experiment = experiment;
    options.name = name;
    options.description = description;
    options.tags = tags;
    if (!params.is_none()) options.params = ToValue(params, "", 0);
    if (on_exception != "leave" && on_exception != "discard" &&
        on_exception != "fail") {
      throw StatusError{absl::InvalidArgumentError(
          absl::StrCat("on_exception '", on_exception,
                       "' is not one of leave, discard, fail"))};
    }
    if (on_interrupt != "commit" && on_interrupt != "abandon") {
      throw StatusError{absl::InvalidArgumentError(absl::StrCat(
          "on_interrupt '", on_interrupt, "' is not one of commit, abandon"))};
    }
    if (!(system_metrics_interval > 0) || std::isinf(system_metrics_interval)) {
      throw StatusError{absl::InvalidArgumentError(
          absl::StrCat("system_metrics_interval ", system_metrics_interval,
                       " is not a positive number of seconds"))};
    }
    options.system_metrics = system_metrics;
    options.system_metrics_interval = absl::Seconds(system_metrics_interval);
    if (sync == "commit") {
      options.sync_policy = storage::SyncPolicy::kOnCommit;
    } else if (sync == "flush") {
      options.sync_policy = storage::SyncPolicy::kEveryFlush;
    } else if (sync == "never") {
      options.sync_policy = storage::SyncPolicy::kNever;
    } else {
      throw StatusError{absl::InvalidArgumentError(absl::StrCat(
          "sync '", sync, "' is not one of commit, flush, never"))};
    }
    std::unique_ptr<Run> run =
        ValueOrThrow(Unlocked([&] { return repo_->CreateRun(options); }));
    return std::make_unique<PyRun>(repo_, std::move(run), on_exception,
                                   on_interrupt);
  }

  void DeleteRun(const std::string& id, bool force) {
    ThrowIfError(Unlocked([&] {
      DeleteOptions options;
      options.force = force;
      return repo_->DeleteRun(id, options);
    }));
  }

  py::list Runs(const std::optional<std::string>& experiment,
                const std::optional<std::string>& tag,
                const std::optional<std::string>& status,
                const std::optional<std::string>& state,
                const std::string& where,
                const std::vector<std::string>& order_by, size_t offset,
                std::optional<size_t> limit, bool disk_usage) {
    RunFilter filter;
    filter.disk_usage = disk_usage;
    filter.experiment = experiment;
    filter.tag = tag;
    filter.status = ParseStatus(status);
    filter.state = ParseState(state);
    filter.where = where;
    filter.order_by = order_by;
    filter.offset = offset;
    filter.limit = limit;
    std::vector<RunRecord> records =
        ValueOrThrow(Unlocked([&] { return repo_->ListRuns(filter); }));
    py::list out;
    for (const RunRecord& r : records) out.append(RecordToDict(r));
    return out;
  }

  py::dict GetRun(const std::string& id) {
    return RecordToDict(
        ValueOrThrow(Unlocked([&] { return repo_->GetRun(id); })));
  }

  std::unique_ptr<PyRunView> OpenRun(const std::string& id) {
    return std::make_unique<PyRunView>(
        ValueOrThrow(Unlocked([&] { return repo_->OpenRun(id); })));
  }

  py::dict Recover(bool dry_run, bool salvage) {
    RecoverOptions options;
    options.dry_run = dry_run;
    options.salvage = salvage;
    storage::RecoveryReport report =
        ValueOrThrow(Unlocked([&] { return repo_->Recover(options); }));
    py::list actions;
    for (const storage::RecoveryAction& a : report.actions) {
      py::dict d;
      d["kind"] = std::string(ActionKindName(a.kind));
      d["path"] = a.path;
      d["reason"] = a.reason;
      d["done"] = a.done;
      actions.append(d);
    }
    py::list kept;
    for (const auto& [id, why] : report.kept)
      kept.append(py::make_tuple(id, why));
    py::dict d;
    d["actions"] = actions;
    d["kept"] = kept;
    return d;
  }

  py::dict CompactRun(const std::string& id) {
    CompactionReport r =
        ValueOrThrow(Unlocked([&] { return repo_->CompactRun(id); }));
    py::dict d;
    d["run_id"] = r.run_id;
    d["bytes_before"] = r.bytes_before;
    d["bytes_after"] = r.bytes_after;
    d["points"] = r.points;
    d["already_compacted"] = r.already_compacted;
    return d;
  }

 private:
  std::shared_ptr<Repo> repo_;
};

PyObject* NewException(py::module_& m, const char* name, PyObject* bases,
                       const char* doc) {
  std::string qualified = absl::StrCat("runlog.", name);
  PyObject* type =
      PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases, nullptr);
  if (type == nullptr) throw py::error_already_set();
  m.attr(name) = py::handle(type);
  return type;
}

// ---- Run.track's fast path -------------------------------------------------

// Run._track, the pybind11-bound Track: every call the fast path does not
// take goes there, so its checks and messages stay in one place.
PyObject* g_track_checked = nullptr;

// Run.track as a C method (METH_FASTCALL | METH_KEYWORDS): pybind11's
// argument machinery costs more than the tracking itself, so the common
// call — track(value, name=..., step=...) with an exact float or int value,
// a str name, an int or no step, no epoch and no context — is taken here;
// any other call, and any call that fails, goes to Run._track unchanged.
PyObject* TrackFast(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                    PyObject* kwnames) {
  PyObject* slot[5] = {nullptr, nullptr, nullptr, nullptr, nullptr};
  static const char* const kNames[5] = {"value", "name", "step", "epoch",
                                        "context"};
  const Py_ssize_t nkw = kwnames == nullptr ? 0 : PyTuple_GET_SIZE(kwnames);
  // Arity is checked here, with Python's own wording (pybind11 would list
  // its overloads instead).
  if (nargs > 5) {
    PyErr_Format(PyExc_TypeError,
                 "Run.track: takes at most 5 arguments (value, name, step, "
                 "epoch, context), %zd given",
                 nargs);
    return nullptr;
  }
  for (Py_ssize_t i = 0; i < nargs; ++i) slot[i] = args[i];
  for (Py_ssize_t k = 0; k < nkw; ++k) {
    PyObject* key = PyTuple_GET_ITEM(kwnames, k);
    int at = -1;
    for (int j = 0; j < 5 && at < 0; ++j) {
      if (PyUnicode_CompareWithASCIIString(key, kNames[j]) == 0) at = j;
    }
    if (at < 0) {
      PyErr_Format(PyExc_TypeError,
                   "Run.track: unexpected keyword argument '%U' (it takes "
                   "value, name, step, epoch, context)",
                   key);
      return nullptr;
    }
    if (slot[at] != nullptr) {
      PyErr_Format(PyExc_TypeError,
                   "Run.track: got multiple values for argument '%s'",
                   kNames[at]);
      return nullptr;
    }
    slot[at] = args[nargs + k];
  }
  if (slot[0] == nullptr) {
    PyErr_SetString(PyExc_TypeError, "Run.track: missing the value to track");
    return nullptr;
  }
  bool fast = true;
  auto absent = [](PyObject* o) { return o == nullptr || o == Py_None; };
  fast = fast && slot[0] != nullptr && slot[1] != nullptr &&
         PyUnicode_CheckExact(slot[1]) && absent(slot[3]) && absent(slot[4]) &&
         (absent(slot[2]) || PyLong_CheckExact(slot[2])) &&
         (PyFloat_CheckExact(slot[0]) || PyLong_CheckExact(slot[0]));
  if (fast) {
    const double value = PyFloat_CheckExact(slot[0])
                             ? PyFloat_AS_DOUBLE(slot[0])
                             : PyLong_AsDouble(slot[0]);
    fast = !(value == -1.0 && PyErr_Occurred());
    std::optional<int64_t> step;
    if (fast && !absent(slot[2])) {
      int overflow = 0;
      const long long v = PyLong_AsLongLongAndOverflow(slot[2], &overflow);
      fast = overflow == 0 && !(v == -1 && PyErr_Occurred());
      step = static_cast<int64_t>(v);
    }
    Py_ssize_t length = 0;
    const char* name =
        fast ? PyUnicode_AsUTF8AndSize(slot[1], &length) : nullptr;
    PyErr_Clear();  // whatever failed is reported again by Run._track
    PyRun* run = nullptr;
    if (name != nullptr) {
      try {
        run = py::handle(self).cast<PyRun*>();
      } catch (const py::cast_error&) {
        run = nullptr;
      }
    }
    if (run != nullptr &&
        run->TrackChecked(absl::string_view(name, static_cast<size_t>(length)),
                          value, step)
            .ok()) {
      Py_RETURN_NONE;
    }
  }
  // Run._track(self, *args, **kwargs), the arguments as they came.
  std::vector<PyObject*> with_self(static_cast<size_t>(nargs + nkw) + 1);
  with_self[0] = self;
  for (Py_ssize_t i = 0; i < nargs + nkw; ++i) with_self[i + 1] = args[i];
  return PyObject_Vectorcall(g_track_checked, with_self.data(),
                             static_cast<size_t>(nargs) + 1, kwnames);
}

PyMethodDef kTrackDef = {
    "track",
    reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(TrackFast)),
    METH_FASTCALL | METH_KEYWORDS,
    "track(value, name=None, step=None, epoch=None, context=None)\n\n"
    "Tracks one scalar point, or with a dict value one point per key."};

}  // namespace
}  // namespace runlog

PYBIND11_MODULE(_runlog, m) {
  using namespace runlog;  // NOLINT: the module body names many types
  m.doc() = "C++ core of the runlog package; use `import runlog`.";

  g_exceptions.error =
      NewException(m, "Error", PyExc_Exception, "Base of every runlog error.");
  auto bases = [](PyObject* a, PyObject* b) {
    return py::make_tuple(py::handle(a), py::handle(b)).release().ptr();
  };
  g_exceptions.not_found = NewException(
      m, "NotFoundError", bases(g_exceptions.error, PyExc_LookupError),
      "A run, series or param is missing.");
  g_exceptions.data_loss = NewException(m, "DataLossError", g_exceptions.error,
                                        "Stored bytes are damaged.");
  g_exceptions.invalid_argument = NewException(
      m, "InvalidArgumentError", bases(g_exceptions.error, PyExc_ValueError),
      "Bad input: a name, value or option over the limits.");
  g_exceptions.failed_precondition =
      NewException(m, "FailedPreconditionError", g_exceptions.error,
                   "Wrong state, e.g. writing to a run already ended.");

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      PyErr_SetString(ExceptionFor(e.status.code()),
                      std::string(e.status.message()).c_str());
    }
  });

  py::class_<PyRun>(m, "Run")
      .def_property_readonly("id", &PyRun::id)
      .def_property_readonly("is_open", &PyRun::is_open)
      .def("_track", &PyRun::Track, py::arg("value"),
           py::arg("name") = py::none(), py::arg("step") = py::none(),
           py::arg("epoch") = py::none(), py::arg("context") = py::none())
      .def("track_many", &PyRun::TrackMany, py::arg("name"), py::arg("steps"),
           py::arg("values"), py::arg("context") = py::none())
      .def("track_text", &PyRun::TrackText, py::arg("text"), py::arg("name"),
           py::arg("step") = py::none(), py::arg("epoch") = py::none(),
           py::arg("context") = py::none())
      .def("track_histogram", &PyRun::TrackHistogram, py::arg("edges"),
           py::arg("counts"), py::arg("name"), py::arg("step") = py::none(),
           py::arg("epoch") = py::none(), py::arg("context") = py::none())
      .def("track_blob", &PyRun::TrackBlob, py::arg("data"),
           py::arg("content_type"), py::arg("name"),
           py::arg("step") = py::none(), py::arg("epoch") = py::none(),
           py::arg("context") = py::none())
      .def("__setitem__", &PyRun::SetItem)
      .def("__getitem__", &PyRun::GetItem)
      .def_property_readonly("params", &PyRun::Params)
      .def("set_params", &PyRun::SetParams)
      .def("add_tag", &PyRun::AddTag)
      .def("remove_tag", &PyRun::RemoveTag)
      .def("flush", &PyRun::Flush)
      .def("commit", &PyRun::Commit)
      .def("fail", &PyRun::Fail, py::arg("reason") = "")
      .def("close", &PyRun::Close)
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", &PyRun::Exit)
      .def("_end_for_exception", &PyRun::EndForException);
  {
    // Run.track is TrackFast, a method descriptor of the class; the
    // pybind11-bound Track stays as Run._track for every other call.
    py::object run_type = m.attr("Run");
    g_track_checked = PyObject_GetAttrString(run_type.ptr(), "_track");
    if (g_track_checked == nullptr) throw py::error_already_set();
    PyObject* track = PyDescr_NewMethod(
        reinterpret_cast<PyTypeObject*>(run_type.ptr()), &kTrackDef);
    if (track == nullptr ||
        PyObject_SetAttrString(run_type.ptr(), "track", track) != 0) {
      Py_XDECREF(track);
      throw py::error_already_set();
    }
    Py_DECREF(track);
  }

  py::class_<PyRunView>(m, "RunView")
      .def_property_readonly("record", &PyRunView::Record)
      .def("_read_all", &PyRunView::ReadAll)
      .def("_series", &PyRunView::ReadSeries, py::arg("name"),
           py::arg("context") = py::none(), py::arg("steps") = py::none(),
           py::arg("max_points") = py::none());

  py::class_<PyRepo>(m, "Repo")
      .def(py::init<const std::string&, bool>(), py::arg("path"),
           py::arg("create_if_missing") = true)
      .def_property_readonly("path", &PyRepo::path)
      .def("_create_run", &PyRepo::CreateRun, py::kw_only(),
           py::arg("experiment") = "default", py::arg("name") = "",
           py::arg("description") = "",
           py::arg("tags") = std::vector<std::string>(),
           py::arg("params") = py::none(), py::arg("on_exception") = "leave",
           py::arg("on_interrupt") = "commit", py::arg("sync") = "commit",
           py::arg("system_metrics") = false,
           py::arg("system_metrics_interval") = 10.0)
      .def("delete_run", &PyRepo::DeleteRun, py::arg("id"),
           py::arg("force") = false)
      .def("_runs", &PyRepo::Runs, py::arg("experiment") = py::none(),
           py::arg("tag") = py::none(), py::arg("status") = py::none(),
           py::arg("state") = py::none(), py::arg("where") = "",
           py::arg("order_by") = std::vector<std::string>(),
           py::arg("offset") = 0, py::arg("limit") = py::none(),
           py::arg("disk_usage") = false)
      .def("_get_run", &PyRepo::GetRun, py::arg("id"))
      .def("_open_run", &PyRepo::OpenRun, py::arg("id"))
      .def("recover", &PyRepo::Recover, py::arg("dry_run") = false,
           py::arg("salvage") = false)
      .def("compact_run", &PyRepo::CompactRun, py::arg("id"));
}
