// bench-ceiling: the framework's own ceilings for `make bench` (issue 13, item 1). Bench-only: no
// Dockerfile product ships it.
//
// - `GET /health`: a bare Hummingbird 2 route answering the JSON auth-service's `/health` answers,
//   with no middleware: the most a route on this framework, these cores and this wrk can give.
// - `GET /me/{id}`: a bare PostgresNIO `PostgresClient` (the services' pool settings) running the
//   prepared lookup `/api/auth/me` runs for user `id`, answered as JSON: no token, no middleware.
//
// - `POST /api/upload-video/ceiling/videos/{owner}`: the same kind of bare client running the
//   prepared statement generate-url runs (reserve one byte of the owner's quota and insert a pending
//   video under a new key), answered as JSON: no token, no body, no presigning, no middleware.
// - `POST /api/upload-video/ceiling/videos-grouped/{owner}`: the same, with concurrent requests'
//   inserts grouped into one statement per round trip as generate-url groups them (`StatementBatcher`).
//
// The paths are ones the gateway's routes (compose/nginx/routes.conf) forward, `/health` to
// auth-service's upstream and `/api/upload-video/…` to media-service's, so that `make bench` can also
// measure them through an nginx with the gateway's own configuration (bench/run.sh).
//
// Environment: BENCH_CEILING_PORT (default 18090), DATABASE_URL (the auth-service role's URL;
// without it `/me` answers 503), MEDIA_DATABASE_URL (the media-service role's; without it
// the insert routes answer 503), DATABASE_POOL_SIZE (default 8, as the services), TASKS_ON_EVENT_LOOPS
// (default on, read and applied as the services read it: the handlers run where the services' handlers
// run; a value other than true or false ends the run with exit code 78).
import ECGDatabase
import ECGPlatform
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

// Read and applied as the services do (`ServiceMain`): a malformed value stops the run.
let settings = EnvironmentSettings()
if EventLoopTasks.enabled(settings) { _ = EventLoopTasks.install() }
do {
    try settings.validate()
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(78)
}

struct Health: Encodable, Sendable {
    let status: String
    let service: String
}

struct Me: Encodable, Sendable {
    let id: Int64
    let username: String
    let email: String
    let auth_provider: String
    let is_active: Bool
    let created_at: Date
}

/// The statement `PostgresUserRepository.find(id:)` prepares, schema-qualified.
struct FindUserByID: PostgresPreparedStatement {
    static let sql = "SELECT id, username, email, password_hash, auth_provider, google_sub, is_active, created_at FROM auth.users WHERE id = $1"
    typealias Row = (Int64, String, String, String?, String, String?, Bool, Date)
    let id: Int64
    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(id)
        return bindings
    }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// The statement `PostgresVideoRepository.create` prepares, schema-qualified; the quota is
/// media-service's default (10 GiB).
struct ReserveAndInsertVideo: PostgresPreparedStatement {
    static let sql = """
        WITH commit_mode AS (SELECT set_config('synchronous_commit', 'off', true)),
        reserved AS (
            INSERT INTO media.storage_usage AS usage (owner_id, reserved_bytes)
            SELECT $2::bigint, 1 WHERE 1 <= 10737418240
            ON CONFLICT (owner_id) DO UPDATE SET reserved_bytes = usage.reserved_bytes + excluded.reserved_bytes
            WHERE usage.reserved_bytes + excluded.reserved_bytes <= 10737418240
            RETURNING owner_id
        )
        INSERT INTO media.videos (file_key, owner_id, filename, content_type, declared_size_bytes, status, created_at, updated_at)
        SELECT $1::text, reserved.owner_id, 'bench clip.mp4', 'video/mp4', 1, 'pending', $3::timestamptz, $3::timestamptz
        FROM reserved, commit_mode
        RETURNING 1
        """
    typealias Row = Int32
    let fileKey: String
    let owner: Int64
    let createdAt: Date
    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(fileKey)
        bindings.append(owner)
        bindings.append(createdAt)
        return bindings
    }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// The statement `PostgresVideoRepository.create` runs for a group of concurrent requests,
