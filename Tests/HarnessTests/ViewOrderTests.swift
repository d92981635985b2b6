import ImageData
import Reports
import Testing

/// Reports orders test views by `Report.testViewOrder` (Reports cannot import ImageData); the
/// training side defines the views as `ViewKind`. This keeps the two lists in step.
@Test func reportsOrderTestViewsAsViewKindDeclaresThem() {
    #expect(Report.testViewOrder == ViewKind.allCases.map(\.rawValue))
}
