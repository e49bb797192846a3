import ECGPlatform
import Foundation
import Hummingbird
import Testing

@Suite("The OpenAPI document follows the routes")
struct OpenAPIDocumentTests {
    @Test("every documented route is served and described, with path parameters and security")
    func documentMatchesRoutes() async throws {
        let router = Router(context: ECGRequestContext.self)
        let document = OpenAPIDocument(title: "example-service")
        let routes = DocumentedRoutes(router, document: document, security: .userBearer)
        routes.get("/api/things/{thing_id}", OpenAPIOperation("Read a thing", responses: [200: .init("The thing", .record(["id": .text]))])) {
            _,
            context in
            context.parameters.get("thing_id") ?? ""
        }
        #expect(document.operations.map { "\($0.method) \($0.path)" } == ["GET /api/things/{thing_id}"])

        let json = try #require(try JSONSerialization.jsonObject(with: document.jsonData()) as? [String: Any])
        #expect(json["openapi"] as? String == "3.1.0")
        let paths = try #require(json["paths"] as? [String: Any])
        let get = try #require((paths["/api/things/{thing_id}"] as? [String: Any])?["get"] as? [String: Any])
        let parameters = try #require(get["parameters"] as? [[String: Any]])
        #expect(parameters.first?["name"] as? String == "thing_id")
        #expect(parameters.first?["in"] as? String == "path")
        #expect((get["security"] as? [[String: Any]])?.first?["userToken"] != nil)

        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/api/things/42", method: .get) { response in
                #expect(String(buffer: response.body) == "42")
            }
        }
    }
}
