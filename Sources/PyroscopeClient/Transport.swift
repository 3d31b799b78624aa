// The one file that names the HTTP layer (HTTPTransport) and the types shared with the LLM gateway.
import HTTPTransport
import LLMGateway

typealias HTTPClient = HTTPTransport.HTTPClient
typealias HTTPRequest = HTTPTransport.HTTPRequest
typealias HTTPError = HTTPTransport.HTTPError

/// A credential that prints as `<redacted>` (the LLM gateway's type, shared so one redaction rule holds everywhere).
public typealias Secret = LLMGateway.Secret

/// Bounded retries with backoff (the LLM gateway's policy type, shared so both clients are tuned alike).
public typealias RetryPolicy = LLMGateway.RetryPolicy
