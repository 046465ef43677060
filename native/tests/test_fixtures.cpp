// Host reference (and emulated kernels) vs the shared JSON post-processing fixtures (COMMON.md format):
//   test_fixtures <dir>...   every *.json in each existing dir; exit 77 (skip) when none exists.
#include <cmath>
#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.h"

using namespace fcos4j;
using namespace fcos4j::test;
using json = nlohmann::json;

namespace {

int conventionOf(const std::string& s) {
  if (s == "mmdet") return 0;
  if (s == "fcos") return 1;
  if (s == "torchvision") return 2;
  CHECK(false, "unknown convention %s", s.c_str());
  return -1;
}

std::vector<float> floats(const json& a) {
  std::vector<float> v;
  v.reserve(a.size());
  for (const auto& x : a) v.push_back(x.is_null() ? NAN : (float)x.get<double>());
  return v;
}

// Returns "" if ok.
// tol 0: bit-equal (fixtures written by fcos4j's Java reference). Peer goldens (torchvision's own
// float32 sigmoid differs from the spec's double-then-float one in the last bit) are compared within
// tol relative to max(1, |value|), as the Java golden test does.
bool near(float got, float want, double tol) {
  if (tol == 0) return got == want;
  return std::fabs((double)got - want) <= tol * std::max(1.0, std::fabs((double)want));
}

std::string checkAgainst(const Case& cs, const Result& r, const json& expected, double tol) {
  char buf[512];
  const int K = cs.params.max_detections;
  for (int n = 0; n < cs.shape.batch; ++n) {
    const json& dets = expected.at(n);
    if ((int)dets.size() != r.num[n]) {
      std::snprintf(buf, sizeof buf, "image %d: %d detections, expected %d", n, r.num[n], (int)dets.size());
      return buf;
    }
    for (int d = 0; d < r.num[n]; ++d) {
      const json& e = dets.at(d);
      const size_t i = (size_t)n * K + d;
      bool same = near(r.scores[i], (float)e.at("score").get<double>(), tol) && r.classes[i] == e.at("class").get<int>();
      for (int q = 0; q < 4; ++q) same = same && near(r.boxes[4 * i + q], (float)e.at("box").at(q).get<double>(), tol);
      if (!same) {
        std::snprintf(buf, sizeof buf, "image %d detection %d: got (%.9g %.9g %.9g %.9g s %.9g c %d), expected %s", n,
                      d, r.boxes[4 * i], r.boxes[4 * i + 1], r.boxes[4 * i + 2], r.boxes[4 * i + 3], r.scores[i],
                      r.classes[i], e.dump().c_str());
        return buf;
      }
    }
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  int files = 0;
  for (int a = 1; a < argc; ++a) {
    DIR* dir = opendir(argv[a]);
    if (!dir) {
      std::printf("fixture dir %s absent: skipped\n", argv[a]);
      continue;
    }
    std::vector<std::string> names;
    while (dirent* e = readdir(dir)) {
      const std::string n = e->d_name;
      if (n.size() > 5 && n.substr(n.size() - 5) == ".json") names.push_back(n);
    }
    closedir(dir);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      const std::string path = std::string(argv[a]) + "/" + name;
      std::ifstream in(path);
      json j = json::parse(in);
      Case cs;
      cs.name = path;
      const int conv = conventionOf(j.at("convention").get<std::string>());
      cs.params = defaultParams(conv);
      cs.params.score_threshold = (float)j.at("score_threshold").get<double>();
      cs.params.nms_pre = j.at("nms_pre").get<int>();
      cs.params.iou_threshold = (float)j.at("iou_threshold").get<double>();
      cs.params.max_detections = j.at("max_detections").get<int>();
      const json& levels = j.at("levels");
      cs.params.num_levels = (int)levels.size();
      cs.shape.num_levels = (int)levels.size();
      cs.shape.batch = j.at("batch").get<int>();
      cs.shape.num_classes = j.at("num_classes").get<int>();
      for (size_t l = 0; l < levels.size(); ++l) {
        cs.params.strides[l] = levels[l].at("stride").get<int>();
        cs.shape.heights[l] = levels[l].at("height").get<int>();
        cs.shape.widths[l] = levels[l].at("width").get<int>();
        cs.cls.push_back(floats(j.at("cls").at(l)));
        cs.reg.push_back(floats(j.at("reg").at(l)));
        cs.ctr.push_back(floats(j.at("ctr").at(l)));
      }
      for (const json& im : j.at("images")) {
        float row[4];
        spec::imageInfoRow(conv, im.at("original_height").get<int>(), im.at("original_width").get<int>(),
                           im.at("resized_height").get<int>(), im.at("resized_width").get<int>(), row);
        cs.info.insert(cs.info.end(), row, row + 4);
      }
      const std::string generator = j.value("generator", std::string());
      const double tol = generator.rfind("fcos4j Java ReferencePostProcessor", 0) == 0 ? 0.0 : 1e-6;
      const Result ref = runReference(cs);
      std::string diff = checkAgainst(cs, ref, j.at("expected"), tol);
      CHECK(diff.empty(), "%s (host reference): %s", path.c_str(), diff.c_str());
      const Result emu = runEngine(cs);
      diff = checkAgainst(cs, emu, j.at("expected"), tol);
      CHECK(diff.empty(), "%s (emulated kernels): %s", path.c_str(), diff.c_str());
      // Kernels and host reference are bit-equal whatever the fixture's origin.
      CHECK(emu.num == ref.num && emu.boxes == ref.boxes && emu.scores == ref.scores && emu.classes == ref.classes,
            "%s: emulated kernels differ from the host reference", path.c_str());
      std::printf("%s: reference and emulated kernels match (%s)\n", path.c_str(),
                  j.value("generator", std::string("?")).c_str());
      ++files;
    }
  }
  if (files == 0) {
    std::printf("no fixture files found: skipped\n");
    return 77;
  }
  std::printf("%d fixture files match\n", files);
  return 0;
}
