// Writes the seed corpora of the interop fuzz targets (tfevents, wandb,
// mlflow_metric, csv) into the directory given: small inputs of every
// record kind the readers know. Built on request only:
//   cmake --build build --target fuzz_make_interop_seeds
//   build/tests/fuzz/fuzz_make_interop_seeds tests/fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "interop/tensorboard/tfrecord_reader.h"
#include "interop/wandb/log_reader.h"
#include "tests/interop/wire.h"

namespace runlog::interop {
namespace {

namespace w = wire;

void Put(const std::string& dir, const std::string& name,
         const std::string& bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
}

std::string Frames(const std::vector<std::string>& events) {
  std::string out;
  for (const std::string& e : events) AppendTFRecord(e, &out);
  return out;
}

std::string Tensor(int dtype, absl::string_view rest) {
  std::string t;
  w::Int(&t, 1, dtype);
  w::Bytes(&t, 2, "");
  t.append(rest.data(), rest.size());
  return t;
}

void TfEvents(const std::string& dir) {
  std::string version;
  w::Bytes(&version, 3, "brain.Event:2");
  std::string simple = w::Tag("loss");
  w::Float(&simple, 2, 0.5f);
  std::string tensor = w::Tag("acc") + w::PluginMetadata("scalars");
  std::string dv;
  w::Double(&dv, 6, 0.25);
  w::Bytes(&tensor, 8, Tensor(2, dv));
  std::string histo;
  w::Double(&histo, 1, -1);
  const double limits[] = {0, 2}, counts[] = {3, 4};
  w::Bytes(&histo, 6,
           absl::string_view(reinterpret_cast<const char*>(limits), 16));
  w::Bytes(&histo, 7,
           absl::string_view(reinterpret_cast<const char*>(counts), 16));
  std::string hv = w::Tag("w");
  w::Bytes(&hv, 5, histo);
  std::string text = w::Tag("t") + w::PluginMetadata("text");
  std::string sv;
  w::Bytes(&sv, 8, "hello");
  w::Bytes(&text, 8, Tensor(7, sv));
  std::string image;
  w::Bytes(&image, 4, "\x89PNG\r\n\x1a\n");
  std::string iv = w::Tag("img");
  w::Bytes(&iv, 4, image);
  std::string graph;
  w::Bytes(&graph, 4, "graph");
  Put(dir, "scalars",
      Frames({version, w::Event(1e9, 0, simple), w::Event(1e9, 1, tensor),
              w::Event(1e9, 2, simple)}));
  Put(dir, "kinds",
      Frames({w::Event(1e9, 0, hv), w::Event(1e9, 0, text),
              w::Event(1e9, 0, iv), graph}));
  std::string torn =
      Frames({w::Event(1e9, 0, simple), w::Event(1e9, 1, simple)});
  torn.resize(torn.size() - 5);
  Put(dir, "torn", torn);
}

void Wandb(const std::string& dir) {
  auto item = [](absl::string_view k, absl::string_view json) {
    std::string i;
    w::Bytes(&i, 1, k);
    w::Bytes(&i, 16, json);
    return i;
  };
  auto record = [](int field, absl::string_view body) {
    std::string r;
    w::Int(&r, 1, 1);
    w::Bytes(&r, field, body);
    return r;
  };
  std::string run, hist, conf, sum, ex, step;
  w::Bytes(&run, 1, "id1");
  w::Bytes(&run, 3, "proj");
  w::Bytes(&hist, 1, item("loss", "0.5"));
  w::Bytes(&hist, 1, item("_timestamp", "1700000000.5"));
  w::Int(&step, 1, 3);
  w::Bytes(&hist, 2, step);
  w::Bytes(&conf, 1, item("lr", "0.1"));
  w::Bytes(&sum, 1, item("best", "1"));
  w::Int(&ex, 1, 0);
  std::string out;
  WandbLogWriter writer(&out);
  for (const std::string& r :
       {record(17, run), record(5, conf), record(2, hist), record(3, sum),
        record(18, ex)}) {
    writer.Add(r);
  }
  Put(dir, "run", out);
  std::string big;
  WandbLogWriter big_writer(&big);
  big_writer.Add(record(2, hist) + std::string(40000, '\0'));
  Put(dir, "fragments", big);
}

}  // namespace
}  // namespace runlog::interop

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const std::string root = argv[1];
  runlog::interop::TfEvents(root + "/tfevents");
  runlog::interop::Wandb(root + "/wandb");
  runlog::interop::Put(root + "/mlflow_metric", "lines",
                       "1700000000000 0.5 0\n1700000000001 nan 1\n"
                       "1 -inf 2\r\n1 1e-05\nbad line\n");
  runlog::interop::Put(root + "/csv", "wide",
                       "epoch,step,loss\n0,0,0.5\n0,1,\"0.25\"\r\n");
  runlog::interop::Put(
      root + "/csv", "long",
      "run,series,context,kind,step,epoch,time,value\n"
      "r,loss,a=b,scalar,0,,2024-05-01T12:00:00.000000Z,0.1\n"
      "r,t,,text,1,,2024-05-01T12:00:00.000000Z,\"x \"\"y\"\"\nz\"\n");
  return 0;
}
