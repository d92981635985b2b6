/// TensorBoard `Event` protobufs, encoded by hand with ``ProtobufWriter``.
///
/// Field numbers follow TensorBoard's protos (`tensorboard/compat/proto/event.proto`,
/// `summary.proto`, `tensor.proto`, `types.proto`):
///
/// - `Event`: `wall_time` 1 (double), `step` 2 (int64), `file_version` 3 (string), `summary` 5.
/// - `Summary`: `value` 1 (repeated `Summary.Value`).
/// - `Summary.Value`: `tag` 1, `simple_value` 2 (float), `tensor` 8 (`TensorProto`), `metadata` 9.
/// - `SummaryMetadata`: `plugin_data` 1 (`plugin_name` 1, `content` 2).
/// - `TensorProto`: `dtype` 1 (`DT_FLOAT` 1, `DT_STRING` 7), `tensor_shape` 2 (`dim` 2, each
///   with `size` 1), `string_val` 8.
///
/// Fields are written in field-number order, as protobuf's own serializers do, so an event
/// encodes to the same bytes as TensorBoard's Python writer makes for it.
public enum TensorBoardEvent {
    /// The first record of every event file: `file_version: "brain.Event:2"`.
    public static func fileVersion(wallTime: Double) -> [UInt8] {
        var event = ProtobufWriter()
        event.double(1, wallTime)
        event.string(3, "brain.Event:2")
        return event.bytes
    }

    /// One scalar: `summary { value { tag, simple_value } }` at `step` (TensorBoard stores
    /// scalars as 32-bit floats, so `value` is rounded to the nearest `Float`).
    public static func scalar(tag: String, value: Double, step: Int64, wallTime: Double) -> [UInt8] {
        var summaryValue = ProtobufWriter()
        summaryValue.string(1, tag)
        summaryValue.float(2, Float(value))
        return event(wallTime: wallTime, step: step, values: [summaryValue])
    }

    /// A text summary (TensorBoard's text plugin renders it as Markdown): a scalar `DT_STRING`
    /// tensor with `plugin_data { plugin_name: "text" }`, as `text_pb` of
    /// `tensorboard.plugins.text.summary_v2` writes it.
    public static func text(tag: String, markdown: String, step: Int64, wallTime: Double) -> [UInt8] {
        var tensor = ProtobufWriter()
        tensor.varint(1, 7)                      // dtype: DT_STRING
        tensor.message(2, ProtobufWriter())      // tensor_shape: {} (a scalar)
        tensor.string(8, markdown)               // string_val
        var summaryValue = ProtobufWriter()
        summaryValue.string(1, tag)
        summaryValue.message(8, tensor)
        summaryValue.message(9, metadata(plugin: "text", content: []))
        return event(wallTime: wallTime, step: step, values: [summaryValue])
    }

    /// The hyperparameters of one training session for TensorBoard's HParams dashboard: the
    /// summary `hparams_pb` of `tensorboard.plugins.hparams.summary_v2` writes, tag
    /// `_hparams_/session_start_info`, an empty `DT_FLOAT` tensor of shape `[0]`, and plugin
    /// `hparams` whose content is `HParamsPluginData { session_start_info { hparams (map),
    /// group_name, start_time_secs } }` (`tensorboard/plugins/hparams/plugin_data.proto`).
    public static func hparams(_ hparams: [(name: String, value: HParamValue)], groupName: String,
                               startTime: Double, wallTime: Double) -> [UInt8] {
        var sessionStart = ProtobufWriter()
        for (name, value) in hparams.sorted(by: { $0.name < $1.name }) {
            var entry = ProtobufWriter()         // map<string, google.protobuf.Value> entry
            entry.string(1, name)
            entry.message(2, value.encoded)
            sessionStart.message(1, entry)
        }
        sessionStart.string(4, groupName)
        sessionStart.double(5, startTime)
        var pluginData = ProtobufWriter()
        pluginData.message(3, sessionStart)      // HParamsPluginData.session_start_info
        var nullTensor = ProtobufWriter()
        nullTensor.varint(1, 1)                  // dtype: DT_FLOAT
        var shape = ProtobufWriter()
        shape.message(2, ProtobufWriter())       // one dim of size 0
        nullTensor.message(2, shape)
        var summaryValue = ProtobufWriter()
        summaryValue.string(1, "_hparams_/session_start_info")
        summaryValue.message(8, nullTensor)
        summaryValue.message(9, metadata(plugin: "hparams", content: pluginData.bytes))
        return event(wallTime: wallTime, step: 0, values: [summaryValue])
    }

    /// A `Summary` of `values` wrapped in an `Event`.
    static func event(wallTime: Double, step: Int64, values: [ProtobufWriter]) -> [UInt8] {
        var summary = ProtobufWriter()
        for value in values { summary.message(1, value) }
        var event = ProtobufWriter()
        event.double(1, wallTime)
        if step != 0 { event.varint(2, step) }   // proto3: a default value is not written
        event.message(5, summary)
        return event.bytes
    }

    static func metadata(plugin: String, content: [UInt8]) -> ProtobufWriter {
        var pluginData = ProtobufWriter()
        pluginData.string(1, plugin)
        if !content.isEmpty { pluginData.bytes(2, content) }
        var metadata = ProtobufWriter()
        metadata.message(1, pluginData)
        return metadata
    }
}

/// A hyperparameter's value as `google.protobuf.Value` holds it (`number_value` 2, `string_value`
/// 3, `bool_value` 4).
public enum HParamValue: Sendable, Equatable {
    case number(Double)
    case string(String)
    case bool(Bool)

    var encoded: ProtobufWriter {
        var value = ProtobufWriter()
        switch self {
        case .number(let number): value.double(2, number)
        case .string(let text): value.string(3, text)
        case .bool(let flag): value.varint(4, flag ? 1 : 0)
        }
        return value
    }
}
