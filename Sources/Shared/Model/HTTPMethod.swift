/// A request method, numbered as http_parser numbers it (`enum http_method`), so a request's method is its parser
/// value checked once, with no `String` built or compared per request.
///
/// http_parser rejects any method outside this list, so every request that reaches a handler has one of these.
public enum HTTPMethod: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// RFC 9110's methods that tooltool answers: `DELETE`, `GET`, `HEAD`, `POST`, `PUT` (in http_parser's order).
    case delete = 0, get, head, post, put
    /// RFC 9110's other methods (`CONNECT`, `OPTIONS`, `TRACE`): refused by routing.
    case connect, options, trace
    /// WebDAV (RFC 4918, RFC 5842, RFC 3744): never routed here.
    case copy, lock, mkcol, move, propfind, proppatch, search, unlock, bind, rebind, unbind, acl
    /// Subversion's WebDAV extensions (DeltaV, RFC 3253): never routed here.
    case report, mkactivity, checkout, merge
    /// UPnP (`M-SEARCH`, `NOTIFY`, `SUBSCRIBE`, `UNSUBSCRIBE`): never routed here.
    case msearch, notify, subscribe, unsubscribe
    /// `PATCH` (RFC 5789; the file API's visibility change) and `PURGE` (caches).
    case patch, purge
    /// CalDAV (RFC 4791): never routed here.
    case mkcalendar
    /// RFC 2068's `LINK` and `UNLINK`: never routed here.
    case link, unlink
    /// Icecast's `SOURCE`: never routed here.
    case source

    /// The method as it is spelled on the wire, e.g. `GET`, `M-SEARCH`.
    public var name: String {
        switch self {
        case .delete: "DELETE"
        case .get: "GET"
        case .head: "HEAD"
        case .post: "POST"
        case .put: "PUT"
        case .connect: "CONNECT"
        case .options: "OPTIONS"
        case .trace: "TRACE"
        case .copy: "COPY"
        case .lock: "LOCK"
        case .mkcol: "MKCOL"
        case .move: "MOVE"
        case .propfind: "PROPFIND"
        case .proppatch: "PROPPATCH"
        case .search: "SEARCH"
        case .unlock: "UNLOCK"
        case .bind: "BIND"
        case .rebind: "REBIND"
        case .unbind: "UNBIND"
        case .acl: "ACL"
        case .report: "REPORT"
        case .mkactivity: "MKACTIVITY"
        case .checkout: "CHECKOUT"
        case .merge: "MERGE"
        case .msearch: "M-SEARCH"
        case .notify: "NOTIFY"
        case .subscribe: "SUBSCRIBE"
        case .unsubscribe: "UNSUBSCRIBE"
        case .patch: "PATCH"
        case .purge: "PURGE"
        case .mkcalendar: "MKCALENDAR"
        case .link: "LINK"
        case .unlink: "UNLINK"
        case .source: "SOURCE"
        }
    }

    /// The method spelled `name` (exact, case-sensitive as HTTP methods are), or nil.
    public init?(name: String) {
        guard let method = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = method
    }

    /// `name`.
    public var description: String { name }
}
