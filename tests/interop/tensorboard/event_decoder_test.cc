#include "interop/tensorboard/event_decoder.h"

#include <cmath>
#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/interop/wire.h"
#include "tests/testing/decoder_probes.h"

namespace runlog::interop {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Shape(std::initializer_list<int64_t> dims) {
  std::string shape;
  for (int64_t d : dims) {
    std::string dim;
    wire::Int(&dim, 1, static_cast<uint64_t>(d));
    wire::Bytes(&shape, 2, dim);
  }
  return shape;
}

std::string Tensor(int dtype, absl::string_view shape, absl::string_view rest) {
  std::string t;
  wire::Int(&t, 1, dtype);
  wire::Bytes(&t, 2, shape);
  t.append(rest.data(), rest.size());
  return t;
}

std::string TensorValue(absl::string_view tag, absl::string_view plugin,
                        absl::string_view tensor) {
  std::string v = wire::Tag(tag);
  if (!plugin.empty()) v += wire::PluginMetadata(plugin);
  wire::Bytes(&v, 8, tensor);
  return v;
}

std::string Packed(int field, const void* data, size_t n) {
  std::string out;
  wire::Bytes(&out, field,
              absl::string_view(static_cast<const char*>(data), n));
  return out;
}

TbEvent Decode(EventDecoder& d, const std::string& bytes) {
  TbEvent e;
  absl::Status s = d.Decode(bytes, "f", 0, &e);
  EXPECT_TRUE(s.ok()) << s;
  return e;
}

TEST(EventDecoderTest, SimpleValueScalar) {
  EventDecoder d;
  std::string v = wire::Tag("loss");
  wire::Float(&v, 2, 0.1f);
  TbEvent e = Decode(d, wire::Event(12.5, 3, v));
  EXPECT_EQ(e.wall_time, 12.5);
  EXPECT_EQ(e.step, 3);
  ASSERT_EQ(e.scalars.size(), 1u);
  EXPECT_EQ(e.scalars[0].tag, "loss");
  EXPECT_EQ(e.scalars[0].value, static_cast<double>(0.1f));
}

TEST(EventDecoderTest, Tf2ScalarTensorsAndRememberedPlugin) {
  EventDecoder d;
  const float f = 0.3f;
  const double x = 1.0 / 3;
  TbEvent a = Decode(
      d, wire::Event(
             1, 0,
             TensorValue("acc", "scalars", Tensor(1, "", Packed(5, &f, 4)))));
  ASSERT_EQ(a.scalars.size(), 1u);
  EXPECT_EQ(a.scalars[0].value, static_cast<double>(f));
  // The plugin came with the first value only; tensor_content this time.
  std::string content;
  wire::Bytes(&content, 4,
              absl::string_view(reinterpret_cast<const char*>(&x), 8));
  TbEvent b = Decode(
      d, wire::Event(1, 1, TensorValue("acc", "", Tensor(2, "", content))));
  ASSERT_EQ(b.scalars.size(), 1u);
  EXPECT_EQ(b.scalars[0].value, x);
  EXPECT_EQ(d.plugins().at("acc"), "scalars");
  // half: 0x3c00 is 1.0
  std::string half;
  wire::Bytes(&half, 13, std::string("\x80\x78", 2));  // varint 0x3c00
  TbEvent h = Decode(
      d, wire::Event(1, 2, TensorValue("h", "scalars", Tensor(19, "", half))));
  ASSERT_EQ(h.scalars.size(), 1u);
  EXPECT_EQ(h.scalars[0].value, 1.0);
}

TEST(EventDecoderTest, Histograms) {
  EventDecoder d;
  std::string histo;
  wire::Double(&histo, 1, -1);  // min
  wire::Double(&histo, 2, 2);   // max
  const double limits[] = {0, 2};
  const double counts[] = {3, 4};
  histo += Packed(6, limits, 16);
  histo += Packed(7, counts, 16);
  std::string v = wire::Tag("w");
  wire::Bytes(&v, 5, histo);
  TbEvent e = Decode(d, wire::Event(1, 0, v));
  ASSERT_EQ(e.points.size(), 1u);
  EXPECT_EQ(e.points[0].kind, TbPoint::Kind::kHistogram);
  EXPECT_THAT(e.points[0].histogram.edges, ElementsAre(-1, 0, 2));
  EXPECT_THAT(e.points[0].histogram.counts, ElementsAre(3, 4));

  // TF2: [k,3] rows (left, right, count) with a gap between rows.
  const double rows[] = {0, 1, 5, 2, 3, 6};
  TbEvent t = Decode(
      d,
      wire::Event(1, 0,
                  TensorValue("w2", "histograms",
                              Tensor(2, Shape({2, 3}), Packed(6, rows, 48)))));
  ASSERT_EQ(t.points.size(), 1u);
  EXPECT_THAT(t.points[0].histogram.edges, ElementsAre(0, 1, 2, 3));
  EXPECT_THAT(t.points[0].histogram.counts, ElementsAre(5, 0, 6));
}

TEST(EventDecoderTest, TextImagesAudio) {
  EventDecoder d;
  std::string sv;
  wire::Bytes(&sv, 8, "hello");
  TbEvent text = Decode(
      d,
      wire::Event(1, 0, TensorValue("t", "text", Tensor(7, Shape({1}), sv))));
  ASSERT_EQ(text.points.size(), 1u);
  EXPECT_EQ(text.points[0].kind, TbPoint::Kind::kText);
  EXPECT_EQ(text.points[0].text, "hello");

  const std::string png = "\x89PNG\r\n\x1a\nrest";
  std::string image;
  wire::Bytes(&image, 4, png);
  std::string v = wire::Tag("img");
  wire::Bytes(&v, 4, image);
  TbEvent img = Decode(d, wire::Event(1, 0, v));
  ASSERT_EQ(img.points.size(), 1u);
  EXPECT_EQ(img.points[0].blob.content_type, "image/png");
  EXPECT_EQ(img.points[0].blob.data, png);

  std::string imgs;
  for (absl::string_view s : {"2", "2",
                              "\xff\xd8\xff"
                              "a",
                              "GIF89a"}) {
    wire::Bytes(&imgs, 8, s);
  }
  TbEvent many = Decode(
      d, wire::Event(
             1, 0, TensorValue("imgs", "images", Tensor(7, Shape({4}), imgs))));
  ASSERT_EQ(many.points.size(), 2u);
  EXPECT_EQ(many.points[0].blob.content_type, "image/jpeg");
  EXPECT_EQ(many.points[1].blob.content_type, "image/gif");
  EXPECT_EQ(many.points[1].context.at("index"), "1");

  std::string audio;
  wire::Bytes(&audio, 4, "RIFF....");
  wire::Bytes(&audio, 5, "audio/wav");
  std::string av = wire::Tag("a");
  wire::Bytes(&av, 6, audio);
  TbEvent a = Decode(d, wire::Event(1, 0, av));
  ASSERT_EQ(a.points.size(), 1u);
  EXPECT_EQ(a.points[0].blob.data, "RIFF....");
}

TEST(EventDecoderTest, HparamsBecomeParams) {
  EventDecoder d;
  // HParamsPluginData{session_start_info{hparams{"lr": number 0.1}}}
  std::string number;
  wire::Double(&number, 2, 0.1);  // google.protobuf.Value.number_value
  std::string entry;
  wire::Bytes(&entry, 1, "lr");
  wire::Bytes(&entry, 2, number);
  std::string start;
  wire::Bytes(&start, 1, entry);
  std::string data;
  wire::Bytes(&data, 3, start);
  std::string v = wire::Tag("_hparams_/session_start_info");
  v += wire::PluginMetadata("hparams", data);
  TbEvent e = Decode(d, wire::Event(1, 0, v));
  EXPECT_TRUE(e.points.empty());
  ASSERT_TRUE(e.hparams.is_map());
  EXPECT_EQ(e.hparams.Find("lr")->as_double(), 0.1);
}

TEST(EventDecoderTest, OtherContentIsSkippedByKind) {
  EventDecoder d;
  std::string graph;
  wire::Bytes(&graph, 4, "graphdef");
  TbEvent g = Decode(d, graph);
  EXPECT_THAT(g.skipped, ElementsAre("graph_def: not imported"));
  std::string version;
  wire::Bytes(&version, 3, "brain.Event:2");
  EXPECT_TRUE(Decode(d, version).skipped.empty());
  const float f[] = {1, 2};
  TbEvent pr = Decode(
      d, wire::Event(1, 0,
                     TensorValue("pr", "pr_curves",
                                 Tensor(1, Shape({2}), Packed(5, f, 8)))));
  EXPECT_THAT(pr.skipped, ElementsAre(HasSubstr("plugin 'pr_curves'")));
}

TEST(EventDecoderTest, HostileInputIsDataLossOrSkipped) {
  EventDecoder d;
  TbEvent e;
  // Not a protobuf at all.
  EXPECT_TRUE(absl::IsDataLoss(d.Decode("\xff\xff\xff", "f", 9, &e)));
  // A string declaring 1 GB it does not hold.
  std::string big;
  wire::Key(&big, 3, 2);
  wire::Varint(&big, uint64_t{1} << 30);
  big += "tiny";
  testing::AllocationProbe probe;
  absl::Status s = d.Decode(big, "f", 9, &e);
  EXPECT_LT(probe.largest(), size_t{1} << 20);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("f: offset 9"));
  // Summaries nested 100,000 deep: Summary.Value.tensor... is not recursive,
  // but hparams' google.protobuf.Value is; libprotobuf stops at its depth
  // limit and the hparams are skipped.
  // Value.list_value (6) holding ListValue.values (1) holding a Value...
  std::string entry;
  wire::Bytes(&entry, 1, "x");
  wire::Bytes(&entry, 2, wire::Nested(1, 100000, "", 6));
  std::string start;
  wire::Bytes(&start, 1, entry);
  std::string data;
  wire::Bytes(&data, 3, start);
  std::string v = wire::Tag("_hparams_/session_start_info");
  v += wire::PluginMetadata("hparams", data);
  TbEvent h = Decode(d, wire::Event(1, 0, v));
  EXPECT_TRUE(h.hparams.is_null());
  EXPECT_THAT(h.skipped, ElementsAre("hparams: content does not parse"));
}

}  // namespace
}  // namespace runlog::interop
