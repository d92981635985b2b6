import Foundation
import TestSupport
import Testing
import TensorCore

/// End-to-end tests of the built executables (`Executables` in TestSupport finds and runs them).
@Suite(.serialized) struct DatasetCommandTests {
    @Test func generateThenCheckIsCleanAndDeterministic() throws {
        let a = temporaryDirectory("a"), b = temporaryDirectory("b")
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        for dir in [a, b] {
            let r = try Executables.run("backdrop", ["dataset", "generate", "--out", dir.path, "--classes", "3",
                                                     "--per-class", "4", "--test-per-class", "2", "--seed", "7"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let file = "train/images/" + (try FileManager.default.contentsOfDirectory(atPath: a.appendingPathComponent("train/images").path).sorted()[0])
        let names = try FileManager.default.contentsOfDirectory(atPath: a.appendingPathComponent(file).path).sorted()
        #expect(names.count == 4)
        for n in names {
            #expect(FileManager.default.contents(atPath: a.appendingPathComponent(file + "/" + n).path)
                    == FileManager.default.contents(atPath: b.appendingPathComponent(file + "/" + n).path))
        }
        let check = try Executables.run("backdrop", ["dataset", "check", a.path])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }

    @Test func checkNamesACorruptFileAndFails() throws {
        let dir = temporaryDirectory("corrupt")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try Executables.run("backdrop", ["dataset", "generate", "--out", dir.path, "--classes", "2", "--per-class", "2", "--test-per-class", "1"])
        let classDir = dir.appendingPathComponent("test/images")
        let cls = try FileManager.default.contentsOfDirectory(atPath: classDir.path).sorted()[0]
        let image = try FileManager.default.contentsOfDirectory(atPath: classDir.appendingPathComponent(cls).path).sorted()[0]
        let url = classDir.appendingPathComponent(cls).appendingPathComponent(image)
        try Data(try Data(contentsOf: url).prefix(40)).write(to: url)   // truncated PNG
        let r = try Executables.run("backdrop", ["dataset", "check", dir.path])
        #expect(r.status != 0)
        #expect((r.stdout + r.stderr).contains(image))
    }

    @Test func unknownOptionIsAUsageError() throws {
        let r = try Executables.run("backdrop", ["dataset", "generate", "--out", "/tmp/x", "--colour", "red"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--colour"))
    }
}

@Suite struct BenchCommandTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../ReferenceWorkloadsTests/Fixtures/parity-default").standardized

    @Test func parityPassesOnTheCommittedDump() throws {
        let r = try Executables.run("backdrop-bench", ["parity", Self.fixture.path, "--quiet"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("197/197 tensors within tolerance"))
    }

    @Test func parityFailsWithATighterToleranceThanFloat32Allows() throws {
        let r = try Executables.run("backdrop-bench", ["parity", Self.fixture.path, "--quiet", "--rel-tolerance", "1e-9", "--abs-tolerance", "0"])
        #expect(r.status == 1)
        #expect(r.stdout.contains(" NO"))
    }

    @Test func parityOnAMissingDumpSaysHowToMakeOne() throws {
        let r = try Executables.run("backdrop-bench", ["parity", "/nonexistent/dump"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("torch_ref.py --dump"))
    }

    @Test func simclrStepPrintsJSONFigures() throws {
        let r = try Executables.run("backdrop-bench", ["simclr-step", "--width", "4", "--size", "8", "--batch", "4",
                                                       "--warmup", "0", "--steps", "1", "--repeats", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        for key in ["images_per_s", "step_ms", "gflops", "peak_rss_mb"] { #expect(obj?[key] is Double, "missing \(key)") }
    }

    @Test func metaStepPrintsJSONRowsPerMethod() throws {
        let r = try Executables.run("backdrop-bench", ["meta-step", "--methods", "simclr,mocov2", "--width", "2", "--size", "8",
                                                       "--batch", "4", "--queue", "8", "--warmup", "0", "--steps", "1",
                                                       "--repeats", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.map { $0["method"] as? String } == ["simclr", "mocov2"])
        for row in rows ?? [] {
            for key in ["plain_ms", "iclmsr_ms", "ratio", "plain_loss", "iclmsr_loss"] { #expect(row[key] is Double, "missing \(key)") }
            for key in ["plain_ms_repeats", "iclmsr_ms_repeats", "ratio_repeats"] { #expect((row[key] as? [Double])?.count == 1, "missing \(key)") }
            let phases = row["iclmsr_phases_ms"] as? [String: Double]
            for key in ["encoder_forward", "encoder_backward", "virtual_pass", "perturbed_forward", "hypergradient"] {
                #expect(phases?[key] != nil, "missing phase \(key)")
            }
        }
        #expect((rows?.last?["queue"] as? Int) == 8)
        // ICL-MSR's defaults, recorded: a meta step every 3rd iteration (--steps 1 rounds up to 3), central difference.
        #expect(rows?.allSatisfy { $0["meta_interval"] as? Int == 3 && $0["finite_difference"] as? String == "central" } == true)
        let bad = try Executables.run("backdrop-bench", ["meta-step", "--methods", "simclr,swav"])
        #expect(bad.status != 0 && bad.stderr.contains("swav"))
        let badInterval = try Executables.run("backdrop-bench", ["meta-step", "--meta-interval", "0"])
        #expect(badInterval.status != 0 && badInterval.stderr.contains("--meta-interval"))
    }

    @Test func evaluationBenchmarkPrintsJSONFigures() throws {
        let r = try Executables.run("backdrop-bench", ["evaluation", "--train", "120", "--test", "30", "--dimension", "16",
                                                       "--classes", "3", "--noise", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        for key in ["probe_s", "probe_s_per_iteration", "knn_s", "knn_queries_per_s"] { #expect((obj?[key] as? Double).map { $0 > 0 } == true, "\(key)") }
        #expect((obj?["probe_iterations"] as? Int).map { $0 >= 1 } == true)
        // Three well-separated classes: both protocols must clearly beat chance (1/3).
        #expect((obj?["knn_top1"] as? Double).map { $0 > 0.6 } == true, "\(r.stdout)")
        #expect((obj?["probe_train_top1"] as? Double).map { $0 > 0.6 } == true, "\(r.stdout)")
        let bad = try Executables.run("backdrop-bench", ["evaluation", "--classes", "1"])
        #expect(bad.status != 0 && bad.stderr.contains("--classes"))
    }

    /// Backdrop alone (no PyTorch script): every round's repeats are pooled into the row's figure.
    @Test func suitePoolsTheRepeatsOfEveryRound() throws {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("suite-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: json) }
        let r = try Executables.run("backdrop-bench", ["suite", "--configs", "4:8:4", "--eval", "4:8:8", "--torch-script", "",
                                                       "--rounds", "2", "--warmup", "0", "--steps", "1", "--repeats", "2",
                                                       "--json-out", json.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("| train 4:8:4 |") && r.stdout.contains("| eval 4:8:8 |"))
        let rows = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [[String: Any]] ?? []
        #expect(rows.count == 2)
        for row in rows {
            let repeats = row["backdropRepeats"] as? [Double] ?? []
            #expect(repeats.count == 4, "2 rounds × 2 repeats, got \(repeats)")
            let sorted = repeats.sorted(), median = (sorted[1] + sorted[2]) / 2
            let ips = (row["backdrop"] as? [String: Any])?["images_per_s"] as? Double
            #expect(ips.map { abs($0 - median) < 1e-9 * median } == true, "figure \(String(describing: ips)) is not the pooled median \(median)")
            #expect((row["torch"] as? [Any])?.isEmpty == true && row["torchLimitedTo"] == nil)
        }
        let bad = try Executables.run("backdrop-bench", ["suite", "--torch-script", "", "--rounds", "0"])
        #expect(bad.status != 0 && bad.stderr.contains("--rounds"))
    }

    /// Both PyTorch layouts run by default, each in its own child (`--channels-last` reaches the
    /// script for one of them); `--kernels avx2` forces Backdrop's AVX2 kernels and limits PyTorch
    /// to AVX2 through its environment. A stand-in script (run by `sh`) records its arguments and
    /// environment and reports fixed figures, so this needs no PyTorch.
    @Test func suiteRunsBothPyTorchLayoutsAndTheAVX2Comparison() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("suite-torch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("torch_stand_in.sh"), log = dir.appendingPathComponent("args.txt")
        try """
        echo "$@ isa=${ONEDNN_MAX_CPU_ISA:-none} aten=${ATEN_CPU_CAPABILITY:-none}" >> '\(log.path)'
        fast=100.0; for a in "$@"; do [ "$a" = --channels-last ] && fast=400.0; done
        while [ "$#" -gt 0 ]; do [ "$1" = --json ] && out="$2"; shift; done
        printf '{"train": [{"w": 4, "res": 8, "batch": 4, "images_per_s": [%s, 300.0]}]}' "$fast" > "$out"
        """.write(to: script, atomically: true, encoding: .utf8)
        let json = dir.appendingPathComponent("suite.json")
        let common = ["suite", "--configs", "4:8:4", "--eval", "", "--python", "/bin/sh", "--torch-script", script.path, "--rounds", "1",
                      "--warmup", "0", "--steps", "1", "--repeats", "1", "--json-out", json.path]
        let r = try Executables.run("backdrop-bench", common)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("PyTorch nchw images/s | ratio | PyTorch channels-last images/s | ratio"), "\(r.stdout)")
        let calls = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        #expect(calls.count == 2 && calls.filter { $0.contains("--channels-last") }.count == 1, "\(calls)")
        #expect(calls.allSatisfy { $0.contains("isa=none aten=none") })
        var rows = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [[String: Any]] ?? []
        let sides = rows.first?["torch"] as? [[String: Any]] ?? []
        #expect(sides.map { $0["layout"] as? String } == ["nchw", "channels-last"])
        #expect(sides.map { $0["imagesPerSecond"] as? Double } == [200, 350])
        #expect((rows.first?["backdrop"] as? [String: Any])?["kernels"] as? String == Tensor.convolutionKernels)

        try FileManager.default.removeItem(at: log)
        let forced = ConvolutionKernelPath.supported.contains(.avx2) ? "avx2" : "blas"
        let a = try Executables.run("backdrop-bench", common + ["--kernels", forced, "--torch-layouts", "channels-last"])
        #expect(a.status == 0, "\(a.stderr)")
        let limitedCalls = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        #expect(limitedCalls.count == 1)
        #expect(limitedCalls.allSatisfy { $0.contains(forced == "avx2" ? "isa=AVX2 aten=avx2" : "isa=none aten=none") }, "\(limitedCalls)")
        rows = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [[String: Any]] ?? []
        #expect((rows.first?["backdrop"] as? [String: Any])?["kernels"] as? String
                == (forced == "avx2" ? "avx2-implicit" : "im2col-openblas"))
        #expect(rows.first?["torchLimitedTo"] as? String == (forced == "avx2" ? "avx2" : nil))

        let bad = try Executables.run("backdrop-bench", common + ["--torch-layouts", "nhwc"])
        #expect(bad.status != 0 && bad.stderr.contains("--torch-layouts") && bad.stderr.contains("channels-last"))
        let badKernels = try Executables.run("backdrop-bench", common + ["--kernels", "sse"])
        #expect(badKernels.status != 0 && badKernels.stderr.contains("--kernels") && badKernels.stderr.contains("avx2"))
    }

    /// Both executables refuse `value` for the environment variable `name` before any work, with a
    /// message naming the variable and containing `advice`; then one tiny benchmark step with
    /// `good` for it, whose `--json` output is returned.
    func environmentVariable(_ name: String, refusing value: String, advice: String, good: String) throws -> String {
        for tool in ["backdrop", "backdrop-bench"] {
            let r = try Executables.run(tool, ["--help"], environment: [name: value])
            #expect(r.status != 0, "\(tool) accepted \(name)=\(value)")
            #expect(r.stderr.contains(name) && r.stderr.contains(advice), "\(r.stderr)")
        }
        let step = try Executables.run("backdrop-bench", ["simclr-step", "--width", "4", "--size", "8", "--batch", "4", "--warmup", "0",
                                                          "--steps", "1", "--repeats", "1", "--json"], environment: [name: good])
        #expect(step.status == 0, "\(step.stderr)")
        return step.stdout
    }

    /// A bad `BACKDROP_KERNELS` stops either executable before any work, naming the variable and
    /// the values to use; a good one is recorded in the benchmark's JSON.
    @Test func kernelEnvironmentVariable() throws {
        let json = try environmentVariable("BACKDROP_KERNELS", refusing: "fastest-please", advice: "avx512, avx2, blas", good: "blas")
        #expect(json.contains("\"kernels\":\"im2col-openblas\""), "\(json)")
    }

    /// A bad `BACKDROP_STREAMING_MIN_BYTES` stops either executable before any work, naming the
    /// variable and what to use; a good one is recorded in the benchmark's JSON (where the CPU
    /// streams at all).
    @Test func streamingEnvironmentVariable() throws {
        let json = try environmentVariable("BACKDROP_STREAMING_MIN_BYTES", refusing: "4M", advice: "whole number of bytes", good: "12345")
        #expect(json.contains("\"streaming_min_bytes\":12345") == CPUFeatures.hasAVX2FMA, "\(json)")
    }

    /// `backdrop-bench kernels` on a tiny shape: every stride-1 pass on every path this CPU runs,
    /// each beside SGEMM of its shape, and the JSON has the figures.
    @Test func kernelEfficiencyCommand() throws {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("kernels-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: json) }
        let r = try Executables.run("backdrop-bench", ["kernels", "--width", "16", "--size", "16", "--images", "2", "--columns", "64",
                                                       "--square", "64", "--kernel-repeats", "1", "--step", "4:8:4", "--warmup", "0", "--steps", "1",
                                                       "--repeats", "1", "--stride-one-only", "--json-out", json.path])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any] ?? [:]
        let rows = obj["rows"] as? [[String: Any]] ?? []
        let implicitPaths = ConvolutionKernelPath.supported.filter { $0 != .blas }.count
        // stem: forward + weight gradient; three stride-1 layers: three passes; each on blas and every implicit path.
        #expect(rows.count == (2 + 3 * 3) * (1 + implicitPaths), "\(rows.count) rows")
        #expect(rows.allSatisfy { ($0["gflops"] as? Double ?? 0) > 0 && ($0["percent_of_sgemm"] as? Double ?? 0) > 0 })
        #expect((obj["sgemm_1thread_gflops"] as? Double ?? 0) > 0 && (obj["step_percent_of_sgemm"] as? Double ?? 0) > 0)
        #expect(r.stdout.contains("| layer1 3×3 | weight-gradient | im2col-openblas |"))
    }
}
