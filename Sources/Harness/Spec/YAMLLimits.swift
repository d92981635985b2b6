import Foundation

/// Bounds on the shape of a spec's YAML, checked before and while it is parsed: a YAML parser
/// recurses once per nesting level (20 000 levels overflow its stack), and aliases expand (a
/// 9×9 alias bomb is 387 million values). No experiment spec comes near either limit.
enum YAMLLimits {
    /// The deepest nesting of mappings and lists a spec (or a `--set` value) may have.
    static let maxDepth = 64
    /// The most values (scalars, mappings, lists, counting every expansion of an alias) a spec
    /// may have.
    static let maxValues = 100_000
    /// The most components a `--set` key path may have.
    static let maxPathComponents = maxDepth

    /// A conservative (never lower) estimate of `text`'s nesting depth, from the raw text alone:
    /// indentation levels, compact `- ` / `? ` entries, and open `[`/`{` brackets outside quoted
    /// scalars (read within one line), comments and block scalars.
    /// - Returns: the depth and the 1-based line where it is first reached.
    static func estimatedDepth(of text: String) -> (depth: Int, line: Int) {
        var indents: [Int] = []
        var flow = 0
        var quote: Character? = nil
        var blockScalarIndent: Int? = nil
        var best = (depth: 0, line: 1)
        func note(_ d: Int, _ line: Int) { if d > best.depth { best = (d, line) } }
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = Array(raw)
            let indent = line.prefix { $0 == " " }.count
            let content = line.dropFirst(indent)
            if let b = blockScalarIndent {
                if content.isEmpty || content.allSatisfy({ $0 == " " || $0 == "\r" }) || indent > b { continue }
                blockScalarIndent = nil
            }
            var i = line.startIndex + indent
            var base = indents.count
            if flow == 0 {
                if content.isEmpty || content.first == "#" || content.allSatisfy({ $0 == " " || $0 == "\r" || $0 == "\t" }) { continue }
                while let last = indents.last, last >= indent { indents.removeLast() }
                indents.append(indent)
                base = indents.count
                // Compact nested entries on one line: `- - - x`, `? - x`.
                while i + 1 < line.endIndex, line[i] == "-" || line[i] == "?", line[i + 1] == " " || line[i + 1] == "\t" {
                    base += 1
                    i += 2
                    while i < line.endIndex, line[i] == " " { i += 1 }
                }
                base += 1  // a mapping value on this line
            }
            note(base + flow, n + 1)
            var previous: Character = " "
            // Whether a scalar may start here: a quote opens one only there (`it's`, `a-'b`
            // are plain text), so quoted text is never wrongly skipped.
            var canStart = true
            while i < line.endIndex {
                let c = line[i]
                let next: Character = i + 1 < line.endIndex ? line[i + 1] : " "
                if let q = quote {
                    if q == "\"" && c == "\\" { i += 2; continue }
                    if c == q {
                        if q == "'" && next == "'" { i += 2; continue }
                        quote = nil
                        canStart = false
                    }
                } else if c == "#" && (previous == " " || previous == "\t") {
                    break
                } else if c == " " || c == "\t" {
                    // spaces keep the state
                } else if (c == "\"" || c == "'") && canStart {
                    quote = c
                } else if c == "[" || c == "{" {
                    canStart = canStart || flow > 0
                    flow += 1
                    note(base + flow, n + 1)
                } else if c == "]" || c == "}" {
                    flow = max(0, flow - 1)
                    canStart = false
                } else if c == "," {
                    canStart = flow > 0
                } else if c == ":" || c == "-" || c == "?" {
                    canStart = (next == " " || next == "\t") && (c == ":" || canStart)
                } else {
                    canStart = false
                }
                previous = c
                i += 1
            }
            // A quote never hides the next line: continuation lines of a multi-line quoted
            // scalar are scanned as structure (an overestimate at worst).
            quote = nil
            if flow == 0 {
                // `key: |`, `key: >-`, `- |2`: the indented lines that follow are text.
                let trimmed = String(line[(line.startIndex + indent)...]).split(separator: " #").first.map(String.init) ?? ""
                let last = trimmed.trimmingCharacters(in: .whitespaces).split(separator: " ").last.map(String.init) ?? ""
                if let f = last.first, f == "|" || f == ">", last.dropFirst().allSatisfy({ "+-0123456789".contains($0) }) {
                    blockScalarIndent = indent
                }
            }
        }
        return best
    }

    /// Refuses text nested deeper than `maxDepth` before any parser sees it.
    /// - Parameters: source: the file name (`spec.yaml` → `spec.yaml:12`) or a fixed location.
    /// - Throws: `SpecError` naming the line where the limit is passed.
    static func checkDepth(of text: String, source: String, fixedLocation: Bool) throws {
        let (depth, line) = estimatedDepth(of: text)
        guard depth > maxDepth else { return }
        throw SpecError(location: fixedLocation ? source : "\(source):\(line)", key: "",
                        message: "the spec nests deeper than \(maxDepth) levels; no spec needs more, so flatten the lists and mappings")
    }
}
