import Foundation
import Yams

/// Renders the OpenAPI document as a self-contained HTML page for `/docs`: inline CSS, no
/// scripts, fonts or external assets, so it works offline.
enum APIReferencePage {
    /// The page, rendered once from ``OpenAPIDocument/yaml``.
    static let html: String = render(yaml: OpenAPIDocument.yaml)

    static func render(yaml: String) -> String {
        guard let document = (try? Yams.load(yaml: yaml)) as? [String: Any] else {
            return page(title: "API reference", body: "<p>The API document could not be read.</p>")
        }
        let info = document["info"] as? [String: Any] ?? [:]
        let title = info["title"] as? String ?? "API"
        var body = "<h1>\(escape(title)) <small>\(escape(info["version"] as? String ?? ""))</small></h1>\n"
        body += paragraphs(info["description"] as? String)
        body += "<p>Machine-readable: <a href=\"/openapi.yaml\">/openapi.yaml</a> (OpenAPI 3.1).</p>\n"
        let paths = document["paths"] as? [String: Any] ?? [:]
        body += "<nav><h2>Endpoints</h2><ul>\n"
        var sections = ""
        for (path, item) in paths.sorted(by: { $0.key < $1.key }) {
            guard let item = item as? [String: Any] else { continue }
            let shared = item["parameters"] as? [Any] ?? []
            for method in ["get", "put", "post", "delete"] {
                guard let operation = item[method] as? [String: Any] else { continue }
                let anchor = (operation["operationId"] as? String) ?? "\(method)\(path)"
                let summary = operation["summary"] as? String ?? ""
                body += "<li><a href=\"#\(escape(anchor))\"><code>\(method.uppercased()) \(escape(path))</code></a> \(escape(summary))</li>\n"
                sections += operationSection(
                    method: method, path: path, anchor: anchor, operation: operation, shared: shared, document: document)
            }
        }
        body += "</ul></nav>\n" + sections
        if let schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: Any] {
            body += "<h2>Schemas</h2>\n"
            for (name, schema) in schemas.sorted(by: { $0.key < $1.key }) {
                body += "<section id=\"schema-\(escape(name))\"><h3>\(escape(name))</h3>\(schemaBlock(schema, document: document))</section>\n"
            }
        }
        return page(title: "\(title) API reference", body: body)
    }

    private static func operationSection(
        method: String, path: String, anchor: String, operation: [String: Any], shared: [Any], document: [String: Any]
    ) -> String {
        var out = "<section class=\"op\" id=\"\(escape(anchor))\"><h2><span class=\"method \(method)\">\(method.uppercased())</span> <code>\(escape(path))</code></h2>\n"
        out += "<p class=\"summary\">\(escape(operation["summary"] as? String ?? ""))</p>\n"
        out += paragraphs(operation["description"] as? String)
        if operation["security"] != nil { out += "<p class=\"auth\">Requires <code>Authorization: Bearer &lt;JWT&gt;</code>.</p>\n" }
        let parameters = (shared + (operation["parameters"] as? [Any] ?? [])).compactMap { resolve($0, document) as? [String: Any] }
        if !parameters.isEmpty {
            out += "<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>description</th></tr>\n"
            for parameter in parameters {
                let required = parameter["required"] as? Bool == true ? " <em>required</em>" : ""
                out += "<tr><td><code>\(escape(parameter["name"] as? String ?? ""))</code>\(required)</td><td>\(escape(parameter["in"] as? String ?? ""))</td><td>\(inlineCode(escape(parameter["description"] as? String ?? "")))</td></tr>\n"
            }
            out += "</table>\n"
        }
        if let requestBody = resolve(operation["requestBody"] as Any, document) as? [String: Any],
            let content = requestBody["content"] as? [String: Any]
        {
            out += "<h4>Request body</h4>\n"
            for (type, media) in content {
                out += "<p><code>\(escape(type))</code></p>\(schemaBlock((media as? [String: Any])?["schema"] as Any, document: document))"
                out += examplesBlock(media, document: document)
            }
        }
        if let responses = operation["responses"] as? [String: Any] {
            out += "<h4>Responses</h4><table><tr><th>status</th><th>description</th></tr>\n"
            for (status, response) in responses.sorted(by: { $0.key < $1.key }) {
                let resolved = resolve(response, document) as? [String: Any] ?? [:]
                out += "<tr><td><code>\(escape(status))</code></td><td>\(inlineCode(escape(resolved["description"] as? String ?? "")))</td></tr>\n"
            }
            out += "</table>\n"
            for (status, response) in responses.sorted(by: { $0.key < $1.key }) {
                let content = (resolve(response, document) as? [String: Any])?["content"] as? [String: Any] ?? [:]
                for (type, media) in content.sorted(by: { $0.key < $1.key }) {
                    let examples = examplesBlock(media, document: document)
                    if !examples.isEmpty {
                        out += "<details><summary>\(escape(status)) <code>\(escape(type))</code> examples</summary>\n\(examples)</details>\n"
                    }
                }
            }
        }
        return out + "</section>\n"
    }

    /// The `example` and `examples` of a media type, each as a titled block.
    private static func examplesBlock(_ media: Any, document: [String: Any]) -> String {
        guard let media = media as? [String: Any] else { return "" }
        var blocks: [(title: String, value: Any)] = []
        if let example = media["example"] { blocks.append(("Example", example)) }
        for (name, raw) in (media["examples"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let example = resolve(raw, document) as? [String: Any], let value = example["value"] else { continue }
            blocks.append(((example["summary"] as? String) ?? name, value))
        }
        return blocks.map { block in
            "<p class=\"example\">\(escape(block.title))</p><pre>\(escape(exampleText(block.value)))</pre>\n"
        }.joined()
    }

    /// An example value as it is sent: JSON for objects and arrays, text as it is.
    private static func exampleText(_ value: Any) -> String {
        if let text = value as? String { return text }
        guard JSONSerialization.isValidJSONObject(value),
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys])
        else { return "\(value)" }
        return String(decoding: data, as: UTF8.self)
    }

    /// A schema as an indented outline of its properties and rules.
    private static func schemaBlock(_ raw: Any, document: [String: Any], depth: Int = 0) -> String {
        if let reference = (raw as? [String: Any])?["$ref"] as? String {
            let name = String(reference.split(separator: "/").last ?? "")
            return "<p>See <a href=\"#schema-\(escape(name))\">\(escape(name))</a>.</p>\n"
        }
        guard let schema = raw as? [String: Any], depth < 4 else { return "" }
        var rules: [String] = []
        for key in ["type", "enum", "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "pattern", "format"] {
            if let value = schema[key] { rules.append("\(key): \(value)") }
        }
        var out = rules.isEmpty ? "" : "<p class=\"rules\">\(escape(rules.joined(separator: "; ")))</p>\n"
        out += paragraphs(schema["description"] as? String)
        if let properties = schema["properties"] as? [String: Any] {
            let required = Set(schema["required"] as? [String] ?? [])
            out += "<table><tr><th>field</th><th>schema</th></tr>\n"
            for (name, property) in properties.sorted(by: { $0.key < $1.key }) {
                let flag = required.contains(name) ? " <em>required</em>" : ""
                out += "<tr><td><code>\(escape(name))</code>\(flag)</td><td>\(schemaBlock(property, document: document, depth: depth + 1))</td></tr>\n"
            }
            out += "</table>\n"
        }
        if let items = schema["items"] { out += "<p>Items:</p>" + schemaBlock(items, document: document, depth: depth + 1) }
        return out
    }

    private static func resolve(_ value: Any, _ document: [String: Any]) -> Any? {
        guard let reference = (value as? [String: Any])?["$ref"] as? String, reference.hasPrefix("#/") else { return value }
        var current: Any? = document
        for part in reference.dropFirst(2).split(separator: "/") {
            current = (current as? [String: Any])?[String(part)]
        }
        return current
    }

    private static func paragraphs(_ text: String?) -> String {
        guard let text, !text.isEmpty else { return "" }
        return text.components(separatedBy: "\n\n").map { "<p>\(inlineCode(escape($0)))</p>\n" }.joined()
    }

    /// Turns `code` spans into <code> elements (after escaping).
    private static func inlineCode(_ text: String) -> String {
        let parts = text.split(separator: "`", omittingEmptySubsequences: false)
        guard parts.count > 2 else { return text }
        return parts.enumerated().map { index, part in index % 2 == 1 ? "<code>\(part)</code>" : String(part) }.joined()
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }

    private static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 960px; margin: 2em auto; padding: 0 1em; color: #1d1d1f; }
        h1 small { color: #888; font-weight: normal; font-size: 0.6em; }
        h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
        code { font-family: ui-monospace, Menlo, Consolas, monospace; background: #f4f4f6; padding: 0 0.25em; border-radius: 3px; }
        table { border-collapse: collapse; width: 100%; margin: 0.5em 0; }
        th, td { text-align: left; vertical-align: top; border: 1px solid #e2e2e6; padding: 0.35em 0.6em; }
        th { background: #f7f7f9; }
        .method { display: inline-block; min-width: 4.5em; text-align: center; color: #fff; border-radius: 4px; padding: 0 0.4em; font-size: 0.8em; }
        .get { background: #2f6fdb; } .put { background: #c77c02; } .post { background: #1f9d55; } .delete { background: #d0342c; }
        .summary { font-weight: 600; } .auth { color: #a05a00; } .rules { color: #555; font-size: 0.9em; margin: 0; }
        nav ul { columns: 2; }
        </style></head>
        <body>
        \(body)
        </body></html>
        """
    }
}
