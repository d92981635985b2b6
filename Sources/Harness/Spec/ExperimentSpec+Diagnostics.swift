import Evaluation
import ImageData

extension ExperimentSpec {
    /// `evaluation.epochDiagnostics`: `{every: N, probeView: <view>, images: M}` (see
    /// `EpochDiagnosticsOptions`); `every: 0` or an absent key is off (`nil`).
    static func decodeEpochDiagnostics(_ e: SpecReader) throws -> EpochDiagnosticsOptions? {
        guard let d = try e.map("epochDiagnostics") else { return nil }
        guard let every = try d.int("every", min: 0) else {
            throw d.error("every", "give the cadence, e.g. epochDiagnostics: {every: 5} (0 turns the check off)")
        }
        var o = EpochDiagnosticsOptions(every: every)
        if let v = try d.value("probeView", ViewKind.self) { o.probeView = v }
        o.images = try d.int("images", min: 2)
        try d.finish()
        return every == 0 ? nil : o
    }
}
