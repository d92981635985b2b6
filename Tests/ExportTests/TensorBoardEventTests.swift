@testable import Export
import Foundation
import Testing

/// Records and events compared with what TensorBoard's Python package writes for the same input
/// (`RecordWriter`, and `Event(...).SerializeToString()` / `text_pb` / `hparams_pb`).
@Suite struct TensorBoardEventTests {
    @Test func recordFramingMatchesTensorBoardsRecordWriter() {
        // RecordWriter(io.BytesIO()).write(b"hello")
        #expect(Hex.string(TFRecord.frame(Array("hello".utf8))) == "0500000000000000eab2043e68656c6c6fbb1f1c19")
        #expect(TFRecord.file([Array("hello".utf8), []]).count == 21 + 16)
    }

    @Test func fileVersionEvent() {
        // Event(wall_time=1700000000.25, file_version="brain.Event:2")
        #expect(Hex.string(TensorBoardEvent.fileVersion(wallTime: 1_700_000_000.25))
                == "0900001040fc54d9411a0d627261696e2e4576656e743a32")
    }

    @Test func scalarEvent() {
        // Event(wall_time=1700000000.5, step=3, summary=Summary(value=[Value(tag="train/loss", simple_value=1.25)]))
        #expect(Hex.string(TensorBoardEvent.scalar(tag: "train/loss", value: 1.25, step: 3, wallTime: 1_700_000_000.5))
                == "0900002040fc54d94110032a130a110a0a747261696e2f6c6f7373150000a03f")
    }

    @Test func textEvent() {
        // Event(wall_time=2.0, summary=text_pb("config", "| a | b |"))
        #expect(Hex.string(TensorBoardEvent.text(tag: "config", markdown: "| a | b |", step: 0, wallTime: 2))
                == "0900000000000000402a250a230a06636f6e666967420f0807120042097c2061207c2062207c4a080a060a0474657874")
    }

    @Test func hparamsSummary() {
        // hparams_pb({"lr": 0.1, "opt": "sgd"}, trial_id="t", start_time_secs=5.0), wrapped in Event(wall_time=5.0).
        // A map's entries may come in any order; Python wrote these sorted, as the exporter always does.
        let summary = "0a620a1c5f68706172616d735f2f73657373696f6e5f73746172745f696e666f42060801120212004a3a0a380a0768706172616d73122d1a2b0a0f0a026c721209119a9999999999b93f0a0c0a036f707412051a03736764220174290000000000001440"
        let event = TensorBoardEvent.hparams([("opt", .string("sgd")), ("lr", .number(0.1))], groupName: "t",
                                             startTime: 5, wallTime: 5)
        #expect(Hex.string(event) == "090000000000001440" + "2a64" + summary)
    }

    @Test func boolHyperparameter() {
        var value = HParamValue.bool(true).encoded
        #expect(value.bytes == [0x20, 0x01])
        value = HParamValue.bool(false).encoded
        #expect(value.bytes == [0x20, 0x00])
    }
}
