import Foundation
import ImageData

/// A one-cell experiment over a dataset folder: how `backdrop train` states its configuration in
/// the spec's keys, so one decoder, one validation and one error language serve both commands.
public struct SingleCellSpec: Sendable {
    public var spec: ExperimentSpec
    /// The cell; its `config.data` is the folder.
    public var cell: MatrixCell

    /// - Parameters:
    ///   - folder: the dataset root (`dataset.folder`).
    ///   - assignments: `key.path=value` in spec keys, applied in order (`methods=byol`,
    ///     `train.epochs=5`, `iclmsr.strata=4`).
    /// - Throws: `SpecError` naming the key (its location is the assignment that set it), also
    ///   when the assignments list several values of an axis.
    public init(folder: String, assignments: [String]) throws {
        let quoted = String(decoding: try JSONEncoder().encode(folder), as: UTF8.self)
        var spec = try ExperimentSpec.parse("name: train\ndataset: {folder: \(quoted)}\n", source: "train options", overrides: assignments)
        // On a folder without masks, views left at their defaults become `full`; stated ones that need masks are refused.
        if let layout = try? DatasetLayout.scan(root: folder) {
            spec = try spec.fitted(toSplitsWithoutMasks: layout.splitsWithoutMasks(maskFormat: try spec.dataset.options(size: spec.imageSize).maskFormat),
                                   root: folder)
        }
        if !spec.controls.isEmpty {
            throw SpecError(location: "train options", key: "controls", message: "controls are cells of an experiment spec, beside the methods it trains")
        }
        let cells = spec.cells()
        guard cells.count == 1 else {
            let axes = [("methods", spec.methods.count), ("trainViews", spec.trainViews.count), ("regularizers", spec.regularizers.count),
                        ("seeds", spec.seeds.count)]
            let (axis, n) = axes.first { $0.1 > 1 } ?? ("methods", cells.count)
            throw SpecError(location: "train options", key: axis,
                            message: "one training run takes one value of each matrix axis, got \(n); a matrix is run from an experiment spec")
        }
        self.spec = spec
        self.cell = cells[0]
    }
}
