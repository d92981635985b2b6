import Foundation
import NN
import TensorCore
import TestSupport
import Testing

@Suite struct SafeTensorsTests {
    /// A SmallResNet whose BN buffers are no longer at their initial values.
    func trainedSmallResNet(width: Int, seed: UInt64, forwards: Int = 3) throws -> SmallResNet {
        var rng = SeededRNG(seed: seed)
        let model = SmallResNet(width: width, rng: &rng)
        for _ in 0..<forwards { _ = try model(Tensor.normal([4, 3, 8, 8], rng: &rng), mode: .train) }
        return model
    }

    @Test func smallResNetRoundTripIsBitIdentical() throws {
        let source = try trainedSmallResNet(width: 4, seed: 1)
        var rng = SeededRNG(seed: 2)
        let target = SmallResNet(width: 4, rng: &rng)
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("model.safetensors")
            try source.saveSafeTensors(to: url)
            try target.loadSafeTensors(from: url)

            let file = try SafeTensors.readWithMetadata(url)
            #expect(file.metadata == ["format": "pt"])
            #expect(file.tensors["bn1.num_batches_tracked"]?.dtype == .i64)
            #expect(file.tensors["bn1.num_batches_tracked"]?.tensor.shape == [])
            #expect(file.tensors["layer2.shortcut.0.weight"]?.tensor.shape == [8, 4, 1, 1])
            #expect(file.tensors["layer2.shortcut.1.running_mean"]?.dtype == .f32)

            let bytes = try Fixtures.bytesAt(url)
            let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            #expect(headerLength % 8 == 0)
        }
        let a = Dictionary(uniqueKeysWithValues: source.stateTensors().map { ($0.name, $0.tensor) })
        let b = Dictionary(uniqueKeysWithValues: target.stateTensors().map { ($0.name, $0.tensor) })
        #expect(a.count == b.count)
        for (name, t) in a { #expect(bits(t) == bits(b[name]!), "\(name)") }
        #expect(target.bn1.batchesTracked.value.item == 3)
        #expect(target.layer2.projection!.layers.count == 2)
    }

    /// The file PyTorch and the reference writer produced loads into our SmallResNet, and gives the
    /// outputs PyTorch computed (eval and train mode) and the running statistics it updated.
    @Test func loadsPyTorchCheckpointAndReproducesItsOutputs() throws {
        var rng = SeededRNG(seed: 0)
        let model = SmallResNet(width: 2, rng: &rng)
        try model.loadSafeTensors(from: Fixtures.url("small_resnet_w2.safetensors"))
        #expect(model.bn1.batchesTracked.value.item == 2)

        let io = try SafeTensors.read(Fixtures.url("small_resnet_w2_io.safetensors"))
        let x = try #require(io["input"]?.tensor)
        let eval = try model(x, mode: .eval)
        #expect(allClose(eval.scalars, io["eval_output"]!.tensor.scalars, atol: 1e-5, rtol: 1e-4))
        let train = try model(x, mode: .train)
        #expect(allClose(train.scalars, io["train_output"]!.tensor.scalars, atol: 1e-5, rtol: 1e-4))
        #expect(allClose(model.bn1.runningMean.value.scalars, io["after_train.bn1.running_mean"]!.tensor.scalars))
        #expect(allClose(model.bn1.runningVar.value.scalars, io["after_train.bn1.running_var"]!.tensor.scalars))
        #expect(io["after_train.bn1.num_batches_tracked"]?.dtype == .i64)
        #expect(model.bn1.batchesTracked.value.item == io["after_train.bn1.num_batches_tracked"]!.tensor.item)
    }

    /// Re-encoding what the reference writer wrote reproduces its bytes exactly (ordering by dtype
    /// then name, compact JSON, space padding).
    @Test(arguments: ["small_resnet_w2.safetensors", "small_resnet_w2_io.safetensors"])
    func writerMatchesReferenceBytes(_ name: String) throws {
        let bytes = try Fixtures.bytes(name)
        let decoded = try SafeTensors.decode(bytes, file: name)
        let entries = decoded.tensors.map { (name: $0.key, tensor: $0.value.tensor, dtype: $0.value.dtype) }
        #expect(try SafeTensors.encode(entries, metadata: decoded.metadata) == bytes)
    }

