import Foundation
import NN
import TensorCore

/// The committed fixtures next to this file (made by `Fixtures/make_fixture.py`). Located through
/// `#filePath` so the tests need no bundle resources.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
    static func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url(name))) }
}

/// A gradient store in which each parameter's gradient is exactly the given values: the gradient of
/// `Σᵢ sum(pᵢ ⊙ Gᵢ)` with respect to `pᵢ` is `Gᵢ`.
func gradients(_ pairs: [(Parameter, [Float])]) -> Gradients {
    var loss = Tensor(0)
    for (p, g) in pairs { loss = loss + (p.value * Tensor(shape: p.shape, g)).sum() }
    return loss.gradients(for: pairs.map(\.0.value))
}

/// The bit patterns of a tensor's elements, for bit-identity checks.
func bits(_ t: Tensor) -> [UInt32] { t.scalars.map(\.bitPattern) }
