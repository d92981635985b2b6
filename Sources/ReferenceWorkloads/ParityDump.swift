import Foundation
import NN
import TensorCore

/// A parity case written by `torch_ref.py --dump DIR`: `manifest.json` plus one raw
/// little-endian file per tensor (float32, or int64 for `num_batches_tracked`).
public struct ParityDump {
    public struct Config: Decodable {
        public let w: Int, res: Int, batch: Int
        public let out_dim: Int
        public let temperature: Float, lr: Float, momentum: Float, weight_decay: Float
        public let seed: Int
    }
    struct Entry: Decodable { let name: String; let file: String; let dtype: String; let shape: [Int] }
    struct Manifest: Decodable { let config: Config; let tensors: [Entry] }

    public let directory: URL
    public let config: Config
    public var tensors: [String: Tensor]

    /// Reads every tensor of the dump. - Throws: `ParityError` naming the file at fault.
    public init(directory: URL) throws {
        self.directory = directory
        let manifestURL = directory.appendingPathComponent("manifest.json")
        guard let data = try? Data(contentsOf: manifestURL) else {
            throw ParityError("cannot read \(manifestURL.path): write a dump with `python3 scripts/torch_ref.py --dump \(directory.path)`")
        }
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: data) }
        catch { throw ParityError("\(manifestURL.path) is not a torch_ref.py manifest: \(error)") }
        config = manifest.config
        var tensors: [String: Tensor] = [:]
        for e in manifest.tensors {
            let url = directory.appendingPathComponent(e.file)
            guard let bytes = try? Data(contentsOf: url) else { throw ParityError("tensor '\(e.name)': cannot read \(url.path)") }
            let n = e.shape.reduce(1, *)
            switch e.dtype {
            case "float32":
                guard bytes.count == 4 * n else { throw ParityError("tensor '\(e.name)': \(url.lastPathComponent) has \(bytes.count) bytes, shape \(e.shape) needs \(4 * n)") }
                let values = bytes.withUnsafeBytes { raw in (0..<n).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) } }
                tensors[e.name] = Tensor(shape: e.shape, values)
            case "int64":
                guard bytes.count == 8 * n else { throw ParityError("tensor '\(e.name)': \(url.lastPathComponent) has \(bytes.count) bytes, shape \(e.shape) needs \(8 * n)") }
                let values = bytes.withUnsafeBytes { raw in (0..<n).map { Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))) } }
                tensors[e.name] = Tensor(shape: e.shape, values)
            default:
                throw ParityError("tensor '\(e.name)': unsupported dtype \(e.dtype) (expected float32 or int64)")
            }
        }
        self.tensors = tensors
    }

    public func tensor(_ name: String) throws -> Tensor {
        guard let t = tensors[name] else { throw ParityError("the dump in \(directory.path) has no tensor '\(name)'") }
        return t
    }
}

public struct ParityError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}

/// One compared tensor.
public struct ParityRow: Sendable {
    public let name: String
    public let shape: [Int]
    /// max |ours − torch|
    public let maxAbsError: Float
    /// max |ours − torch| / max |torch| (norm-relative, robust to near-zero elements).
    public let relError: Float
    public let passed: Bool
}

/// Replays a dump's two SimCLR steps and eval forward and compares every tensor.
///
/// Step 1 runs from the dump's initial state; step 2 from the dump's step-1 state (teacher
/// forcing, see `run`), with our optimizer's momentum buffers from step 1; the eval forward uses
/// the state after step 2. When the dump also holds `step2/grad/<name>` tensors they are compared.
///
/// Tolerance: an entry passes when `maxAbs ≤ absTolerance` or `relError ≤ relTolerance`, where
/// `relError` divides by the largest magnitude of the reference tensor. Defaults (1e-4 relative,
/// 1e-6 absolute) are float32 round-off for these depths: reductions are summed in a different
/// order than PyTorch's, which moves the last bits, and two SGD steps carry that forward.
public struct ParityCheck {
    public var relTolerance: Float = 1e-4
    public var absTolerance: Float = 1e-6
    public init() {}

