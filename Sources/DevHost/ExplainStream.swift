import FlyingFox
import FlyingSocks
import Foundation
import JSONCore
import JSONRPC

/// The explain routes streamed to the page: a POST with `Accept: application/x-ndjson` is sent to the child with
/// `stream: true`, and its answer is a chunked `application/x-ndjson` body, one JSON object a line:
///
///     {"event":"delta","text":"…"}                      each `$/progress {id, value: {stage: "delta", text}}`
///     {"event":"end","status":200,"body":{…}}            the resource's answer (the result, or {error} with its status)
///
/// The HTTP status is 200 once the stream starts; a failure after that is the `end` line's status and body. When
/// the browser goes away (the page's Cancel aborts its fetch), the child's call is cancelled, which sends
/// `$/cancelRequest`. Without that Accept the route answers one JSON body, as Grafana's resource API does.
enum ExplainStream {
    /// The routes that stream (the resource paths of flamegraph.explain, flamegraph.explainDiff, explain.followUp).
    static let routes: Set<String> = ["/explain", "/explainDiff", "/explain/followUp"]
    static let contentType = "application/x-ndjson"

    /// True when the request asks for the streamed form.
    static func wanted(_ request: HTTPRequest, route: String) -> Bool {
        guard routes.contains(route), request.method == .POST else { return false }
        return (request.headers[HTTPHeader("Accept")] ?? "").lowercased().contains(contentType)
    }

    /// One line of the stream.
    static func line(_ value: JSONValue) -> [UInt8] {
        var bytes = value.encoded()
        bytes.append(0x0A)
        return bytes
    }

    /// The `end` line for a resource answer (`callResource`'s `{status, body (base64)}`).
    static func endLine(resource result: JSONValue, restarted: Bool) -> [UInt8] {
        let status = result["status"]?.intValue ?? 502
        let raw = result["body"]?.stringValue.flatMap { Data(base64Encoded: $0) } ?? Data()
        var body = (try? JSONParser.parse([UInt8](raw))) ?? ["error": "the backend answered no JSON"]
        if restarted, case .object(var o) = body {
            o["backendRestarted"] = true
            body = .object(o)
        }
        return line(["event": "end", "status": .int(status), "body": body])
    }

    /// A delta line from a progress value, or nil for other progress.
    static func deltaLine(_ value: JSONValue) -> [UInt8]? {
        guard value["stage"]?.stringValue == "delta", let text = value["text"]?.stringValue else { return nil }
        return line(["event": "delta", "text": .string(text)])
    }
}

/// An `AsyncBufferedSequence` over chunks produced elsewhere: FlyingFox writes each chunk as it comes (chunked
/// transfer encoding), so a line reaches the browser when it is yielded.
struct StreamedBody: AsyncBufferedSequence {
    typealias Element = UInt8
    let chunks: AsyncStream<[UInt8]>

    func makeAsyncIterator() -> Iterator { Iterator(base: chunks.makeAsyncIterator()) }

    struct Iterator: AsyncBufferedIteratorProtocol {
        var base: AsyncStream<[UInt8]>.Iterator
        var pending: ArraySlice<UInt8> = []

        mutating func next() async -> UInt8? {
            guard let chunk = await nextBuffer(suggested: 1) else { return nil }
            return chunk.first
        }

        mutating func nextBuffer(suggested count: Int) async -> [UInt8]? {
            while pending.isEmpty {
                guard let chunk = await base.next() else { return nil }
                pending = chunk[...]
            }
            let n = Swift.max(1, Swift.min(count, pending.count))
            defer { pending = pending.dropFirst(n) }
            return Array(pending.prefix(n))
        }
    }
}
