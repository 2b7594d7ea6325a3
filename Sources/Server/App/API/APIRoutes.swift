import HTTPServer

/// tooltool's upload-batch and file API (`/upload`, `/file`). Not served yet: every path falls through to 404.
struct APIRoutes: Sendable {
    let context: ServerContext

    /// The action for an API path, or nil when the path is not an API route.
    func route(_ head: HTTPRequestHead, caller: Caller) -> HTTPRequestAction? { nil }
}
