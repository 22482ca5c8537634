#include "interop/tensorboard/exporter.h"

#include <cmath>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "interop/proto/tensorboard.pb.h"
#include "interop/tensorboard/tfrecord_reader.h"
#include "storage/status_macros.h"

namespace runlog::interop {
namespace {

constexpr size_t kFlushBytes = 1 << 20;

class EventWriter {
 public:
  explicit EventWriter(storage::WritableFile* file) : file_(file) {}

  absl::Status Write(const tb::Event& event) {
    event.SerializeToString(&scratch_);
    AppendTFRecord(scratch_, &buffer_);
    if (buffer_.size() >= kFlushBytes) return Flush();
    return absl::OkStatus();
  }
  absl::Status Flush() {
    absl::Status s = file_->Append(buffer_);
    buffer_.clear();
    return s;
  }

 private:
  storage::WritableFile* file_;
  std::string buffer_;
  std::string scratch_;
};

void Stamp(tb::Event* e, int64_t step, int64_t time_us) {
  e->set_step(step);
  e->set_wall_time(static_cast<double>(time_us) / 1e6);
}

tb::Summary::Value* NewValue(tb::Event* e, const SeriesKey& key, bool first,
                             const char* plugin) {
  tb::Summary::Value* v = e->mutable_summary()->add_value();
  v->set_tag(key.ToString());
  if (first && plugin != nullptr) {
    v->mutable_metadata()->mutable_plugin_data()->set_plugin_name(plugin);
  }
  return v;
}

}  // namespace

absl::StatusOr<TensorBoardExport> ExportRunToTensorBoard(
    Repo& repo, const std::string& run_id, const std::string& output_dir,
    storage::FileSystem* fs) {
  if (fs == nullptr) fs = storage::FileSystem::Default();
  RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<RunView> view, repo.OpenRun(run_id));
  if (!view->record().error.ok()) return view->record().error;
  TensorBoardExport result;
  const std::string dir = storage::JoinPath(output_dir, run_id);
  if (absl::Status s = fs->CreateDir(output_dir);
      !s.ok() && !absl::IsAlreadyExists(s)) {
    return s;
  }
  if (absl::Status s = fs->CreateDir(dir);
      !s.ok() && !absl::IsAlreadyExists(s)) {
    return s;
  }
  const int64_t created_s = absl::ToUnixSeconds(view->record().summary.created);
  result.file = storage::JoinPath(
      dir, absl::StrCat("events.out.tfevents.", created_s, ".runlog"));
  const std::string tmp = absl::StrCat(result.file, ".tmp");
  RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<storage::WritableFile> file,
                          fs->NewWritableFile(tmp));
  EventWriter writer(file.get());
  absl::Status status = [&]() -> absl::Status {
    tb::Event e;
    e.set_wall_time(static_cast<double>(
                        absl::ToUnixMicros(view->record().summary.created)) /
                    1e6);
    e.set_file_version("brain.Event:2");
    RUNLOG_RETURN_IF_ERROR(writer.Write(e));
    for (const SeriesSummary& s : view->series()) {
      bool first = true;
      switch (s.kind) {
        case SeriesKind::kScalar: {
          RUNLOG_ASSIGN_OR_RETURN(ScalarColumns c, view->ReadScalars(s.key));
          for (size_t i = 0; i < c.size(); ++i) {
            e.Clear();
            Stamp(&e, c.steps[i], c.times_us[i]);
            tb::TensorProto* t =
                NewValue(&e, s.key, first, "scalars")->mutable_tensor();
            t->set_dtype(tb::DT_DOUBLE);
            t->mutable_tensor_shape();
            t->add_double_val(c.values[i]);
            first = false;
            RUNLOG_RETURN_IF_ERROR(writer.Write(e));
          }
          result.points += c.size();
          break;
        }
        case SeriesKind::kHistogram: {
          RUNLOG_ASSIGN_OR_RETURN(HistogramColumns c,
                                  view->ReadHistograms(s.key));
          for (size_t i = 0; i < c.size(); ++i) {
            e.Clear();
            Stamp(&e, c.steps[i], c.times_us[i]);
            tb::HistogramProto* h =
                NewValue(&e, s.key, first, nullptr)->mutable_histo();
            const Histogram& hist = c.values[i];
            h->set_min(hist.edges.front());
            h->set_max(hist.edges.back());
            double num = 0;
            for (double n : hist.counts) num += n;
            h->set_num(num);
            for (size_t b = 1; b < hist.edges.size(); ++b) {
              h->add_bucket_limit(hist.edges[b]);
            }
            for (double n : hist.counts) h->add_bucket(n);
            first = false;
            RUNLOG_RETURN_IF_ERROR(writer.Write(e));
          }
          result.points += c.size();
          break;
        }
        case SeriesKind::kText: {
          RUNLOG_ASSIGN_OR_RETURN(TextColumns c, view->ReadTexts(s.key));
          for (size_t i = 0; i < c.size(); ++i) {
            e.Clear();
            Stamp(&e, c.steps[i], c.times_us[i]);
            tb::TensorProto* t =
                NewValue(&e, s.key, first, "text")->mutable_tensor();
            t->set_dtype(tb::DT_STRING);
            t->mutable_tensor_shape();
            t->add_string_val(c.values[i]);
            first = false;
            RUNLOG_RETURN_IF_ERROR(writer.Write(e));
          }
          result.points += c.size();
          break;
        }
        case SeriesKind::kBlob: {
          RUNLOG_ASSIGN_OR_RETURN(BlobColumns c, view->ReadBlobs(s.key));
          for (size_t i = 0; i < c.size(); ++i) {
            if (!absl::StartsWith(c.values[i].content_type, "image/")) {
              ++result.skipped[absl::StrCat("blob of type ",
                                            c.values[i].content_type,
                                            ": TensorBoard shows images only")];
              continue;
            }
            e.Clear();
            Stamp(&e, c.steps[i], c.times_us[i]);
            NewValue(&e, s.key, first, nullptr)
                ->mutable_image()
                ->set_encoded_image_string(c.values[i].data);
            first = false;
            ++result.points;
            RUNLOG_RETURN_IF_ERROR(writer.Write(e));
          }
          break;
        }
      }
      ++result.series;
    }
    RUNLOG_RETURN_IF_ERROR(writer.Flush());
    RUNLOG_RETURN_IF_ERROR(file->Close());
    return fs->Rename(tmp, result.file);
  }();
  if (!status.ok()) {
    file.reset();
    fs->RemoveFile(tmp).IgnoreError();
    return status;
  }
  return result;
}

}  // namespace runlog::interop
