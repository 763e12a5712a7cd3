import Testing

@testable import PresenceHTTP

@Suite("RequestBody.isJSON")
struct RequestBodyTests {
    @Test("JSON media types", arguments: [
        "application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8", "Application/JSON",
        "APPLICATION/JSON; CHARSET=UTF-8", " application/json ", "application/merge-patch+json",
        "application/problem+json; charset=utf-8", "application/vnd.api+json",
    ])
    func json(type: String) {
        #expect(RequestBody.isJSON(type))
    }

    @Test("other media types", arguments: [
        "", "text/plain", "text/json", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data",
        "application/jsonp", "application/json5", "application/javascript", "text/plain+json", "json",
        "application", "application/json-seq", "*/*",
    ])
    func notJSON(type: String) {
        #expect(!RequestBody.isJSON(type))
    }
}
