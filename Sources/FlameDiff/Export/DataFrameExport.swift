import JSONCore
import ProtoPprof

/// Grafana's unit id for a pprof unit, as the Pyroscope data source maps them.
public func grafanaUnit(_ pprofUnit: String) -> String {
    switch pprofUnit {
    case "nanoseconds": return "ns"
    case "microseconds": return "µs"
    case "milliseconds": return "ms"
    case "seconds": return "s"
    case "bytes": return "bytes"
    default: return "short"
    }
}

/// The nested-set data frame the Grafana flame graph panel renders: nodes in depth-first pre-order
/// with fields `level`, `value`, `self` and `label` (an enum field), in Grafana's data-frame JSON.
public enum DataFrameExport {
    public static func writeJSON(_ graph: FlameGraph, to w: inout JSONWriter) {
        let (labelTexts, labels) = enumerate(graph.nodeCount) { $0 == 0 ? FlameGraph.rootName : graph.name(of: $0) }
        let unit = grafanaUnit(graph.sampleType.unit)
        writeFrame(
            [
                .number("level", unit: nil, graph.level.map { Int64($0) }), .number("value", unit: unit, graph.total),
                .number("self", unit: unit, graph.selfValue), .enumeration("label", texts: labelTexts, labels),
            ], custom: [:], to: &w)
    }

    /// One column of a frame: int64 numbers (with a Grafana unit) or an enum's indexes with its texts.
    enum Column {
        case number(String, unit: String?, [Int64])
        case enumeration(String, texts: [String], [Int64])
    }

    /// Grafana's data-frame JSON: `{schema: {name, meta, fields}, data: {values}}`, one array per column.
    static func writeFrame(_ columns: [Column], custom: [String: String], to w: inout JSONWriter) {
        w.beginObject()
        w.key("schema")
        w.beginObject()
        w.key("name")
        w.string("response")
        w.key("meta")
        w.beginObject()
        w.key("preferredVisualisationType")
        w.string("flamegraph")
        if !custom.isEmpty {
            w.key("custom")
            w.beginObject()
            for key in custom.keys.sorted() {
                w.key(key)
                w.string(custom[key]!)
            }
            w.endObject()
        }
        w.endObject()
        w.key("fields")
        w.beginArray()
        for column in columns {
            switch column {
            case .number(let name, let unit, _): numberField(name, unit: unit, to: &w)
            case .enumeration(let name, let texts, _): enumField(name, texts: texts, to: &w)
            }
        }
        w.endArray()
        w.endObject()
        w.key("data")
        w.beginObject()
        w.key("values")
        w.beginArray()
        for column in columns {
            switch column {
            case .number(_, _, let values), .enumeration(_, _, let values): w.intArray(values)
            }
        }
        w.endArray()
        w.endObject()
        w.endObject()
    }

    /// Interns node names for an enum field: the distinct texts in first-seen order, and each node's index.
    static func enumerate(_ count: Int, _ name: (Int) -> String) -> (texts: [String], indexes: [Int64]) {
        var texts: [String] = []
        var index: [String: Int64] = [:]
        var indexes: [Int64] = []
        indexes.reserveCapacity(count)
        for n in 0 ..< count {
            let text = name(n)
            if let i = index[text] {
                indexes.append(i)
            } else {
                let i = Int64(texts.count)
                index[text] = i
                texts.append(text)
                indexes.append(i)
            }
        }
        return (texts, indexes)
    }

    static func enumField(_ name: String, texts: [String], to w: inout JSONWriter) {
        w.beginObject()
        w.key("name")
        w.string(name)
        w.key("type")
        w.string("enum")
        w.key("typeInfo")
        w.beginObject()
        w.key("frame")
        w.string("enum")
        w.endObject()
        w.key("config")
        w.beginObject()
        w.key("type")
        w.beginObject()
        w.key("enum")
        w.beginObject()
        w.key("text")
        w.stringArray(texts)
        w.endObject()
        w.endObject()
        w.endObject()
        w.endObject()
    }

    static func numberField(_ name: String, unit: String?, to w: inout JSONWriter) {
        w.beginObject()
        w.key("name")
        w.string(name)
        w.key("type")
        w.string("number")
        w.key("typeInfo")
        w.beginObject()
        w.key("frame")
        w.string("int64")
        w.endObject()
        if let unit {
            w.key("config")
            w.beginObject()
            w.key("unit")
            w.string(unit)
            w.endObject()
        }
        w.endObject()
    }

    public static func json(_ graph: FlameGraph) -> [UInt8] {
        var w = JSONWriter(reservingCapacity: graph.nodeCount * 24)
        writeJSON(graph, to: &w)
        return w.bytes
    }
}
