#include "tools/scenario_files.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

#include <doctest/doctest.h>

using namespace vsr::sim;

namespace {

/// A scratch directory with the given files, removed at the end of the test.
struct Scratch {
  std::filesystem::path dir;
  Scratch() {
    dir = std::filesystem::temp_directory_path() / ("scenario_files_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
  }
  ~Scratch() { std::filesystem::remove_all(dir); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  }
  std::string read(const std::string& name) const {
    std::ifstream in(dir / name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

const std::string good = "cluster replicas=1 clients=0\n----\n1 replica, 0 clients; r0 is primary of view 0\n";

}  // namespace

TEST_CASE("scenario files: exit 0 when every file matches") {
  Scratch s;
  std::ostringstream out, err;
  CHECK(run_scenario_files({s.write("a.txt", good), s.write("b.txt", good)}, false, out, err) == 0);
  CHECK(out.str() == "2 of 2 scenario file(s) passed\n");
  CHECK(err.str().empty());
}

TEST_CASE("scenario files: exit 1 on a mismatch, with the diff") {
  Scratch s;
  std::ostringstream out, err;
  std::string path = s.write("a.txt", "cluster replicas=1 clients=0\n----\nwrong\n");
  CHECK(run_scenario_files({path, s.write("b.txt", good)}, false, out, err) == 1);
  CHECK(out.str() == path + ":1: output differs for `cluster replicas=1 clients=0`\n--- expected\n+++ actual\n-wrong\n"
                            "+1 replica, 0 clients; r0 is primary of view 0\n1 of 2 scenario file(s) passed\n");
}

TEST_CASE("scenario files: exit 1 on a failed check") {
  Scratch s;
  std::ostringstream out, err;
  std::string path = s.write("a.txt", "sim liveness=1us for=1s\n----\n\nop client=1 think=999ms write key=x value=1\n----\n\n"
                                      "simulate\n----\npassed\n");
  CHECK(run_scenario_files({path}, false, out, err) == 1);
  CHECK(out.str().find("FAILED " + path + ":7: liveness (liveness) at ") != std::string::npos);
}

TEST_CASE("scenario files: exit 2 when a file cannot be read or is malformed, naming it") {
  Scratch s;
  std::ostringstream out, err;
  CHECK(run_scenario_files({"/nonexistent/scenario.txt"}, false, out, err) == 2);
  CHECK(err.str().find("cannot read") != std::string::npos);
  std::ostringstream out2, err2;
  std::string bad = s.write("bad.txt", "frobnicate\n----\n");
  CHECK(run_scenario_files({bad, s.write("b.txt", good)}, false, out2, err2) == 2);
  CHECK(err2.str() == bad + ":1: unknown command 'frobnicate'\n");
  CHECK(out2.str() == "1 of 2 scenario file(s) passed\n");
}

TEST_CASE("limits: a scenario path that is a directory is an error naming it, exit 2") {
  std::ostringstream out, err;
  CHECK(run_scenario_files({"."}, false, out, err) == 2);
  CHECK(err.str() == "scenario: '.' is a directory, not a file\n");
  CHECK(out.str() == "0 of 1 scenario file(s) passed\n");
}

TEST_CASE("scenario files: --rewrite fills in the expected output, then the file matches") {
  Scratch s;
  std::ostringstream out, err;
  std::string path = s.write("a.txt", "# c\ncluster replicas=1 clients=0\n");
  CHECK(run_scenario_files({path}, true, out, err) == 0);
  CHECK(out.str() == path + ": rewritten\n1 of 1 scenario file(s) passed\n");
  CHECK(s.read("a.txt") == "# c\n" + good);
  std::ostringstream out2, err2;
  CHECK(run_scenario_files({path}, false, out2, err2) == 0);
}

TEST_CASE("scenario paths: a directory is every *.txt in it, sorted; none is an error") {
  Scratch s;
  s.write("b.txt", good);
  s.write("a.txt", good);
  s.write("notes.md", "not a scenario");
  std::string error;
  auto paths = scenario_paths({s.dir.string(), "x.txt"}, &error);
  REQUIRE(paths.has_value());
  CHECK(*paths == std::vector<std::string>{(s.dir / "a.txt").string(), (s.dir / "b.txt").string(), "x.txt"});
  std::filesystem::create_directories(s.dir / "empty");
  CHECK(!scenario_paths({(s.dir / "empty").string()}, &error).has_value());
  CHECK(error == "scenario: '" + (s.dir / "empty").string() + "' is a directory with no *.txt scenario files");
}
