/// The OpenAPI 3.1 document of the API (`openapi.yaml` beside this file, embedded by SwiftPM),
/// served at `/openapi.yaml` and rendered at `/docs`.
public enum OpenAPIDocument {
    /// The document's YAML text, exactly as in `openapi.yaml`.
    public static let yaml = String(decoding: PackageResources.openapi_yaml, as: UTF8.self)
}
