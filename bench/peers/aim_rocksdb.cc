#include "bench/peers/aim_rocksdb.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "storage/file_system.h"
#include "storage/status_macros.h"

namespace runlog::bench {
namespace {

constexpr char kSep = '\xFE';
// Aim hashes the context dict; the workloads track without a context, so
// every series has the id of the empty context.
constexpr int64_t kEmptyContextId = 0x2d2c8a0f6b4e1a37;

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", s.ToString()));
}

void AddString(std::string* key, absl::string_view s) {
  key->append(s.data(), s.size());
  key->push_back(kSep);
}

void AddInt(std::string* key, int64_t v) {
  key->push_back('\x01');
  const uint64_t u = static_cast<uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8) {
    key->push_back(static_cast<char>((u >> shift) & 0xFF));
  }
  key->push_back(kSep);
}

std::string EncodeDouble(double v) {
  std::string out(9, '\0');
  out[0] = '\x03';
  std::memcpy(&out[1], &v, 8);
  return out;
}

std::string EncodeInt(int64_t v) {
  std::string out(9, '\0');
  out[0] = '\x02';
  std::memcpy(&out[1], &v, 8);
  return out;
}

// Decodes a value written by EncodeDouble or EncodeInt; NaN otherwise.
double DecodeNumber(const rocksdb::Slice& s) {
  if (s.size() != 9) return std::nan("");
  if (s[0] == '\x03') {
    double v;
    std::memcpy(&v, s.data() + 1, 8);
    return v;
  }
  int64_t v;
  std::memcpy(&v, s.data() + 1, 8);
  return static_cast<double>(v);
}

// Aim's hash of a step: any good 64-bit mix will do (splitmix64's).
int64_t StepHash(int64_t step) {
  uint64_t z = static_cast<uint64_t>(step) + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<int64_t>(z ^ (z >> 31));
}

std::string SeriesPrefix(absl::string_view name, absl::string_view column) {
  std::string key;
  AddString(&key, "seqs");
  AddString(&key, "v2");
  AddInt(&key, kEmptyContextId);
  AddString(&key, name);
  AddString(&key, column);
  return key;
}

std::string TracePrefix(absl::string_view name) {
  std::string key;
  AddString(&key, "meta");
  AddString(&key, "traces");
  AddInt(&key, kEmptyContextId);
  AddString(&key, name);
  return key;
}

rocksdb::Options AimOptions() {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.write_buffer_size = 1 << 20;
  return options;
}

absl::StatusOr<std::unique_ptr<rocksdb::DB>> OpenDb(const std::string& path,
                                                    bool read_only) {
  rocksdb::DB* db = nullptr;
  const rocksdb::Options options = AimOptions();
  const rocksdb::Status s =
      read_only ? rocksdb::DB::OpenForReadOnly(options, path, &db)
                : rocksdb::DB::Open(options, path, &db);
  RUNLOG_RETURN_IF_ERROR(FromRocks(s, absl::StrCat("open ", path)));
  return std::unique_ptr<rocksdb::DB>(db);
}

absl::Status CloseDb(std::unique_ptr<rocksdb::DB>* db) {
  if (*db == nullptr) return absl::OkStatus();
  const rocksdb::Status s = (*db)->Close();
  db->reset();
  return FromRocks(s, "close");
}

