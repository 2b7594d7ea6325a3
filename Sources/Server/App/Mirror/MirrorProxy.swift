import HTTPServer
import S3
import Shared

/// Passes one JSON API request to the mirror's upstream and its answer back, whatever its status (`MirrorRedirect`
/// says which requests and why).
///
/// The request body is read here first, at most `limit` bytes (413 past it, as the upstream would answer); the
/// upstream's answer is collected whole, at most 4 MiB (a larger one is 502), then sent on. The exchange runs on the
/// `CurlFetcher`'s loop thread, never on an HTTP event loop. The requester's `Authorization` goes upstream as it
/// came and is never logged; the upstream is reached with its own `Host`, so the `put_url`s it hands out point at
/// it, and the blob PUTs go there directly. Not retried on another upstream: a POST may have been acted on.
enum MirrorProxy {
    /// Request header fields passed upstream (`Host` is the upstream's own; hop-by-hop fields stay here).
    private static let requestFields = ["Authorization", "Content-Type", "Accept"]
    /// Answer header fields passed back (the layer writes `Content-Length`, `Date` and `Connection` itself).
    private static let answerFields = [
        "content-type", "cache-control", "etag", "location", "allow", "www-authenticate",
        "retry-after", "x-retry-after", "content-disposition"
    ]

    /// Reads the body, then asks the upstream.
    static func action(for head: HTTPRequestHead, mirror: Mirror, limit: Int) -> HTTPRequestAction {
        BufferedBodyConsumer.action(for: head, limit: limit) { head, body, responder in
            let headers = requestFields.compactMap { name in head.headers[name].map { (name, $0) } }
            let upstream = mirror.primaryUpstream
            mirror.fetcher.exchange(
                RequestMethod(rawValue: head.method.name), upstream + head.target, headers: headers, body: body,
                connectTimeout: mirror.connectTimeout, stallTimeout: mirror.stallTimeout
            ) { result in
                responder.send(answer(result, upstream: upstream, method: head.method))
            }
        }
    }

    private static func answer(
        _ result: Result<S3Response, CurlFetchError>, upstream: String, method: HTTPMethod
    ) -> HTTPResponse {
        switch result {
        case .success(let answer):
            var headers = HTTPHeaders()
            for (name, value) in answer.headers where answerFields.contains(name) { headers.add(name, value) }
            if method == .head, let length = answer.header("content-length") { headers.add("Content-Length", length) }
            return HTTPResponse(
                status: HTTPStatus(code: answer.status), headers: headers,
                body: method == .head ? .empty : .bytes(answer.body))
        case .failure(let error):
            ServerLog.error("mirror: proxying to \(upstream) failed: \(error)")
            let failure: MirrorFailure =
                error.isTimeout ? .gatewayTimeout("\(upstream): \(error)") : .badGateway("\(upstream): \(error)")
            return APIResponse.error(failure.status, failure.name, failure.description)
        }
    }
}
