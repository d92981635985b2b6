@testable import Export
import Testing

/// Flattening a run's resolved configuration to dotted keys with typed leaves.
@Suite struct FlatConfigTests {
    @Test func nestedObjectsBecomeDottedKeysInOrder() {
        let config = FlatConfig(json: #"{"train":{"optimizer":{"lr":0.3,"name":"lars"},"epochs":2,"augment":true},"dataset":{"folder":null,"views":["full","foreground"]}}"#)
        #expect(config.entries.map(\.key) == ["dataset.folder", "dataset.views", "train.augment", "train.epochs",
                                              "train.optimizer.lr", "train.optimizer.name"])
        #expect(config.entries.map(\.value.text) == ["null", #"["full","foreground"]"#, "true", "2", "0.3", "lars"])
        #expect(config.entries[2].value.hparam == .bool(true))
        #expect(config.entries[3].value.hparam == .number(2))
        #expect(config.entries[4].value.hparam == .number(0.3))
        #expect(config.entries[1].value.hparam == .string(#"["full","foreground"]"#))
    }

    @Test func unreadableTextGivesNoEntries() {
        #expect(FlatConfig(json: "").entries.isEmpty)
        #expect(FlatConfig(json: "{not json").entries.isEmpty)
    }
}
