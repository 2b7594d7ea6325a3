import Shared

/// The body of `POST /tokens`: `{"user": NAME, "permissions": [PERMISSION, ...]}`.
struct TokenRequest {
    /// Who the token is for (the author of its uploads).
    let user: String
    /// What it may do (at least one).
    let permissions: Set<Permission>

    /// Parses and validates the body; 400 failures say what was expected and what was got.
    init(_ document: JSONValue) throws(APIFailure) {
        guard document.objectValue != nil else {
            throw .badRequest(.badRequest, "the body must be a JSON object, got \(document.typeName)")
        }
        guard let userValue = document["user"] else { throw .badRequest(.badRequest, "user is missing") }
        guard let user = userValue.stringValue else {
            throw .badRequest(.badRequest, "user must be a string, got \(userValue.typeName)")
        }
        guard user.contains(where: { !$0.isWhitespace }) else {
            throw .badRequest(.badRequest, "user must not be empty")
        }
        guard let listValue = document["permissions"] else { throw .badRequest(.badRequest, "permissions is missing") }
        guard let list = listValue.arrayValue else {
            throw .badRequest(.badRequest, "permissions must be a list of names, got \(listValue.typeName)")
        }
        var permissions = Set<Permission>()
        for item in list {
            guard let name = item.stringValue else {
                throw .badRequest(.badRequest, "permissions must hold strings, got \(item.typeName)")
            }
            guard let permission = Permission(name: name) else {
                throw .badRequest(
                    .badPermission,
                    "unknown permission \(name.debugDescription); known: "
                        + Permission.allCases.map(\.rawValue).joined(separator: ", "))
            }
            permissions.insert(permission)
        }
        guard !permissions.isEmpty else {
            throw .badRequest(.badRequest, "permissions must name at least one, got none")
        }
        self.user = user
        self.permissions = permissions
    }
}
