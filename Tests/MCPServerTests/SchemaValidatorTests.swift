import JSONCore
import MCPServer
import Testing

/// The validator behind argument checks and the session test's result checks, on literal schemas.
@Suite struct SchemaValidatorTests {
    let schema = Schema.object(
        ["n": Schema.integer("", range: 1 ... 10), "s": Schema.string("", oneOf: ["a", "b"], maxLength: 3),
         "list": Schema.array(Schema.text, maxItems: 2), "o": Schema.object(["x": Schema.bool], required: ["x"])],
        required: ["n"])

    @Test func acceptsWhatTheSchemaAllows() {
        #expect(SchemaValidator.validate(["n": 3, "s": "a", "list": ["x"], "o": ["x": true]], against: schema).isEmpty)
        #expect(SchemaValidator.validate(["n": .double(3.0)], against: schema).isEmpty)  // 3.0 is an integer in JSON Schema
    }

    @Test func namesEveryProblemAndItsPlace() {
        let problems = SchemaValidator.validate(
            ["n": 0, "s": "c", "list": ["a", "b", "c"], "o": [:], "extra": 1], against: schema)
        #expect(problems.contains("'n' must be at least 1"))
        #expect(problems.contains { $0.hasPrefix("'s' must be one of") })
        #expect(problems.contains("'list' must have at most 2 items"))
        #expect(problems.contains("'o.x' is required"))
        #expect(problems.contains { $0.hasPrefix("'extra' is not a known property") })
        #expect(SchemaValidator.validate(["n": "3"], against: schema) == ["'n' must be an integer, not a string"])
        #expect(SchemaValidator.validate([:], against: schema) == ["'n' is required"])
        #expect(SchemaValidator.validate(["n": 2, "list": [1]], against: schema) == ["'list[0]' must be a string, not a number"])
        #expect(SchemaValidator.validate(.array([]), against: schema) == ["the value must be an object, not an array"])
    }

    @Test func oneOfTwoKeys() {
        guard case .object(var o) = Schema.object(["path": Schema.text, "pprof": Schema.text]) else { return }
        o["minProperties"] = 1
        o["maxProperties"] = 1
        let profile = JSONValue.object(o)
        #expect(SchemaValidator.validate(["path": "a"], against: profile).isEmpty)
        #expect(SchemaValidator.validate([:], against: profile) == ["the value needs exactly one of: path, pprof"])
        #expect(SchemaValidator.validate(["path": "a", "pprof": "b"], against: profile) == ["the value needs exactly one of: path, pprof"])
        o["maxProperties"] = 2
        o["properties"] = ["path": Schema.text, "pprof": Schema.text, "encoding": Schema.text]
        o[SchemaValidator.exactlyOneOf] = ["path", "pprof"]
        let withEncoding = JSONValue.object(o)
        #expect(SchemaValidator.validate(["path": "a", "encoding": "auto"], against: withEncoding).isEmpty)
        #expect(SchemaValidator.validate(["encoding": "auto"], against: withEncoding) == ["the value needs exactly one of: path, pprof"])
        #expect(SchemaValidator.validate(["path": "a", "pprof": "b"], against: withEncoding) == ["the value needs exactly one of: path, pprof"])
    }
}
