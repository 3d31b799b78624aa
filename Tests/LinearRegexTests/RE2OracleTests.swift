import Foundation
import LinearRegex
import Testing

/// One row of Fixtures/re2-cases.jsonl, written by scripts/gen-regex-fixtures from Go's regexp (RE2
/// syntax): a pattern and an input with Go's `MatchString` result, or a pattern Go rejects with its error.
struct OracleCase: Sendable, Decodable, CustomTestStringConvertible {
    var pattern: String
    var input: String?
    /// The input's bytes in hex when they are not valid UTF-8 (`input` then has U+FFFD in their place).
    var inputHex: String?
    var match: Bool?
    var error: String?

    var testDescription: String {
        if let error {
            return "/\(pattern)/ rejected (\(error.replacingOccurrences(of: "error parsing regexp: ", with: "")))"
        }
        let shown = inputHex.map { "0x\($0)" } ?? input!.debugDescription
        return "/\(pattern)/ on \(shown.count > 60 ? String(shown.prefix(57)) + "..." : shown) → \(match!)"
    }

    var bytes: [UInt8] {
        guard let hex = inputHex else { return Array(input!.utf8) }
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map {
            UInt8(String(decoding: digits[$0 ... $0 + 1], as: UTF8.self), radix: 16)!
        }
    }

    static let all: [OracleCase] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/re2-cases.jsonl")
        let text = try! String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").map { try! JSONDecoder().decode(OracleCase.self, from: Data($0.utf8)) }
    }()
}

@Suite struct RE2OracleTests {
    @Test func theTableIsBigEnough() {
        #expect(OracleCase.all.count >= 400)
        #expect(OracleCase.all.filter { $0.match == true }.count >= 150)
        #expect(OracleCase.all.filter { $0.match == false }.count >= 150)
        #expect(OracleCase.all.filter { $0.error != nil }.count >= 60)
    }

    /// Same answer as Go's `regexp.MatchString`, through the String and the bytes entry points.
    @Test(arguments: OracleCase.all.filter { $0.error == nil })
    func matchesLikeGo(_ c: OracleCase) throws {
        let re = try LinearRegex(c.pattern)
        #expect(re.matches(utf8: c.bytes) == c.match)
        if c.inputHex == nil {
            #expect(re.matches(c.input!) == c.match)
            #expect(re.matches(Substring(c.input!)) == c.match)
        }
    }

    /// Rejected where Go rejects, for the same reason.
    @Test(arguments: OracleCase.all.filter { $0.error != nil })
    func rejectsLikeGo(_ c: OracleCase) {
        let goReason =
            c.error!.replacingOccurrences(of: "error parsing regexp: ", with: "")
            .split(separator: ":").first.map(String.init) ?? ""
        do {
            _ = try LinearRegex(c.pattern)
            Issue.record("accepted; Go says \(c.error!)")
        } catch {
            #expect(Self.goReasons(error).contains(goReason), "\(error)")
        }
    }

    /// The reasons Go's regexp/syntax gives for what LinearRegexError calls `error`.
    static func goReasons(_ error: LinearRegexError) -> [String] {
        switch error {
        case .missingClosingParenthesis: ["missing closing )"]
        case .unexpectedClosingParenthesis: ["unexpected )"]
        case .missingClosingBracket: ["missing closing ]"]
        case .invalidCharacterRange, .invalidCharacterClass: ["invalid character class range"]
        case .invalidEscape: ["invalid escape sequence"]
        case .trailingBackslash: ["trailing backslash at end of expression"]
        case .missingRepeatArgument: ["missing argument to repetition operator"]
        case .nestedRepeatOperator: ["invalid nested repetition operator"]
        case .invalidRepeatCount, .repeatTooLarge: ["invalid repeat count"]
        case .invalidGroup, .lookaround: ["invalid or unsupported Perl syntax"]
        case .invalidCaptureName: ["invalid named capture"]
        case .backreference: ["invalid escape sequence", "invalid or unsupported Perl syntax"]
        case .nestingTooDeep: ["expression nests too deeply"]
        case .programTooLarge: ["expression too large"]
        }
    }
}