    @Test func readsEveryDType() throws {
        let file = try SafeTensors.readWithMetadata(Fixtures.url("dtypes.safetensors"))
        #expect(file.metadata == ["note": "dtype fixture", "format": "pt"])
        func values(_ n: String) -> [Float] { file.tensors[n]!.tensor.scalars }
        #expect(values("f64") == [0.5, -1.25, 1024, 0.1])
        #expect(file.tensors["f32_matrix"]!.tensor.shape == [2, 3])
        #expect(values("f32_matrix") == [1, 2, 3, -4, 5.5, 1e-3])
        #expect(file.tensors["f32_scalar"]!.tensor.shape == [] && values("f32_scalar") == [7.25])
        #expect(file.tensors["f32_empty"]!.tensor.shape == [0, 3])
        let half = values("f16")
        #expect(Array(half.prefix(6)) == [1, -2, 0.5, 65504, 0x1p-14, 0x1p-24])
        #expect(half[6] == .infinity && half[7] == 0 && half[7].sign == .minus)
        #expect(values("bf16") == [1, -2.5, 0.15625, 0x1p100])
        #expect(values("i64") == [0, -1, 0x1p40])
        #expect(values("i32") == [0, -1, 123456, -16777216])
        #expect(values("i16") == [-32768, 300])
        #expect(values("i8") == [-128, 127])
        #expect(values("u8") == [0, 255, 7])
        #expect(values("bool") == [1, 0, 1])
        #expect(file.tensors["bf16"]!.dtype == .bf16 && file.tensors["u8"]!.dtype == .u8)
    }

    /// A file assembled by hand in the test, byte by byte, independently of the writer.
    @Test func readsHandWrittenFile() throws {
        let header = #"{"b":{"dtype":"I64","shape":[],"data_offsets":[8,16]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        var bytes: [UInt8] = []
        bytes += le(UInt64(header.utf8.count))
        bytes += Array(header.utf8)
        bytes += le(Float(1.5).bitPattern) + le(Float(-2).bitPattern)
        bytes += le(UInt64(bitPattern: 42))
        let d = try SafeTensors.decode(bytes)
        #expect(d.tensors["a"]!.tensor.scalars == [1.5, -2] && d.tensors["a"]!.dtype == .f32)
        #expect(d.tensors["b"]!.tensor.shape == [] && d.tensors["b"]!.tensor.item == 42 && d.tensors["b"]!.dtype == .i64)
        #expect(d.metadata.isEmpty)
    }

