// The web UI's server over real HTTP on an ephemeral 127.0.0.1 port: every
// endpoint, ETags, and every bad-input path answered with its status while
// the server keeps serving.
#include "tools/serve/server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tracking/repo.h"

namespace runlog::serve {
namespace {

using json = nlohmann::json;
using ::runlog::testing::IsOk;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr int kDensePoints = 50'000;
// A tiny valid PNG (1x1, one red pixel).
const unsigned char kPngBytes[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
    0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00,
    0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0xf7, 0x03, 0x41, 0x43, 0x00, 0x00, 0x00,
    0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
const std::string kPng(reinterpret_cast<const char*>(kPngBytes),
                       sizeof(kPngBytes));

// A TCP connection to 127.0.0.1:port; -1 on failure.
int ConnectLoopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto repo = Repo::Open(dir_.path() + "/repo");
    ASSERT_THAT(repo, IsOk());
    repo_ = *std::move(repo);
    MakeRuns();
    ServerOptions options;
    options.port = 0;
    options.timeout = absl::Seconds(1);
    auto server = Server::Start(repo_.get(), options);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
    ASSERT_GT(server_->port(), 0);
    serving_ = std::thread([this] { served_ = server_->Run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(10, 0);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Stop();
    if (serving_.joinable()) serving_.join();
    EXPECT_THAT(served_, IsOk());
  }

  void MakeRuns() {
    RunOptions a;
    a.experiment = "sweep";
    a.name = "a";
    a.description = "the first run";
    a.tags = {"demo", "wide"};
    a.params = Value::EmptyMap();
    ASSERT_THAT(SetPath(a.params, "hparams.lr", 0.001), IsOk());
    ASSERT_THAT(SetPath(a.params, "hparams.layers", Value::List{64, 128}),
                IsOk());
    auto run = repo_->CreateRun(a);
    ASSERT_THAT(run, IsOk());
    auto loss = (*run)->Series("loss", {{"subset", "train"}});
    ASSERT_THAT(loss, IsOk());
    for (int s = 0; s < kDensePoints; ++s) {
      // A single spike at step 31337 that every envelope must show.
      const double v = s == 31337 ? 100.0 : 1.0 / (1 + s);
      ASSERT_THAT(loss->Track(s, v, s / 1000.0), IsOk());
    }
    ASSERT_THAT((*run)->Track("acc", std::nan(""), 0), IsOk());
    ASSERT_THAT((*run)->Track("acc", INFINITY, 1), IsOk());
    ASSERT_THAT((*run)->Track("acc", 0.5, 2), IsOk());
    for (int s = 0; s < 3; ++s) {
      ASSERT_THAT((*run)->TrackText("notes", absl::StrCat("note ", s), s),
                  IsOk());
      ASSERT_THAT((*run)->TrackHistogram(
                      "weights", Histogram{{0, 1, 2}, {1.0 * s, 2.0}}, s * 10),
                  IsOk());
    }
    ASSERT_THAT((*run)->TrackBlob("image", Blob{"image/png", kPng}, 7), IsOk());
    ASSERT_THAT((*run)->TrackBlob("page", Blob{"text/html", "<script>"}, 7),
                IsOk());
    ASSERT_THAT((*run)->Commit(), IsOk());
    committed_ = (*run)->id();

    RunOptions b;
    b.experiment = "sweep";
    b.name = "b";
    b.params = Value::EmptyMap();
    ASSERT_THAT(SetPath(b.params, "hparams.lr", 0.01), IsOk());
    auto live = repo_->CreateRun(b);
    ASSERT_THAT(live, IsOk());
    for (int s = 0; s < 100; ++s) {
      ASSERT_THAT(
          (*live)->Track("loss", 2.0 - s * 0.01, s, {{"subset", "train"}}),
          IsOk());
    }
    ASSERT_THAT((*live)->Flush(), IsOk());
    live_ = (*live)->id();
    live_run_ = *std::move(live);
  }

  json GetJson(const std::string& path, int want_status) {
    auto res = client_->Get(path.c_str());
    EXPECT_TRUE(res) << path << ": " << httplib::to_string(res.error());
    if (!res) return json();
    EXPECT_EQ(res->status, want_status) << path << ": " << res->body;
    EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(res->get_header_value("Content-Type"),
              "application/json; charset=utf-8");
    json j = json::parse(res->body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << path << ": " << res->body;
    return j;
  }

  // A 4xx answer with a JSON error naming `what`.
  void ExpectError(const std::string& path, int status,
                   const std::string& what) {
    json j = GetJson(path, status);
    ASSERT_TRUE(j.contains("error")) << path;
    EXPECT_THAT(j["error"].get<std::string>(), HasSubstr(what)) << path;
  }

  void ExpectStillServing() {
    json j = GetJson("/api/runs", 200);
    EXPECT_THAT(j["runs"], SizeIs(2));
  }

  std::string SeriesPath(const std::string& runs, const std::string& extra) {
    return absl::StrCat("/api/series?runs=", runs,
                        "&name=loss&context=%7B%22subset%22%3A%22train%22%7D",
                        extra);
  }

  runlog::testing::TempDir dir_;
  std::unique_ptr<Repo> repo_;
  std::unique_ptr<runlog::Run> live_run_;
  std::string committed_, live_;
  std::unique_ptr<Server> server_;
  std::thread serving_;
  absl::Status served_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ServerTest, ListsRunsWithParamsTagsAndSummaries) {
  json j = GetJson("/api/runs", 200);
  ASSERT_THAT(j["runs"], SizeIs(2));
  const json& a = j["runs"][0];
  EXPECT_EQ(a["id"], committed_);
  EXPECT_EQ(a["status"], "finished");
  EXPECT_EQ(a["state"], "committed");
  EXPECT_EQ(a["experiment"], "sweep");
  EXPECT_EQ(a["params"]["hparams"]["lr"], 0.001);
  EXPECT_EQ(a["tags"], json({"demo", "wide"}));
  EXPECT_TRUE(a["ended_us"].is_number());
  const json& b = j["runs"][1];
  EXPECT_EQ(b["id"], live_);
  EXPECT_EQ(b["status"], "running");
  EXPECT_TRUE(b["ended_us"].is_null());
  bool found = false;
  for (const json& s : a["series"]) {
    if (s["name"] == "loss") {
      found = true;
      EXPECT_EQ(s["count"], kDensePoints);
      EXPECT_EQ(s["max"], 100.0);
      EXPECT_EQ(s["context"]["subset"], "train");
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(ServerTest, ListShowsALiveRunCommittedAfterAListing) {
  json before = GetJson("/api/runs", 200);
  ASSERT_EQ(before["runs"][1]["status"], "running");
  ASSERT_THAT(live_run_->Commit(), IsOk());
  json after = GetJson("/api/runs", 200);
  EXPECT_EQ(after["runs"][1]["status"], "finished");
  EXPECT_EQ(after["runs"][1]["state"], "committed");
  // The committed run's row, listed again, is the same.
  EXPECT_EQ(after["runs"][0], before["runs"][0]);
  EXPECT_EQ(GetJson("/api/runs", 200)["runs"][1], after["runs"][1]);
}

TEST_F(ServerTest, PagesWithLimitAndOffset) {
  json j = GetJson("/api/runs?limit=1&offset=1", 200);
  ASSERT_THAT(j["runs"], SizeIs(1));
  EXPECT_EQ(j["runs"][0]["id"], live_);
  EXPECT_THAT(GetJson("/api/runs?limit=0", 200)["runs"], SizeIs(0));
}

TEST_F(ServerTest, FiltersAndSortsWithTheQueryLanguage) {
  json j = GetJson("/api/runs?where=params.hparams.lr%20%3E%200.005", 200);
  ASSERT_THAT(j["runs"], SizeIs(1));
  EXPECT_EQ(j["runs"][0]["id"], live_);
  j = GetJson("/api/runs?order_by=params.hparams.lr%20DESC", 200);
  ASSERT_THAT(j["runs"], SizeIs(2));
  EXPECT_EQ(j["runs"][0]["id"], live_);
  // A sort key holding commas of its own stays one key.
  j = GetJson(
      "/api/runs?order_by=metrics%5B%22loss%22%2C%20subset%3D%22train%22%5D."
      "min%20ASC,run.name%20DESC",
      200);
  ASSERT_THAT(j["runs"], SizeIs(2));
  EXPECT_EQ(j["runs"][0]["id"], committed_);
}

TEST_F(ServerTest, MalformedQueryIs400WithThePosition) {
  ExpectError("/api/runs?where=metrcs.loss%20%3E%201", 400, "query:1:");
  ExpectError("/api/runs?order_by=nosuchfield", 400, "order_by[0]");
  ExpectStillServing();
}

TEST_F(ServerTest, RunDetailHasEverySeriesKind) {
  json j = GetJson("/api/runs/" + committed_, 200);
  EXPECT_EQ(j["id"], committed_);
  EXPECT_EQ(j["description"], "the first run");
  EXPECT_EQ(j["params"]["hparams"]["layers"], json({64, 128}));
  std::vector<std::string> kinds;
  for (const json& s : j["series"]) kinds.push_back(s["kind"]);
  EXPECT_THAT(kinds,
              ::testing::IsSupersetOf({"scalar", "text", "histogram", "blob"}));
  ExpectError("/api/runs/zzzzzzzzzzzzzzzzz", 404, "zzzzzzzzzzzzzzzzz");
}

TEST_F(ServerTest, CommittedAnswersCarryAnETagAnd304) {
  auto res = client_->Get(("/api/runs/" + committed_).c_str());
  ASSERT_TRUE(res);
  const std::string etag = res->get_header_value("ETag");
  ASSERT_FALSE(etag.empty());
  auto again = client_->Get(("/api/runs/" + committed_).c_str(),
                            {{"If-None-Match", etag}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());

  auto series = client_->Get(SeriesPath(committed_, "").c_str());
  ASSERT_TRUE(series);
  const std::string series_etag = series->get_header_value("ETag");
  ASSERT_FALSE(series_etag.empty());
  EXPECT_NE(series_etag, etag);
  auto cached = client_->Get(SeriesPath(committed_, "").c_str(),
                             {{"If-None-Match", series_etag}});
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->status, 304);

  // Live runs change: no ETag, never cached.
  auto live = client_->Get(("/api/runs/" + live_).c_str());
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  EXPECT_FALSE(live->has_header("ETag"));
  EXPECT_EQ(live->get_header_value("Cache-Control"), "no-store");
  auto mixed = client_->Get(SeriesPath(committed_ + "," + live_, "").c_str());
  ASSERT_TRUE(mixed);
  EXPECT_FALSE(mixed->has_header("ETag"));
}

TEST_F(ServerTest, SeriesEnvelopeKeepsTheSpike) {
  json j = GetJson(SeriesPath(committed_, "&max_points=100"), 200);
  ASSERT_THAT(j["series"], SizeIs(1));
  const json& s = j["series"][0];
  EXPECT_EQ(s["run"], committed_);
  EXPECT_EQ(s["exact"], false);
  const json& e = s["envelope"];
  EXPECT_LE(e["step"].size(), 102u);
  EXPECT_GE(e["step"].size(), 10u);
  EXPECT_EQ(e["min"].size(), e["step"].size());
  EXPECT_EQ(e["max"].size(), e["step"].size());
  EXPECT_EQ(e["last"].size(), e["step"].size());
  EXPECT_EQ(e["step"][0], 0);
  double top = 0;
  for (const json& v : e["max"]) top = std::max(top, v.get<double>());
  EXPECT_EQ(top, 100.0);
  for (size_t i = 1; i < e["step"].size(); ++i) {
    EXPECT_LT(e["step"][i - 1].get<int64_t>(), e["step"][i].get<int64_t>());
  }
}

TEST_F(ServerTest, SmallRangeIsExactPoints) {
  json j = GetJson(SeriesPath(committed_, "&steps=31300:31399&max_points=1000"),
                   200);
  const json& s = j["series"][0];
  EXPECT_EQ(s["exact"], true);
  const json& p = s["points"];
  ASSERT_EQ(p["step"].size(), 100u);
  EXPECT_EQ(p["step"][0], 31300);
  EXPECT_EQ(p["step"][37], 31337);
  EXPECT_EQ(p["value"][37], 100.0);
  EXPECT_DOUBLE_EQ(p["epoch"][37].get<double>(), 31.337);
  EXPECT_EQ(p["time_us"].size(), 100u);
}

TEST_F(ServerTest, ZoomedRangeGetsFinerBuckets) {
  json whole = GetJson(SeriesPath(committed_, "&max_points=100"), 200);
  json zoom =
      GetJson(SeriesPath(committed_, "&steps=30000:32000&max_points=100"), 200);
  const json& e = zoom["series"][0]["envelope"];
  ASSERT_GE(e["step"].size(), 10u);
  EXPECT_GE(e["step"][0].get<int64_t>(), 30000);
  EXPECT_LE(e["step"].back().get<int64_t>(), 32000);
  auto width = [](const json& env) {
    return (env["step"].back().get<double>() - env["step"][0].get<double>()) /
           env["step"].size();
  };
  EXPECT_LT(width(e), width(whole["series"][0]["envelope"]) / 10);
}

TEST_F(ServerTest, ManyRunsInOneRequestAndMissingSeries) {
  json j =
      GetJson(SeriesPath(committed_ + "," + live_, "&max_points=1000"), 200);
  ASSERT_THAT(j["series"], SizeIs(2));
  EXPECT_EQ(j["series"][1]["run"], live_);
  EXPECT_EQ(j["series"][1]["exact"], true);
  EXPECT_EQ(j["series"][1]["points"]["step"].size(), 100u);
  json acc = GetJson(
      absl::StrCat("/api/series?runs=", committed_, ",", live_, "&name=acc"),
      200);
  EXPECT_EQ(acc["series"][1]["missing"], true);
  // Non-finite values pass through as strings.
  EXPECT_EQ(acc["series"][0]["points"]["value"],
            json({"NaN", "Infinity", 0.5}));
}

TEST_F(ServerTest, TextsHistogramsAndBlobs) {
  const std::string run = "run=" + committed_;
  json t = GetJson("/api/texts?" + run + "&name=notes", 200);
  EXPECT_EQ(t["value"], json({"note 0", "note 1", "note 2"}));
  json h = GetJson("/api/histograms?" + run + "&name=weights", 200);
  EXPECT_EQ(h["step"], json({0, 10, 20}));
  EXPECT_EQ(h["counts"][2], json({2.0, 2.0}));
  EXPECT_EQ(h["edges"][0], json({0.0, 1.0, 2.0}));
  json b = GetJson("/api/blobs?" + run + "&name=image", 200);
  EXPECT_EQ(b["step"], json({7}));
  EXPECT_EQ(b["content_type"], json({"image/png"}));

  auto png = client_->Get(("/api/blob?" + run + "&name=image&step=7").c_str());
  ASSERT_TRUE(png);
  EXPECT_EQ(png->status, 200);
  EXPECT_EQ(png->get_header_value("Content-Type"), "image/png");
  EXPECT_EQ(png->body, kPng);
  EXPECT_FALSE(png->get_header_value("ETag").empty());
  // Stored HTML must not run in the UI's origin.
  auto html = client_->Get(("/api/blob?" + run + "&name=page&step=7").c_str());
  ASSERT_TRUE(html);
  EXPECT_EQ(html->get_header_value("Content-Type"), "application/octet-stream");
  EXPECT_EQ(html->get_header_value("Content-Disposition"), "attachment");

  for (const std::string& path : {"/api/texts?" + run + "&name=notes",
                                  "/api/histograms?" + run + "&name=weights",
                                  "/api/blobs?" + run + "&name=image"}) {
    auto first = client_->Get(path.c_str());
    ASSERT_TRUE(first);
    const std::string etag = first->get_header_value("ETag");
    EXPECT_FALSE(etag.empty()) << path;
    auto again = client_->Get(path.c_str(), {{"If-None-Match", etag}});
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 304) << path;
  }
  ExpectError("/api/blob?" + run + "&name=image&step=8", 404, "step 8");
  ExpectError("/api/texts?" + run + "&name=acc", 400, "not text");
  ExpectError("/api/histograms?" + run + "&name=nosuch", 404, "nosuch");
}

TEST_F(ServerTest, BadRunIdsAre400AndNeverReachTheFileSystem) {
  for (const std::string& id : std::vector<std::string>{
           "..%2F..", "..%2F..%2FRUNLOG", "%2Fetc%2Fpasswd", "ABC", "a.b",
           std::string(40, 'a'), "%00"}) {
    ExpectError("/api/runs/" + id, 400, "run id");
    ExpectError("/api/texts?name=x&run=" + id, 400, "run");
    ExpectError("/api/series?name=x&runs=" + id, 400, "runs");
  }
  ExpectError("/api/series?name=x&runs=", 400, "runs");
  ExpectError("/api/series?name=x&runs=" + committed_ + "," + committed_, 400,
              "twice");
  ExpectError("/api/series?name=x&runs=zzzzzzzzzzzzzzzzz", 404,
              "zzzzzzzzzzzzzzzzz");
  ExpectStillServing();
}

TEST_F(ServerTest, OutOfBoundsParametersAre400) {
  for (const std::string& mp :
       std::vector<std::string>{"-1", "0", "1", "20001",
                                "99999999999999999999999", "1e3", "abc", ""}) {
    ExpectError(SeriesPath(committed_, "&max_points=" + mp), 400, "max_points");
  }
  EXPECT_EQ(GetJson(SeriesPath(committed_, "&max_points=20000"), 200)["series"]
                .size(),
            1u);
  ExpectError(SeriesPath(committed_, "&steps=9:1"), 400, "steps");
  ExpectError(SeriesPath(committed_, "&steps=a:b"), 400, "steps");
  ExpectError(absl::StrCat("/api/series?runs=", committed_,
                           "&name=loss&context=%5B1%5D"),
              400, "context");
  ExpectError(absl::StrCat("/api/series?runs=", committed_, "&name="), 400,
              "name");
  ExpectError("/api/runs?limit=-5", 400, "limit");
  ExpectError("/api/runs?offset=x", 400, "offset");
  ExpectError("/api/runs?where=" + std::string(4097, 'a'), 400, "where");
  ExpectError("/api/runs?limit=1&limit=2", 400, "given twice");
  std::string many = "zzzzzzzzzzzzzzzzz";
  for (int i = 0; i < 1000; ++i) absl::StrAppend(&many, ",a", i);
  ExpectError("/api/series?name=x&runs=" + many, 400, "runs");
  ExpectStillServing();
}

TEST_F(ServerTest, WrongHostIsRefused) {
  for (const std::string& host : std::vector<std::string>{
           "evil.example", absl::StrCat("evil.example:", server_->port()),
           "127.0.0.1:1", ""}) {
    auto res = client_->Get("/api/runs", {{"Host", host}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 403) << host;
    EXPECT_THAT(res->body, HasSubstr("Host")) << host;
  }
  auto ok = client_->Get(
      "/api/runs", {{"Host", absl::StrCat("localhost:", server_->port())}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  ExpectStillServing();
}

TEST_F(ServerTest, ReadOnlyAndUnknownPaths) {
  auto post = client_->Post("/api/runs", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  auto del = client_->Delete(("/api/runs/" + committed_).c_str());
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 405);
  ExpectError("/api/nosuch", 404, "endpoint");
  auto page = client_->Get("/nosuch.js");
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->status == 404 || page->status == 503) << page->status;
  ExpectStillServing();
}

TEST_F(ServerTest, SlowClientIsDisconnectedAndOthersAreServed) {
  const int fd = ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  const std::string partial = "GET /api/runs HTTP/1.1\r\nHost: 127";
  ASSERT_EQ(send(fd, partial.data(), partial.size(), 0),
            static_cast<ssize_t>(partial.size()));
  ExpectStillServing();
  // The server's 1 s read timeout ends the request (with an error answer
  // at most) and closes the connection; the bound here only keeps a broken
  // server from hanging the test.
  timeval bound{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof(bound));
  std::string answer;
  char buf[256];
  ssize_t got = 0;
  for (int i = 0; i < 1000; ++i) {
    got = recv(fd, buf, sizeof(buf), 0);
    if (got <= 0) break;
    answer.append(buf, static_cast<size_t>(got));
  }
  EXPECT_EQ(got, 0) << "the connection was not closed";
  if (!answer.empty()) {
    EXPECT_THAT(answer, ::testing::StartsWith("HTTP/1.1 4"));
  }
  close(fd);
  ExpectStillServing();
}

TEST_F(ServerTest, StopEndsRun) {
  server_->Stop();
  serving_.join();
  EXPECT_THAT(served_, IsOk());
  const int fd = ConnectLoopback(server_->port());
  EXPECT_LT(fd, 0) << "still listening after Stop";
  if (fd >= 0) close(fd);
}

}  // namespace
}  // namespace runlog::serve
