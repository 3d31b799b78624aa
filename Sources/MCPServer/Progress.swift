import JSONCore
import JSONRPC
import ProfileService
import ProtoPprof

/// `notifications/progress` for one call that carried `_meta.progressToken`: a stage at each step (the
/// call starts, each profile is read, the method runs, the answer is shaped) and, while a model answers,
/// the length so far at most every 250 ms. `progress` only grows; nothing is sent once the call is done.
public actor ProgressReporter {
    let token: JSONValue
    let context: RequestContext
    private var progress = 0.0
    private var finished = false
    private var lastDelta = ContinuousClock.now - .seconds(1)
    private var streamed = 0

    public init(token: JSONValue, context: RequestContext) {
        self.token = token
        self.context = context
    }

    /// A step, with a message for people.
    public func stage(_ message: String) async {
        await send(message)
    }

    /// Text from a model arrived: reported at most every 250 ms.
    public func delta(_ text: String) async {
        streamed += text.count
        let now = ContinuousClock.now
        guard now - lastDelta >= .milliseconds(250) else { return }
        lastDelta = now
        await send("the model has written \(streamed) characters")
    }

    /// The call is over: nothing more is sent.
    public func finish() { finished = true }

    private func send(_ message: String) async {
        guard !finished, !Task.isCancelled else { return }
        progress += 1
        await context.notify(
            "notifications/progress", ["progressToken": token, "progress": .double(progress), "message": .string(message)])
    }
}

/// A profile source that reports when its bytes have been read (then decoding starts).
struct ReportingSource: ProfileSource {
    let inner: any ProfileSource
    let reporter: ProgressReporter
    let role: String

    var cacheKey: String? { inner.cacheKey }
    var label: String { inner.label }
    var errorLabel: String? { inner.errorLabel }

    func bytes(limits: DecodeLimits) async throws(RPCError) -> [UInt8] {
        await reporter.stage("reading the \(role)")
        let bytes = try await inner.bytes(limits: limits)
        await reporter.stage("decoding the \(role) (\(bytes.count) bytes)")
        return bytes
    }
}

extension Array where Element == any ProfileSource {
    func reporting(to reporter: ProgressReporter?, as role: String) -> [any ProfileSource] {
        guard let reporter else { return self }
        return enumerated().map { i, s in ReportingSource(inner: s, reporter: reporter, role: count == 1 ? role : "\(role) [\(i)]") }
    }
}

extension ProfileSource {
    func reporting(to reporter: ProgressReporter?, as role: String = "profile") -> any ProfileSource {
        guard let reporter else { return self }
        return ReportingSource(inner: self, reporter: reporter, role: role)
    }
}