// Reads the element at *pos (without its kSep); false if there is none.
bool NextElement(const rocksdb::Slice& key, size_t* pos,
                 absl::string_view* element) {
  if (*pos >= key.size()) return false;
  const char* begin = key.data() + *pos;
  const size_t rest = key.size() - *pos;
  size_t len;
  if (*begin == '\x01') {
    len = 9;  // an integer: fixed size, its bytes may contain kSep
  } else {
    const void* sep = std::memchr(begin, kSep, rest);
    if (sep == nullptr) return false;
    len = static_cast<size_t>(static_cast<const char*>(sep) - begin);
  }
  if (len >= rest || begin[len] != kSep) return false;
  *element = absl::string_view(begin, len);
  *pos += len + 1;
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AimRocksDb>> AimRocksDb::Open(std::string dir) {
  storage::FileSystem* fs = storage::FileSystem::Default();
  for (const char* sub : {"seqs", "seqs/chunks", "meta", "meta/chunks"}) {
    RUNLOG_RETURN_IF_ERROR(fs->CreateDir(storage::JoinPath(dir, sub)));
  }
  return std::unique_ptr<AimRocksDb>(new AimRocksDb(std::move(dir)));
}

AimRocksDb::AimRocksDb(std::string dir) : Engine(std::move(dir)) {}

AimRocksDb::~AimRocksDb() {
  CloseReaders().IgnoreError();
  CloseDb(&seqs_).IgnoreError();
  CloseDb(&meta_).IgnoreError();
  CloseDb(&index_).IgnoreError();
}

absl::Status AimRocksDb::CloseReaders() {
  for (auto& [run, db] : readers_) RUNLOG_RETURN_IF_ERROR(CloseDb(&db));
  readers_.clear();
  return absl::OkStatus();
}

absl::Status AimRocksDb::StartRun(const std::string& run_id,
                                  const std::vector<Param>& params) {
  if (seqs_ != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("run ", run_, " is still open"));
  }
  run_ = run_id;
  traces_.clear();
  RUNLOG_ASSIGN_OR_RETURN(
      seqs_, OpenDb(storage::JoinPath(dir(), "seqs/chunks", run_id), false));
  RUNLOG_ASSIGN_OR_RETURN(
      meta_, OpenDb(storage::JoinPath(dir(), "meta/chunks", run_id), false));
  // run["hparams"] = {...} writes each leaf in one batch.
  rocksdb::WriteBatch batch;
  for (const auto& [name, value] : params) {
    std::string key;
    AddString(&key, "meta");
    AddString(&key, "attrs");
    AddString(&key, "hparams");
    AddString(&key, name);
    batch.Put(key, EncodeDouble(value));
  }
  std::string ctx;
  AddString(&ctx, "meta");
  AddString(&ctx, "contexts");
  AddInt(&ctx, kEmptyContextId);
  batch.Put(ctx, std::string(1, '\0'));
  return FromRocks(meta_->Write(rocksdb::WriteOptions(), &batch),
                   absl::StrCat("write params of run ", run_id));
}

absl::StatusOr<int> AimRocksDb::Series(absl::string_view name) {
  for (size_t i = 0; i < traces_.size(); ++i) {
    if (traces_[i].name == name) return static_cast<int>(i);
  }
  traces_.push_back(TraceState{std::string(name)});
  return static_cast<int>(traces_.size() - 1);
}

absl::Status AimRocksDb::WritePoint(int series, int64_t step, double value,
                                    double epoch, int64_t time_us) {
  TraceState& t = traces_[static_cast<size_t>(series)];
  // Aim builds every key from the name on each call.
  std::string hash;
  AddInt(&hash, StepHash(step));
  rocksdb::WriteBatch seq;
  seq.Put(SeriesPrefix(t.name, "val") + hash, EncodeDouble(value));
  seq.Put(SeriesPrefix(t.name, "step") + hash, EncodeInt(step));
  seq.Put(SeriesPrefix(t.name, "epoch") + hash,
          std::isnan(epoch) ? std::string(1, '\0') : EncodeDouble(epoch));
  seq.Put(SeriesPrefix(t.name, "time") + hash,
          EncodeDouble(static_cast<double>(time_us) * 1e-6));
  RUNLOG_RETURN_IF_ERROR(FromRocks(seqs_->Write(rocksdb::WriteOptions(), &seq),
                                   absl::StrCat("track ", t.name)));
  if (!t.any || value < t.min) t.min = value;
  if (!t.any || value > t.max) t.max = value;
  t.any = true;
  const std::string prefix = TracePrefix(t.name);
  rocksdb::WriteBatch meta;
  meta.Put(prefix + "last" + kSep, EncodeDouble(value));
  meta.Put(prefix + "last_step" + kSep, EncodeInt(step));
  meta.Put(prefix + "min" + kSep, EncodeDouble(t.min));
  meta.Put(prefix + "max" + kSep, EncodeDouble(t.max));
  return FromRocks(meta_->Write(rocksdb::WriteOptions(), &meta),
                   absl::StrCat("track meta of ", t.name));
}

