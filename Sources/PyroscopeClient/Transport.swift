// The one file that names the HTTP layer and the shared `Secret`. When HTTPClient, HTTPRequest and HTTPError
// move to the `HTTPTransport` target, this import (and the target's dependency in Package.swift) is all that changes.
import LLMGateway

typealias HTTPClient = LLMGateway.HTTPClient
typealias HTTPRequest = LLMGateway.HTTPRequest
typealias HTTPError = LLMGateway.HTTPError

/// A credential that prints as `<redacted>` (the LLM gateway's type, shared so one redaction rule holds everywhere).
public typealias Secret = LLMGateway.Secret

/// Bounded retries with backoff (the LLM gateway's policy type, shared so both clients are tuned alike).
public typealias RetryPolicy = LLMGateway.RetryPolicy

