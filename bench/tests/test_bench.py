"""What `make bench` reads from wrk and how it judges issue 13's "Done when" (bench/bench.py).

No stack is needed: bench.py is loaded with placeholder ports and paths, and only its pure
functions are called. Run by `make test` (infra/local/test.sh), or alone:
    python3 -m unittest discover -s bench/tests
"""

import importlib.util
import json
import os
import tempfile
import unittest

_PLACEHOLDERS = {
    "ECG_ROOT": tempfile.gettempdir(),
    "ECG_RUN_DIR": tempfile.gettempdir(),
    "ECG_LOG_DIR": tempfile.gettempdir(),
    "ECG_GATEWAY_PORT": "1",
    "ECG_AUTH_PORT": "2",
    "ECG_MEDIA_PORT": "3",
    "ECG_ANALYSIS_PORT": "4",
    "ECG_PG_PORT": "5",
    "BENCH_WRK_DIR": tempfile.gettempdir(),
    "BENCH_RESULTS_DIR": tempfile.gettempdir(),
}
for _name, _value in _PLACEHOLDERS.items():
    os.environ.setdefault(_name, _value)

_spec = importlib.util.spec_from_file_location("bench", os.path.join(os.path.dirname(__file__), "..", "bench.py"))
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

GENERATE_URL = "POST /api/upload-video/generate-url"
ME = "GET /api/auth/me"
JOB_STATUS = "GET /api/v1/ml/job-status/{id}"


def row(rps, p99_ms=5.0):
    return {"rps": rps, "p99_us": p99_ms * 1000}


def wrk_output(**fields):
    result = {"requests": 50_000, "duration_us": 10_000_000, "bytes": 1, "p50_us": 1, "p90_us": 2,
              "p99_us": 3, "max_us": 4, "mean_us": 1.5, "non2xx": 0, "connect_errors": 0,
              "read_errors": 0, "write_errors": 0, "timeouts": 0}
    result.update(fields)
    return "Running 10s test @ http://127.0.0.1/\n  2 threads and 32 connections\nBENCH_RESULT " + json.dumps(result) + "\n"


def a_run_meeting_every_target():
    by = {
        ("GET /health", "auth-service"): row(20_000),
        (ME, "gateway"): row(11_000, 8.0),
        (JOB_STATUS, "gateway"): row(12_000, 7.6),
        (GENERATE_URL, "gateway"): row(8_100, 12.0),
        (GENERATE_URL, "media-service"): row(9_000, 9.0),
    }
    ceilings = {"health": row(24_000)}
    pipe = {"latencies": [30.0, 32.0, 35.0, 90.0]}
    rss = {name: 60.0 for name in bench.SERVICES}
    return by, ceilings, pipe, rss


def line_about(lines, words):
    matching = [line for line in lines if words in line]
    if len(matching) != 1:
        raise AssertionError(f"expected one line about {words!r} in {lines}")
    return matching[0]


class ReadingWrk(unittest.TestCase):
    def test_the_result_line_gives_requests_per_second_and_counts_socket_errors_together(self):
        r = bench.parse_wrk(wrk_output(requests=75_000, duration_us=10_000_000, read_errors=2, timeouts=3))
        self.assertAlmostEqual(r["rps"], 7_500.0)
        self.assertEqual(r["socket_errors"], 5)
        self.assertEqual(r["p99_us"], 3)

    def test_output_without_the_result_line_is_no_result(self):
        self.assertIsNone(bench.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n"))

    def test_a_run_of_no_duration_has_no_rate(self):
        self.assertEqual(bench.parse_wrk(wrk_output(duration_us=0))["rps"], 0.0)


class Percentiles(unittest.TestCase):
    def test_nearest_rank(self):
        values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6]
        self.assertEqual(bench.percentile(values, 50), 5)
        self.assertEqual(bench.percentile(values, 90), 9)
        self.assertEqual(bench.percentile(values, 99), 10)
        self.assertEqual(bench.percentile(values, 0), 1)

    def test_no_values_no_percentile(self):
        self.assertIsNone(bench.percentile([], 50))