absl::Status AimRocksDb::EndRun() {
  if (index_ == nullptr) {
    RUNLOG_ASSIGN_OR_RETURN(
        index_, OpenDb(storage::JoinPath(dir(), "meta/index"), false));
  }
  std::string prefix;
  AddString(&prefix, "meta");
  AddString(&prefix, "chunks");
  AddString(&prefix, run_);
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(
      meta_->NewIterator(rocksdb::ReadOptions()));
  const size_t meta_len = 5;  // "meta" + kSep, replaced by the prefix
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const rocksdb::Slice k = it->key();
    batch.Put(prefix + std::string(k.data() + meta_len, k.size() - meta_len),
              it->value());
  }
  RUNLOG_RETURN_IF_ERROR(FromRocks(it->status(), "scan meta"));
  it.reset();
  RUNLOG_RETURN_IF_ERROR(
      FromRocks(index_->Write(rocksdb::WriteOptions(), &batch),
                absl::StrCat("index run ", run_)));
  RUNLOG_RETURN_IF_ERROR(CloseDb(&seqs_));
  RUNLOG_RETURN_IF_ERROR(CloseDb(&meta_));
  runs_.push_back(run_);
  return absl::OkStatus();
}

absl::Status AimRocksDb::Compact() {
  RUNLOG_RETURN_IF_ERROR(CloseReaders());
  RUNLOG_RETURN_IF_ERROR(CloseDb(&index_));
  std::vector<std::string> paths = {storage::JoinPath(dir(), "meta/index")};
  for (const std::string& run : runs_) {
    paths.push_back(storage::JoinPath(dir(), "seqs/chunks", run));
    paths.push_back(storage::JoinPath(dir(), "meta/chunks", run));
  }
  for (const std::string& path : paths) {
    RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::DB> db,
                            OpenDb(path, false));
    RUNLOG_RETURN_IF_ERROR(FromRocks(
        db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr),
        absl::StrCat("compact ", path)));
    RUNLOG_RETURN_IF_ERROR(CloseDb(&db));
  }
  return absl::OkStatus();
}

absl::Status AimRocksDb::ReadSeries(const std::string& run_id,
                                    absl::string_view name, SeriesPoints* out) {
  std::unique_ptr<rocksdb::DB>& db = readers_[run_id];
  if (db == nullptr) {
    RUNLOG_ASSIGN_OR_RETURN(
        db, OpenDb(storage::JoinPath(dir(), "seqs/chunks", run_id), true));
  }
  std::vector<int64_t> steps;
  std::vector<double> values;
  for (const char* column : {"step", "val"}) {
    const std::string prefix = SeriesPrefix(name, column);
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      const double v = DecodeNumber(it->value());
      if (column[0] == 's') {
        steps.push_back(static_cast<int64_t>(v));
      } else {
        values.push_back(v);
      }
    }
    RUNLOG_RETURN_IF_ERROR(FromRocks(it->status(), "read series"));
  }
  if (steps.size() != values.size()) {
    return absl::DataLossError(absl::StrCat("run ", run_id, " series ", name,
                                            ": step and value columns differ"));
  }
  std::vector<size_t> order(steps.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return steps[a] < steps[b]; });
  out->steps.resize(order.size());
  out->values.resize(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    out->steps[i] = steps[order[i]];
    out->values[i] = values[order[i]];
  }
  return absl::OkStatus();
}

absl::Status AimRocksDb::ListRuns(absl::string_view metric,
                                  std::vector<RunListing>* out) {
  out->clear();
  RUNLOG_RETURN_IF_ERROR(CloseDb(&index_));
  RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::DB> db,
                          OpenDb(storage::JoinPath(dir(), "meta/index"), true));
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const rocksdb::Slice key = it->key();
    size_t pos = 0;
    absl::string_view meta, chunks, run, kind;
    if (!NextElement(key, &pos, &meta) || !NextElement(key, &pos, &chunks) ||
        !NextElement(key, &pos, &run) || !NextElement(key, &pos, &kind)) {
      continue;
    }
    if (out->empty() || out->back().run_id != run) {
      out->push_back(RunListing{std::string(run)});
    }
    RunListing& listing = out->back();
    absl::string_view a, b, c;
    if (kind == "attrs") {
      if (NextElement(key, &pos, &a) && a == "hparams" &&
          NextElement(key, &pos, &b)) {
        listing.params.emplace_back(std::string(b), DecodeNumber(it->value()));
      }
    } else if (kind == "traces") {
      if (NextElement(key, &pos, &a) && NextElement(key, &pos, &b) &&
          b == metric && NextElement(key, &pos, &c) && c == "last") {
        listing.last = DecodeNumber(it->value());
        listing.has_last = true;
      }
    }
  }
  RUNLOG_RETURN_IF_ERROR(FromRocks(it->status(), "list runs"));
  it.reset();
  return CloseDb(&db);
}

}  // namespace runlog::bench
