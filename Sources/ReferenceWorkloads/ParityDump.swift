import Contrastive
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
    /// max |ours − torch| / max |torch| (norm-relative, robust to near-zero elements); for a gradient
    /// that vanishes in exact arithmetic, / max |torch| of its layer's weight gradient (see `ParityCheck`).
    public let relError: Float
    public let passed: Bool
}

/// Replays a dump's two SimCLR steps and eval forward through the training code
/// (`ReferenceWorkload`: `Contrastive.SimCLR` + `PlainStepper` + SGD) and compares every tensor.
///
/// Each step first runs a `StepInspection` (features, projections and gradients by the method's
/// own API, on a pass that leaves the running statistics alone), then the real
/// `PlainStepper.step` on the same views: the loss compared is the one the stepper reports, and
/// the state after the step is the stepper's. Step 1 runs from the dump's initial state; step 2
/// from the dump's step-1 state (teacher forcing, see `run`), with our optimizer's momentum
/// buffers from step 1; the eval forward uses the state after step 2. When the dump also holds
/// `step2/grad/<name>` tensors they are compared.
///
/// Tolerance: an entry passes when `maxAbs ≤ absTolerance` or `relError ≤ relTolerance`, where
/// `relError` divides by the largest magnitude of the reference tensor. Defaults (1e-4 relative,
/// 1e-6 absolute) are float32 round-off for these depths: reductions are summed in a different
/// order than PyTorch's, which moves the last bits, and two SGD steps carry that forward.
///
/// Vanishing gradients: the bias of a linear layer followed by batch norm (the head's
/// `projector.0.bias`) has a gradient that is exactly zero in exact arithmetic — the batch norm
/// cancels any shift — so both sides hold only round-off (~1e-7–1e-6), and dividing one's noise by
/// the other's is meaningless. Those rows divide instead by the largest magnitude of the same
/// layer's weight gradient in the reference (`projector.0.weight`): they pass when the two agree
/// to round-off at that layer's scale, and fail when they do not (a real gradient on one side).
public struct ParityCheck {
    public var relTolerance: Float = 1e-4
    public var absTolerance: Float = 1e-6
    public init() {}

    /// The biases of `method`'s head whose gradients vanish in exact arithmetic (a `Linear` with
    /// bias followed by `BatchNorm`), each with the weight whose gradient gives the row its scale.
    public static func vanishingGradients(of method: SimCLR) -> [String: String] {
        var out: [String: String] = [:]
        let layers = method.projector.layers
        for i in layers.indices.dropLast() {
            if let linear = layers[i] as? Linear, linear.bias != nil, layers[i + 1] is BatchNorm {
                out["projector.\(i).bias"] = "projector.\(i).weight"
            }
        }
        return out
    }

    public func run(_ dump: ParityDump) throws -> [ParityRow] {
        let c = dump.config
        let method = ReferenceWorkload.simclr(width: c.w, outDimension: c.out_dim, temperature: c.temperature)
        try loadState(method, from: dump, prefix: "init/")
        let stepper = ReferenceWorkload.stepper(for: method, momentum: c.momentum, weightDecay: c.weight_decay)
        let v1 = try dump.tensor("input/view1"), v2 = try dump.tensor("input/view2")
        var rows: [ParityRow] = []
        /// `scaleOf`: the dump tensor whose largest magnitude divides the error (default: `name`'s own).
        func compare(_ name: String, _ ours: Tensor, scaleOf scaleName: String? = nil) throws {
            let ref = try dump.tensor(name)
            guard ref.count == ours.count else { throw ParityError("'\(name)': ours has shape \(ours.shape), the dump \(ref.shape)") }
            let a = ours.scalars, b = ref.scalars
            var maxAbs: Float = 0, maxRef: Float = 0
            for i in 0..<a.count { maxAbs = max(maxAbs, abs(a[i] - b[i])); maxRef = max(maxRef, abs(b[i])) }
            if let scaleName { maxRef = try dump.tensor(scaleName).scalars.reduce(0) { max($0, abs($1)) } }
            if a.contains(where: { !$0.isFinite }) { maxAbs = .infinity }
            let rel = maxRef > 0 ? maxAbs / maxRef : maxAbs
            rows.append(ParityRow(name: name, shape: ref.shape, maxAbsError: maxAbs, relError: rel,
                                  passed: maxAbs <= absTolerance || rel <= relTolerance))
        }
        let vanishing = Self.vanishingGradients(of: method)
        func compareGradients(_ prefix: String, _ inspection: StepInspection) throws {
            for p in method.trainableParameters() {
                guard let g = inspection.gradientsByName[p.name] else { throw ParityError("no gradient of '\(p.name)'") }
                try compare(prefix + p.name, g, scaleOf: vanishing[p.name].map { prefix + $0 })
            }
        }
        func stepLoss(_ index: Int) throws -> Tensor {
            let metrics = try stepper.step(view1: v1, view2: v2, learningRate: c.lr, step: index, totalSteps: 2)
            guard let loss = metrics["loss"] else { throw ParityError("the stepper reported no loss") }
            return Tensor(shape: [1], [loss])
        }
        let step1 = try StepInspection(method, view1: v1, view2: v2)
        try compare("step1/features", step1.features)
        try compare("step1/projections", step1.projections)
        try compare("step1/loss", try stepLoss(0))
        try compareGradients("step1/grad/", step1)
        for (name, t) in method.stateTensors() { try compare("step1/after/" + name, t) }
        // Teacher forcing: step 2 starts from the reference's step-1 parameters and buffers (our
        // own were compared just above; our momentum buffers are kept). A ReLU input that
        // crosses zero by float32 round-off changes the step-2 gradient discontinuously — PyTorch
        // itself moves by ~1e-2 under a 3e-6 relative perturbation of its step-1 weights on some
        // configurations — so continuing from our state would test chaos, not arithmetic.
        try loadState(method, from: dump, prefix: "step1/after/")
        let step2 = dump.tensors["step2/grad/backbone.conv1.weight"] == nil ? nil : try StepInspection(method, view1: v1, view2: v2)
        try compare("step2/loss", try stepLoss(1))
        if let step2 { try compareGradients("step2/grad/", step2) }
        for (name, t) in method.stateTensors() { try compare("step2/after/" + name, t) }
        let eval = try withoutGradients { try method.backbone(v1, mode: .eval) }
        try compare("step2/eval_features", eval)
        return rows
    }

    func loadState(_ method: SimCLR, from dump: ParityDump, prefix: String) throws {
        for (name, p) in method.namedParameters() {
            let t = try dump.tensor(prefix + name)
            guard t.shape == p.shape else { throw ParityError("'\(prefix + name)': dump has shape \(t.shape), model expects \(p.shape)") }
            p.value = t
        }
        for (name, b) in method.namedBuffers() {
            let t = try dump.tensor(prefix + name)
            guard t.shape == b.value.shape else { throw ParityError("'\(prefix + name)': dump has shape \(t.shape), model expects \(b.value.shape)") }
            b.value = t
        }
    }
}