class JudgingDoneWhen(unittest.TestCase):
    def test_a_run_meeting_every_target_says_met_with_the_deciding_figure(self):
        lines = bench.done_when(*a_run_meeting_every_target())
        self.assertEqual([line for line in lines if "not met" in line], [])
        self.assertIn("met (83%)", line_about(lines, "`/health`"))
        self.assertIn("11,000 req/s, 16.1×, p99 8.00 ms", line_about(lines, ME))
        self.assertIn("8,100 req/s, p99 12.0 ms", line_about(lines, "through the gateway: "))
        self.assertIn("met (32.0 ms)", line_about(lines, "pipeline p50"))
        self.assertIn("at most 60 MiB", line_about(lines, "RSS"))
        self.assertIn("make test", line_about(lines, "outage"))

    def test_health_below_80_percent_of_the_bare_route_is_not_met(self):
        by, ceilings, pipe, rss = a_run_meeting_every_target()
        by[("GET /health", "auth-service")] = row(19_000)
        self.assertIn("**not met** (79%)", line_about(bench.done_when(by, ceilings, pipe, rss), "`/health`"))

    def test_reads_need_fifteen_times_the_seed_and_ten_thousand_and_a_p99_within_25_ms(self):
        by, ceilings, pipe, rss = a_run_meeting_every_target()
        by[(ME, "gateway")] = row(9_999, 8.0)  # 14.6× the seed's 684
        by[(JOB_STATUS, "gateway")] = row(12_000, 25.1)
        lines = bench.done_when(by, ceilings, pipe, rss)
        self.assertIn("**not met**", line_about(lines, ME))
        self.assertIn("**not met**", line_about(lines, JOB_STATUS))

    def test_generate_url_is_judged_on_each_path_by_rate_and_p99(self):
        by, ceilings, pipe, rss = a_run_meeting_every_target()
        by[(GENERATE_URL, "gateway")] = row(5_742, 12.9)
        by[(GENERATE_URL, "media-service")] = row(8_500, 26.0)
        lines = bench.done_when(by, ceilings, pipe, rss)
        self.assertIn("**not met** (5,742 req/s", line_about(lines, "through the gateway: "))
        self.assertIn("**not met** (8,500 req/s, p99 26.0 ms)", line_about(lines, "on media-service's port"))

    def test_generate_url_names_the_bare_grouped_insert_on_the_same_path(self):
        by, ceilings, pipe, rss = a_run_meeting_every_target()
        by[(GENERATE_URL, "gateway")] = row(5_742, 12.9)
        ceilings["grouped-1"], ceilings["grouped-1-gw"] = row(9_942), row(7_811)
        lines = bench.done_when(by, ceilings, pipe, rss)
        self.assertIn("(5,742 req/s, p99 12.9 ms; the bare grouped insert through the gateway: 7,811 req/s)",
                      line_about(lines, "generate-url ≥ 8,000 req/s with p99 ≤ 25 ms, through the gateway"))
        self.assertIn("(9,000 req/s, p99 9.00 ms; the bare grouped insert on media-service's port: 9,942 req/s)",
                      line_about(lines, "on media-service's port"))

    def test_pipeline_and_memory_limits(self):
        by, ceilings, _, rss = a_run_meeting_every_target()
        rss["media-service"] = 151.0
        lines = bench.done_when(by, ceilings, {"latencies": [49.0, 51.0, 52.0]}, rss)
        self.assertIn("**not met** (51.0 ms)", line_about(lines, "pipeline p50"))
        self.assertIn("**not met** (at most 151 MiB)", line_about(lines, "RSS"))

    def test_targets_whose_rows_did_not_run_are_left_out(self):
        by = {(ME, "gateway"): row(11_000, 8.0)}  # BENCH_ONLY=me
        lines = bench.done_when(by, {}, None, {})
        self.assertEqual(len(lines), 2)
        line_about(lines, ME)
        line_about(lines, "outage")

    def test_nothing_run_nothing_judged(self):
        self.assertEqual(bench.done_when({}, {}, None, {}), [])


if __name__ == "__main__":
    unittest.main()
