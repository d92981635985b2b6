/// Renders evaluation rows as a fixed-width text table: one line per protocol and probe view,
/// one column per test view, top-1 / top-5 in percent.
public enum EvaluationTable {
    public static func render(_ rows: [EvaluationResult]) -> String {
        var views: [String] = []
        for r in rows where !views.contains(r.testView) { views.append(r.testView) }
        var keys: [String] = []
        for r in rows {
            let key = "\(r.evaluationProtocol.rawValue) (\(r.probeView))"
            if !keys.contains(key) { keys.append(key) }
        }
        let width = max(16, (views.map(\.count).max() ?? 0) + 2)
        let keyWidth = max(24, (keys.map(\.count).max() ?? 0) + 2)
        func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
        var lines = [pad("protocol (probe view)", keyWidth) + views.map { pad($0, width) }.joined()]
        for key in keys {
            var line = pad(key, keyWidth)
            for v in views {
                if let r = rows.first(where: { "\($0.evaluationProtocol.rawValue) (\($0.probeView))" == key && $0.testView == v }) {
                    line += pad("\(EvaluationResult.percent(r.top1)) / \(EvaluationResult.percent(r.top5))", width)
                } else {
                    line += pad("–", width)
                }
            }
            lines.append(line)
        }
        var notes: [String] = ["cells: top-1 / top-k (k = \(rows.first?.topK ?? 5)); n = \(rows.first?.n ?? 0) test images per view"]
        if let k = rows.first(where: { $0.evaluationProtocol == .knn }) {
            notes.append("knn: cosine, k \(k.k ?? 0), T \(k.temperature ?? 0), bank = \(k.trainCount) train images")
        }
        if let l = rows.first(where: { $0.evaluationProtocol == .linear }), let p = l.probe {
            notes.append("linear: L-BFGS on L2-normalized features, wd \(p.weightDecay), \(p.iterations) iterations\(p.converged ? " (converged)" : " (iteration cap)"), train top-1 \(EvaluationResult.percent(p.trainTop1))")
        }
        return (lines + notes).joined(separator: "\n")
    }
}
