// The one file that names the HTTP layer and the shared `Secret`. When HTTPClient, HTTPRequest and HTTPError
// move to the `HTTPTransport` target, this import (and the target's dependency in Package.swift) is all that changes.
import LLMGateway

typealias HTTPClient = LLMGateway.HTTPClient
typealias HTTPRequest = LLMGateway.HTTPRequest
typealias HTTPError = LLMGateway.HTTPError

/// A credential that prints as `<redacted>` (the LLM gateway's type, shared so one redaction rule holds everywhere).
public typealias Secret = LLMGateway.Secret

enum RetryAfter {
    /// A Retry-After header in seconds (delta-seconds or an HTTP-date), as the LLM gateway reads it.
    static func seconds(_ value: String) -> Int? { LLMGateway.RetryPolicy.retryAfterSeconds(value) }
}
