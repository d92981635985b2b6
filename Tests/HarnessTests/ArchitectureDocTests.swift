import Foundation
import Testing

/// `docs/Architecture.md` lists, for every target, the modules it imports; this keeps that table
/// true to the `import` lines of the sources (platform modules aside).
@Suite struct ArchitectureDocTests {
    static let root: URL = {
        var dir = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { dir.deleteLastPathComponent() }
        return dir
    }()
    static let platform: Set<String> = ["Foundation", "Dispatch", "Glibc", "Darwin"]

    /// Target → the modules its table row names (the second column; parentheses are notes).
    static func documented() throws -> [String: Set<String>] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/Architecture.md"), encoding: .utf8)
        var out: [String: Set<String>] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count > 3 else { continue }
            let targets = cells[1].split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
            let imports = cells[2].replacingOccurrences(of: "\\([^)]*\\)", with: "", options: .regularExpression)
                .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.first?.isUppercase == true }
            for t in targets { out[t] = Set(imports) }
        }
        return out
    }

    /// The modules the Swift files of a source folder import.
    static func imported(by folder: URL) throws -> Set<String> {
        var out: Set<String> = []
        let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        for file in files where file.pathExtension == "swift" {
            for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") {
                let words = line.split(separator: " ")
                if let i = words.firstIndex(of: "import"), i + 1 < words.count, words[..<i].allSatisfy({ $0.hasPrefix("@") }) {
                    out.insert(String(words[i + 1]))
                }
            }
        }
        return out.subtracting(platform)
    }

    @Test func everySwiftTargetImportsWhatTheDocumentSays() throws {
        let doc = try Self.documented()
        let sources = Self.root.appendingPathComponent("Sources")
        let targets = try FileManager.default.contentsOfDirectory(atPath: sources.path).filter { !$0.hasPrefix(".") }
        var checked = 0
        for target in targets {
            let imports = try Self.imported(by: sources.appendingPathComponent(target))
            let hasSwift = FileManager.default.enumerator(atPath: sources.appendingPathComponent(target).path)?
                .contains { ($0 as? String)?.hasSuffix(".swift") == true } ?? false
            guard hasSwift else { continue }
            #expect(doc[target] != nil, "docs/Architecture.md has no row for \(target)")
            if let listed = doc[target] {
                #expect(listed == imports, "\(target): the document lists \(listed.sorted()), the sources import \(imports.sorted())")
                checked += 1
            }
        }
        let support = try Self.imported(by: Self.root.appendingPathComponent("Tests/TestSupport"))
        #expect(doc["TestSupport"] == support, "TestSupport imports \(support.sorted())")
        #expect(checked >= 11, "documented: \(doc.keys.sorted())")
    }
}