    @Test func writerLayout() throws {
        let bytes = try SafeTensors.encode([
            (name: "z", tensor: Tensor(shape: [2], [1, 2]), dtype: .f32),
            (name: "count", tensor: Tensor(5), dtype: .i64),
            (name: "a\"b", tensor: Tensor(shape: [1], [3]), dtype: .f32),
        ], metadata: ["k": "v"])
        let n = Int(bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        #expect(n % 8 == 0)
        let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        let expected = #"{"__metadata__":{"k":"v"},"count":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"a\"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"z":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}"#
        #expect(header.trimmingCharacters(in: .whitespaces) == expected)
        #expect(header.count - expected.count < 8)
        #expect(bytes.count == 8 + n + 20)
        #expect(Array(bytes[(8 + n)..<(8 + n + 8)]) == le(UInt64(5)))
        let back = try SafeTensors.decode(bytes)
        #expect(back.tensors["a\"b"]!.tensor.scalars == [3] && back.metadata == ["k": "v"])
    }

    // MARK: Errors

    /// A valid two-tensor file to corrupt.
    func validBytes() throws -> [UInt8] {
        try SafeTensors.encode([(name: "w", tensor: Tensor(shape: [2, 2], [1, 2, 3, 4]), dtype: .f32),
                                (name: "n", tensor: Tensor(7), dtype: .i64)], metadata: ["format": "pt"])
    }

    func file(header: String, data: [UInt8]) -> [UInt8] { le(UInt64(header.utf8.count)) + Array(header.utf8) + data }

    func expectError(_ bytes: [UInt8], _ check: (SafeTensorsError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try SafeTensors.decode(bytes, file: "bad.safetensors")
            Issue.record("decoding succeeded", sourceLocation: sourceLocation)
        } catch let e as SafeTensorsError {
            #expect(check(e), "\(e)", sourceLocation: sourceLocation)
            #expect(e.description.hasPrefix("bad.safetensors: "), sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func truncatedFiles() throws {
        let good = try validBytes()
        expectError([1, 2, 3]) { if case .truncated = $0 { return true }; return false }
        expectError(Array(good.prefix(20))) { if case .truncated = $0 { return true }; return false }
        // Data cut short: the last tensor's end lies past the data.
        expectError(Array(good.dropLast(2))) {
            if case .truncated(_, let d) = $0 { return d.contains("tensor 'w'") }
            return false
        }
        // Every prefix is rejected without trapping.
        for k in 0..<good.count { #expect(throws: SafeTensorsError.self) { try SafeTensors.decode(Array(good.prefix(k))) } }
    }

    @Test func badHeaders() {
        expectError(file(header: "{not json", data: [])) { if case .invalidHeader = $0 { return true }; return false }
        expectError(file(header: "[1, 2]", data: [])) { if case .invalidHeader = $0 { return true }; return false }
        expectError(file(header: #"{"__metadata__": {"a": 1}}"#, data: [])) { if case .invalidHeader = $0 { return true }; return false }
        expectError(file(header: #"{"t": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}}"#, data: [])) {
            if case .invalidHeader(_, let d) = $0 { return d.contains("'t'") }; return false
        }
        expectError(file(header: #"{"t": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0])) {
            if case .invalidHeader = $0 { return true }; return false
        }
        expectError(file(header: #"{"t": {"dtype": "F32", "shape": [1]}}"#, data: [0, 0, 0, 0])) {
            if case .invalidHeader(_, let d) = $0 { return d.contains("data_offsets") }; return false
        }
        expectError(file(header: #"{"t": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0])) {
            if case .invalidHeader = $0 { return true }; return false
        }
        expectError(file(header: #"{"t": 3}"#, data: [])) { if case .invalidHeader = $0 { return true }; return false }
    }

    @Test func badOffsets() {
        let four = [UInt8](repeating: 0, count: 8)
        expectError(file(header: #"{"t": {"dtype": "F32", "shape": [2], "data_offsets": [4, 0]}}"#, data: four)) {
            if case .invalidOffsets(_, "t", _) = $0 { return true }; return false
        }
        expectError(file(header: #"{"t": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, data: four)) {
            if case .invalidOffsets(_, "t", let d) = $0 { return d.contains("needs 12") }; return false
        }
        expectError(file(header: #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#, data: four)) {
            if case .invalidOffsets(_, "b", let d) = $0 { return d.contains("overlap tensor 'a'") }; return false
        }
        expectError(file(header: #"{"t": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}"#, data: four)) {
            if case .truncated = $0 { return true }; return false
        }
    }

    @Test func unknownDType() {
        expectError(file(header: #"{"t": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}}"#, data: [0])) {
            if case .unsupportedDType(_, "t", "F8_E4M3", _) = $0 { return true }; return false
        }
    }

    @Test func corruptedHeadersNeverTrap() throws {
        let good = try validBytes()
        var rng = SeededRNG(seed: 9)
        for _ in 0..<300 {
            var bad = good
            for _ in 0..<3 { bad[8 + Int(rng.next() % UInt64(good.count - 8))] = UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? SafeTensors.decode(bad)  // either result is fine; it must not crash
        }
    }

    @Test func readErrorsNameTheFile() throws {
        let missing = URL(fileURLWithPath: "/nonexistent-dir/model.safetensors")
        do { _ = try SafeTensors.read(missing); Issue.record("read succeeded") } catch let e as SafeTensorsError {
            guard case .io(let f, _) = e else { Issue.record("\(e)"); return }
            #expect(f == missing.path)
        }
    }

    @Test func writeErrors() {
        let t = Tensor(shape: [1], [1])
        #expect(throws: SafeTensorsError.self) { try SafeTensors.encode([(name: "a", tensor: t, dtype: .f32), (name: "a", tensor: t, dtype: .f32)]) }
        #expect(throws: SafeTensorsError.self) { try SafeTensors.encode([(name: "__metadata__", tensor: t, dtype: .f32)]) }
        #expect(throws: SafeTensorsError.self) { try SafeTensors.encode([(name: "h", tensor: t, dtype: .f16)]) }
        #expect(throws: SafeTensorsError.self) { try SafeTensors.encode([(name: "i", tensor: Tensor(shape: [1], [0.5]), dtype: .i64)]) }
        #expect(throws: SafeTensorsError.self) { try SafeTensors.encode([(name: "i", tensor: Tensor(shape: [1], [.nan]), dtype: .i32)]) }
    }

    // MARK: Module loading

    @Test func strictLoadingReportsMissingAndUnexpected() throws {
        var rng = SeededRNG(seed: 4)
        let model = SmallResNet(width: 2, rng: &rng)
        var state = Dictionary(uniqueKeysWithValues: model.stateTensors().map { ($0.name, $0.tensor) })
        state["layer1.bn2.running_var"] = nil
        state["fc.weight"] = Tensor.zeros([3, 8])
        do { try model.loadState(from: state); Issue.record("strict load succeeded") } catch let e as SafeTensorsError {
            #expect(e == .missingTensors(file: "state dictionary", names: ["layer1.bn2.running_var"]))
            #expect(e.description.contains("'layer1.bn2.running_var'"))
        }
        state["layer1.bn2.running_var"] = Tensor.ones([2])
        do { try model.loadState(from: state); Issue.record("strict load succeeded") } catch let e as SafeTensorsError {
            #expect(e == .unexpectedTensors(file: "state dictionary", names: ["fc.weight"]))
        }
        // Non-strict: loads what matches, ignores the rest.
        state["layer1.bn2.running_var"] = nil
        state["conv1.weight"] = Tensor(repeating: 0.25, shape: [2, 3, 3, 3])
        try model.loadState(from: state, strict: false)
        #expect(model.conv1.weight.value.scalars.allSatisfy { $0 == 0.25 })
    }

    @Test func shapeMismatchNamesFileTensorAndShapes() throws {
        let small = try trainedSmallResNet(width: 4, seed: 1, forwards: 0)
        var rng = SeededRNG(seed: 2)
        let wide = SmallResNet(width: 8, rng: &rng)
        let before = wide.stateTensors().map { bits($0.tensor) }
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("small.safetensors")
            try small.saveSafeTensors(to: url)
            var state = try SafeTensors.read(url).mapValues(\.tensor)
            do { try wide.loadSafeTensors(from: url); Issue.record("load succeeded") } catch let e as SafeTensorsError {
                #expect(e == .shapeMismatch(file: url.path, tensor: "conv1.weight", fileShape: [4, 3, 3, 3], modelShape: [8, 3, 3, 3]))
                #expect(e.description == "\(url.path): tensor 'conv1.weight': file has [4, 3, 3, 3], model expects [8, 3, 3, 3]")
            }
            // Only a deeper tensor mismatches: the message names it, nothing is assigned.
            for (name, t) in wide.stateTensors() where name != "layer1.conv1.weight" { state[name] = t }
            state["layer1.conv1.weight"] = Tensor.zeros([4, 4, 3, 3])
            do { try wide.loadState(from: state); Issue.record("load succeeded") } catch let e as SafeTensorsError {
                #expect(e.description == "state dictionary: tensor 'layer1.conv1.weight': file has [4, 4, 3, 3], model expects [8, 8, 3, 3]")
            }
            // Shapes are checked before anything is assigned: the model is unchanged.
            #expect(wide.stateTensors().map { bits($0.tensor) } == before)
        }
    }
}

func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

extension Fixtures {
    static func bytesAt(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }
}
