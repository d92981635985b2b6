import ArgumentParser

extension DatasetCommand {
    /// `backdrop dataset import …`: convert the formats datasets ship in into a dataset folder.
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Convert a downloaded dataset (COCO, ImageNet-9, CIFAR, STL-10) into a dataset folder.",
            discussion: "Every importer keeps each source image's file stem in its output names, so a row can be traced back to the file it came from.",
            subcommands: [COCO.self, CIFAR10.self, CIFAR100.self, STL10.self, IN9.self]
        )
    }
}
