import Evaluation
import Foundation
import ImageData

extension ExperimentSpec {
    /// Checks that every `evaluation.testSets` folder holds exactly the classes of the dataset at
    /// `root`, so a reproduction refuses a mismatched set once, before any cell starts (each cell
    /// checks again when it loads the set).
    /// - Parameter location: where errors say the problem is (the spec file).
    /// - Throws: `SpecError` naming `evaluation.testSets.<name>`, the folder, the missing and
    ///   the extra class folders.
    public func checkTestSets(against root: String, location: String) throws {
        guard let sets = evaluation.testSets, !sets.isEmpty else { return }
        let classes = try DatasetLayout.scan(root: root).classes
        for set in sets {
            do {
                try Dataset.checkTestSetClasses(name: set.name, folder: set.folder, classes: classes)
            } catch let e as ImageDataError {
                throw SpecError(location: location, key: "evaluation.testSets.\(set.name)", message: e.description)
            }
        }
    }
}