/// schema-qualified, with the same fixed values as `ReserveAndInsertVideo`.
struct ReserveAndInsertVideos: PostgresPreparedStatement {
    static let sql = """
        WITH commit_mode AS (SELECT set_config('synchronous_commit', 'off', true)),
        requested AS (
            SELECT * FROM unnest($1::text[], $2::bigint[], $3::timestamptz[]) AS requested (file_key, owner_id, created_at)
        ),
        per_owner AS (SELECT owner_id, count(*)::bigint AS bytes FROM requested GROUP BY owner_id),
        reserved AS (
            INSERT INTO media.storage_usage AS usage (owner_id, reserved_bytes)
            SELECT owner_id, bytes FROM per_owner WHERE bytes <= 10737418240 ORDER BY owner_id
            ON CONFLICT (owner_id) DO UPDATE SET reserved_bytes = usage.reserved_bytes + excluded.reserved_bytes
            WHERE usage.reserved_bytes + excluded.reserved_bytes <= 10737418240
            RETURNING owner_id
        )
        INSERT INTO media.videos (file_key, owner_id, filename, content_type, declared_size_bytes, status, created_at, updated_at)
        SELECT requested.file_key, requested.owner_id, 'bench clip.mp4', 'video/mp4', 1, 'pending', requested.created_at, requested.created_at
        FROM requested JOIN reserved USING (owner_id), commit_mode
        RETURNING file_key
        """
    typealias Row = String
    let group: [ReserveAndInsertVideo]
    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(group.map(\.fileKey))
        bindings.append(group.map(\.owner))
        bindings.append(group.map(\.createdAt))
        return bindings
    }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

struct Created: Encodable, Sendable {
    let file_key: String
}

func json(_ value: some Encodable) throws -> Response {
    // Foundation's JSONEncoder per request, as a plain Hummingbird app answers; the services' JSONResponse
    // writes its bodies with ResponseJSON, which costs less, so for its encoding a ceiling is a little low.
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    var headers = HTTPFields()
    headers[.contentType] = "application/json; charset=utf-8"
    return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
}

let environment = ProcessInfo.processInfo.environment
var logger = Logger(label: "bench-ceiling")
logger.logLevel = .warning
let port = Int(environment["BENCH_CEILING_PORT"] ?? "") ?? 18090
let postgres: PostgresClient? = try environment["DATABASE_URL"].map {
    PostgresClient(
        configuration: try .fromURL($0, maximumConnections: Int(environment["DATABASE_POOL_SIZE"] ?? "") ?? 8),
        backgroundLogger: logger
    )
}

let mediaPostgres: PostgresClient? = try environment["MEDIA_DATABASE_URL"].map {
    PostgresClient(
        configuration: try .fromURL($0, maximumConnections: Int(environment["DATABASE_POOL_SIZE"] ?? "") ?? 8),
        backgroundLogger: logger
    )
}

let router = Router()
router.get("/health") { _, _ in try json(Health(status: "healthy", service: "auth-service")) }
router.get("/me/{id}") { _, context -> Response in
    guard let postgres else { return Response(status: .serviceUnavailable) }
    let id = try context.parameters.require("id", as: Int64.self)
    for try await row in try await postgres.execute(FindUserByID(id: id), logger: logger) {
        return try json(Me(id: row.0, username: row.1, email: row.2, auth_provider: row.4, is_active: row.6, created_at: row.7))
    }
    return Response(status: .notFound)
}

router.post("/api/upload-video/ceiling/videos/{owner}") { _, context -> Response in
    guard let mediaPostgres else { return Response(status: .serviceUnavailable) }
    let owner = try context.parameters.require("owner", as: Int64.self)
    let fileKey = "uploads/ceiling/\(UUID().uuidString.lowercased()).mp4"
    for try await _ in try await mediaPostgres.execute(ReserveAndInsertVideo(fileKey: fileKey, owner: owner, createdAt: Date()), logger: logger) {
        return try json(Created(file_key: fileKey))
    }
    return Response(status: .init(code: 507, reasonPhrase: "Insufficient Storage"))
}

/// media-service's grouping of concurrent inserts (`PostgresVideoRepository.pendingVideoBatcher`: one lane).
let groupedInserts = mediaPostgres.map { mediaPostgres in
    StatementBatcher<ReserveAndInsertVideo, Bool>(lanes: 1, maxGroupSize: 64) { group in
        if group.count == 1 {
            for try await _ in try await mediaPostgres.execute(group[0], logger: logger) { return [.success(true)] }
            return [.success(false)]
        }
        var created: Set<String> = []
        for try await fileKey in try await mediaPostgres.execute(ReserveAndInsertVideos(group: group), logger: logger) { created.insert(fileKey) }
        return group.map { .success(created.contains($0.fileKey)) }
    }
}

router.post("/api/upload-video/ceiling/videos-grouped/{owner}") { _, context -> Response in
    guard let groupedInserts else { return Response(status: .serviceUnavailable) }
    let owner = try context.parameters.require("owner", as: Int64.self)
    let fileKey = "uploads/ceiling/\(UUID().uuidString.lowercased()).mp4"
    guard try await groupedInserts.submit(ReserveAndInsertVideo(fileKey: fileKey, owner: owner, createdAt: Date())) else {
        return Response(status: .init(code: 507, reasonPhrase: "Insufficient Storage"))
    }
    return try json(Created(file_key: fileKey))
}

var app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil), logger: logger)
if let postgres { app.addServices(postgres) }
if let mediaPostgres { app.addServices(mediaPostgres) }
if let groupedInserts { app.addServices(groupedInserts) }
try await app.runService()
