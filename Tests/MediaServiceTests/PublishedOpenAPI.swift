import TestSupport

/// The reader of a router's `/openapi.json`, shared by the service test targets (Tests/TestSupport).
typealias PublishedOpenAPI = TestSupport.PublishedOpenAPI
