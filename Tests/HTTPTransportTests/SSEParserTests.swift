import HTTPTransport
import Testing

@Suite struct SSEParserTests {
    @Test func eventsSplitAnywhereArriveWhole() throws {
        let stream = Array(": keep-alive\n\ndata: {\"a\":1}\n\nevent: x\ndata: line1\ndata: line2\nid: 7\n\ndata: [DONE]\n\n".utf8)
        // Every split point gives the same events.
        for cut in 0 ... stream.count {
            var parser = SSEParser()
            let events = try parser.feed(stream[..<cut]) + parser.feed(stream[cut...])
            #expect(events == [
                SSEEvent(data: "{\"a\":1}"), SSEEvent(event: "x", data: "line1\nline2", id: "7"), SSEEvent(data: "[DONE]", id: "7"),
            ])
        }
    }

    @Test func crlfAndCrLineEndings() throws {
        var crlf = SSEParser()
        #expect(try crlf.feed(Array("data: a\r\n\r\ndata: b\r\n\r\n".utf8)) == [SSEEvent(data: "a"), SSEEvent(data: "b")])
        var cr = SSEParser()
        #expect(try cr.feed(Array("data: a\r\rdata:b\r\r".utf8)) == [SSEEvent(data: "a"), SSEEvent(data: "b")])
        // A CRLF split between two reads is one line end, not two.
        var split = SSEParser()
        let first = try split.feed(Array("data: a\r".utf8))
        let second = try split.feed(Array("\n\r\n".utf8))
        #expect(first + second == [SSEEvent(data: "a")])
    }

    @Test func commentsAndUnknownFieldsAreIgnored() throws {
        var parser = SSEParser()
        #expect(try parser.feed(Array(":comment\nretry: 10\nfoo: bar\n\n".utf8)).isEmpty)
        #expect(try parser.feed(Array("data\n\n".utf8)) == [SSEEvent(data: "")])
    }

    @Test func anIncompleteEventIsNotDispatched() throws {
        var parser = SSEParser()
        #expect(try parser.feed(Array("data: half".utf8)).isEmpty)
    }

    @Test func overlongLinesAreRefused() {
        var parser = SSEParser(maxLineBytes: 16)
        #expect(throws: SSEError.lineTooLong(limit: 16)) { try parser.feed(Array(repeating: UInt8(ascii: "x"), count: 17)) }
    }
}
