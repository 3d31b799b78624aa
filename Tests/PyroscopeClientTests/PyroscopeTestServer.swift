import Foundation
import HTTPTransport
import TestSupport

/// What the test server saw (`GET /test/requests`); the server process itself is TestSupport's `PyroscopeTestServer`.
extension PyroscopeTestServer {
    /// One request as the server saw it.
    struct SeenRequest: Decodable, Equatable {
        var path: String
        var contentType: String
        var acceptEncoding: String
        var connectProtocolVersion: String
        var tenant: String?
        var auth: String

        var method: String { String(path.split(separator: "/").last ?? "") }
    }

    /// The requests the server has seen so far, in order.
    func requests() async throws -> [SeenRequest] {
        let response = try await HTTPClient.send(HTTPRequest(url: baseURL + "/test/requests"))
        return try JSONDecoder().decode([SeenRequest].self, from: Data(response.body))
    }
}