    public func run(_ dump: ParityDump) throws -> [ParityRow] {
        let c = dump.config
        let model = SimCLRReference(width: c.w, outDimension: c.out_dim)
        try loadState(model, from: dump, prefix: "init/")
        let optimizer = SGD(model.optimizerParameters(), momentum: c.momentum, weightDecay: c.weight_decay)
        let v1 = try dump.tensor("input/view1"), v2 = try dump.tensor("input/view2")
        var rows: [ParityRow] = []
        func compare(_ name: String, _ ours: Tensor) throws {
            let ref = try dump.tensor(name)
            guard ref.count == ours.count else { throw ParityError("'\(name)': ours has shape \(ours.shape), the dump \(ref.shape)") }
            let a = ours.scalars, b = ref.scalars
            var maxAbs: Float = 0, maxRef: Float = 0
            for i in 0..<a.count { maxAbs = max(maxAbs, abs(a[i] - b[i])); maxRef = max(maxRef, abs(b[i])) }
            if a.contains(where: { !$0.isFinite }) { maxAbs = .infinity }
            let rel = maxRef > 0 ? maxAbs / maxRef : maxAbs
            rows.append(ParityRow(name: name, shape: ref.shape, maxAbsError: maxAbs, relError: rel,
                                  passed: maxAbs <= absTolerance || rel <= relTolerance))
        }
        let step1 = try SimCLRStep.run(model, view1: v1, view2: v2, temperature: c.temperature)
        try compare("step1/features", step1.features)
        try compare("step1/projections", step1.projections)
        try compare("step1/loss", step1.loss.reshaped([1]))
        for (name, p) in model.namedParameters() { try compare("step1/grad/" + name, step1.gradients[p.value] ?? .zeros(p.shape)) }
        try optimizer.step(step1.gradients, learningRate: c.lr)
        for (name, t) in model.stateTensors() { try compare("step1/after/" + name, t) }
        // Teacher forcing: step 2 starts from the reference's step-1 parameters and buffers (our
        // own were compared just above; our momentum buffers are kept). A ReLU input that
        // crosses zero by float32 round-off changes the step-2 gradient discontinuously — PyTorch
        // itself moves by ~1e-2 under a 3e-6 relative perturbation of its step-1 weights on some
        // configurations — so continuing from our state would test chaos, not arithmetic.
        try loadState(model, from: dump, prefix: "step1/after/")
        let step2 = try SimCLRStep.run(model, view1: v1, view2: v2, temperature: c.temperature)
        try compare("step2/loss", step2.loss.reshaped([1]))
        if dump.tensors["step2/grad/backbone.conv1.weight"] != nil {
            for (name, p) in model.namedParameters() { try compare("step2/grad/" + name, step2.gradients[p.value] ?? .zeros(p.shape)) }
        }
        try optimizer.step(step2.gradients, learningRate: c.lr)
        for (name, t) in model.stateTensors() { try compare("step2/after/" + name, t) }
        let eval = try withoutGradients { try model.backbone(v1, mode: .eval) }
        try compare("step2/eval_features", eval)
        return rows
    }

    func loadState(_ model: SimCLRReference, from dump: ParityDump, prefix: String) throws {
        for (name, p) in model.namedParameters() {
            let t = try dump.tensor(prefix + name)
            guard t.shape == p.shape else { throw ParityError("'\(prefix + name)': dump has shape \(t.shape), model expects \(p.shape)") }
            p.value = t
        }
        for (name, b) in model.namedBuffers() {
            let t = try dump.tensor(prefix + name)
            guard t.shape == b.value.shape else { throw ParityError("'\(prefix + name)': dump has shape \(t.shape), model expects \(b.value.shape)") }
            b.value = t
        }
    }
}
