import Foundation
import TensorCore

extension Module {
    /// The module's parameters and buffers as safetensors entries: `F32`, except buffers of kind
    /// `.int64` (batch norm's `num_batches_tracked`), which are `I64` as PyTorch stores them.
    public func safeTensorsEntries() -> [SafeTensors.Entry] {
        namedParameters().map { ($0.name, $0.parameter.value.detached(), .f32) }
            + namedBuffers().map { ($0.name, $0.buffer.value, $0.buffer.kind == .int64 ? .i64 : .f32) }
    }

    /// Assigns parameter and buffer values by dotted name (PyTorch's `load_state_dict`).
    ///
    /// Every shape is checked before anything is assigned, so a failed load leaves the module
    /// unchanged. Parameters become fresh autograd leaves: optimizers keep working since they hold
    /// the `Parameter` objects, but their per-parameter state (momentum) is not reset.
    /// - Parameters:
    ///   - tensors: values by dotted name (`layer2.shortcut.0.weight`).
    ///   - strict: throw when the module has a name `tensors` lacks, or `tensors` has a name the
    ///     module lacks. Shapes are checked either way.
    /// - Throws: `SafeTensorsError.missingTensors`, `.unexpectedTensors` or `.shapeMismatch`,
    ///   with the file named "state dictionary".
    public func loadState(from tensors: [String: Tensor], strict: Bool = true) throws {
        try loadState(from: tensors, strict: strict, source: "state dictionary")
    }

    /// Writes the parameters and buffers to a safetensors file that
    /// `safetensors.torch.load_file` reads into a `state_dict` of the PyTorch twin of this module.
    /// - Parameter metadata: stored under `__metadata__` (`format: pt` is added unless given).
    public func saveSafeTensors(to url: URL, metadata: [String: String] = [:]) throws {
        var meta = metadata
        if meta["format"] == nil { meta["format"] = "pt" }
        try SafeTensors.write(safeTensorsEntries(), metadata: meta, to: url)
    }

    /// Loads parameters and buffers from a safetensors file (any supported dtype; values are
    /// converted to `Float`). See `loadState(from:strict:)`.
    /// - Throws: `SafeTensorsError`, naming the file.
    public func loadSafeTensors(from url: URL, strict: Bool = true) throws {
        let loaded = try SafeTensors.read(url)
        try loadState(from: loaded.mapValues(\.tensor), strict: strict, source: url.path)
    }

    func loadState(from tensors: [String: Tensor], strict: Bool, source: String) throws {
        let parameters = namedParameters(), buffers = namedBuffers()
        let expected = parameters.map { ($0.name, $0.parameter.shape) } + buffers.map { ($0.name, $0.buffer.value.shape) }
        if strict {
            let missing = expected.map(\.0).filter { tensors[$0] == nil }
            if !missing.isEmpty { throw SafeTensorsError.missingTensors(file: source, names: missing) }
            let known = Set(expected.map(\.0))
            let unexpected = tensors.keys.filter { !known.contains($0) }.sorted()
            if !unexpected.isEmpty { throw SafeTensorsError.unexpectedTensors(file: source, names: unexpected) }
        }
        for (name, shape) in expected {
            if let t = tensors[name], t.shape != shape {
                throw SafeTensorsError.shapeMismatch(file: source, tensor: name, fileShape: t.shape, modelShape: shape)
            }
        }
        for (name, p) in parameters { if let t = tensors[name] { p.value = t } }
        for (name, b) in buffers { if let t = tensors[name] { b.value = t.detached() } }
    }
}
