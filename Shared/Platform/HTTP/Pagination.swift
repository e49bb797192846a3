import Foundation
import Hummingbird

/// Where a page of a newest-first list ends: the last item's creation time (to the microsecond, as
/// PostgreSQL keeps it) and id. Clients see it as an opaque string (`next_cursor`).
package struct PageCursor: Sendable, Equatable {
    package let createdAtMicroseconds: Int64
    package let id: String

    package init(createdAt: Date, id: String) {
        self.createdAtMicroseconds = Int64((createdAt.timeIntervalSince1970 * 1_000_000).rounded())
        self.id = id
    }

    /// The opaque form: base64url of `<microseconds>:<id>`.
    package var token: String {
        Data("\(createdAtMicroseconds):\(id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    package init?(token: String) {
        guard token.count <= 2_048, token.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
            let colon = text.firstIndex(of: ":"), let micros = Int64(text[..<colon])
        else { return nil }
        let id = String(text[text.index(after: colon)...])
        guard !id.isEmpty else { return nil }
        self.createdAtMicroseconds = micros
        self.id = id
    }
}

/// `?limit=&cursor=` of a paginated list: limit 1–100 (default 20); a bad value is 422 naming it.
package struct PageRequest: Sendable, Equatable {
    package static let defaultLimit = 20
    package static let maximumLimit = 100

    package let limit: Int
    package let after: PageCursor?

    package init(limit: Int = PageRequest.defaultLimit, after: PageCursor? = nil) {
        self.limit = limit
        self.after = after
    }

    package init(_ request: Request) throws {
        let query = request.uri.queryParameters
        if let text = query.get("limit") {
            guard let limit = Int(text), (1...Self.maximumLimit).contains(limit) else {
                throw APIError.validation(field: "limit", "must be a whole number from 1 to \(Self.maximumLimit)")
            }
            self.limit = limit
        } else {
            self.limit = Self.defaultLimit
        }
        if let text = query.get("cursor") {
            guard let cursor = PageCursor(token: text) else {
                throw APIError.validation(field: "cursor", "is not a cursor this list returned; start again without it")
            }
            self.after = cursor
        } else {
            self.after = nil
        }
    }

    /// The page from `limit + 1` rows fetched newest first: the first `limit`, and the cursor after
    /// them when there are more.
    package func page<Item>(_ rows: [Item], cursor: (Item) -> PageCursor) -> (items: [Item], next: PageCursor?) {
        guard rows.count > limit else { return (rows, nil) }
        let items = Array(rows.prefix(limit))
        return (items, items.last.map(cursor))
    }
}
